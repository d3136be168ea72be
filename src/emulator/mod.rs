//! The offline Genesys Cloud emulator (axum): OAuth, flows, Architect jobs that read the
//! YAML like Architect does, dependency tracking, queues, divisions, rate limits and faults.

/// The client id the emulator accepts by default.
pub const DEFAULT_CLIENT_ID: &str = "flowctl-emulator";
/// The client secret the emulator accepts by default (not a secret: it guards a local toy).
pub const DEFAULT_CLIENT_SECRET: &str = "emulator-secret";
