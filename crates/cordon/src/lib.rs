//! The `cordon` binary's library half: configuration, wiring and the CLI, so integration tests
//! can start the real server in-process on port 0.

pub mod cli;
pub mod cli_auth;
pub mod cli_chat;
pub mod cli_comms;
pub mod cli_evidence;
pub mod cli_help;
pub mod cli_lifecycle;
pub mod cli_output;
pub mod cli_page;
pub mod cli_registers;
pub mod cli_session;
pub mod cli_timeline;
pub mod cli_user;
pub mod cli_values;
pub mod client;
pub mod clock;
pub mod config;
pub mod serve;
pub mod wiring;
