//! `cordon timeline …` (issue 4).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum TimelineCmd {}

pub async fn run(cmd: TimelineCmd) -> anyhow::Result<i32> {
    match cmd {}
}
