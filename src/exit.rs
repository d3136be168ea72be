//! flowctl's documented, stable exit codes: a leaf that the flags' help text and the
//! top-level error both use. Which error gets which code is decided in one place,
//! [`crate::error::Error::exit_status`].

use std::process::ExitCode;

/// The exit codes, shown in `--help` and the README. Scripts rely on them: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success.
    Success = 0,
    /// 1: verification found problems.
    VerifyFailed = 1,
    /// 2: invalid input or configuration; nothing was changed.
    InvalidInput = 2,
    /// 3: authentication or permission failure.
    AuthFailed = 3,
    /// 4: Genesys Cloud rejected or failed the operation.
    Rejected = 4,
    /// 5: network failure, timeout or retries exhausted.
    Network = 5,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// The exit-code table as it appears in `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  verification found problems
  2  invalid input or configuration; nothing was changed
  3  authentication or permission failure
  4  Genesys Cloud rejected or failed the operation
  5  network failure, timeout or retries exhausted";
