//! `cordon evidence …` (issue 5).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum EvidenceCmd {}

pub async fn run(cmd: EvidenceCmd) -> anyhow::Result<i32> {
    match cmd {}
}
