//! The offline Genesys Cloud emulator (axum): OAuth, flows, Architect jobs that read the
//! YAML like Architect does, dependency tracking, queues, divisions, rate limits and faults.

/// The client id the emulator accepts by default.
pub const DEFAULT_CLIENT_ID: &str = "flowctl-emulator";
/// The client secret the emulator accepts by default (not a secret: it guards a local toy).
pub const DEFAULT_CLIENT_SECRET: &str = "emulator-secret";

use std::path::PathBuf;
use std::time::Duration;

/// Stub until the emulator lands.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    pub job_time: Duration,
    pub index_lag: Duration,
    pub state_file: Option<PathBuf>,
}

pub struct Emulator {}

impl Emulator {
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, crate::Error> {
        let _ = config;
        todo!()
    }
    pub fn base_url(&self) -> String {
        todo!()
    }
    pub async fn shutdown(self) {}
}

pub async fn serve(args: &crate::cli::EmulatorServeArgs) -> Result<(), crate::Error> {
    let _ = args;
    todo!()
}
