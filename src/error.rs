//! flowctl's top-level error and its documented, stable exit codes.
//!
//! Every failure a user can cause ends here; [`Error::exit_status`] is the one place that
//! chooses the exit code, and [`Error::hint`] the next step printed under the message.

use crate::client::ClientError;
use crate::config::ConfigError;
use crate::flow::FlowError;
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

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Configuration could not be resolved (credentials, region, base URLs).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A flow definition, template parameter or user file is invalid.
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// A user-supplied value is wrong (unknown queue, module not published, bad flag).
    #[error("{message}")]
    Input {
        message: String,
        hint: Option<String>,
    },
    /// The API or the login service failed.
    #[error(transparent)]
    Client(Box<ClientError>),
    /// Genesys Cloud refused or failed an operation (a failed Architect job, a lock).
    #[error("{message}")]
    Rejected {
        message: String,
        hint: Option<String>,
    },
    /// `verify` found problems; the report has already been printed.
    #[error("verification failed: {failed} check(s) failed, {unknown} unknown")]
    VerificationFailed { failed: usize, unknown: usize },
    /// Reading or writing a local file failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// An outer step that failed, with what it was doing.
    #[error("{context}: {source}")]
    Context {
        context: String,
        #[source]
        source: Box<Error>,
    },
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Self {
        Error::Client(Box::new(e))
    }
}

impl Error {
    pub fn input(message: impl Into<String>, hint: impl Into<Option<String>>) -> Error {
        Error::Input {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn rejected(message: impl Into<String>, hint: impl Into<Option<String>>) -> Error {
        Error::Rejected {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// Wraps the error with what the caller was doing ("creating parent flow 'X'").
    pub fn context(self, context: impl Into<String>) -> Error {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The innermost error, past every [`Error::Context`].
    pub fn root(&self) -> &Error {
        match self {
            Error::Context { source, .. } => source.root(),
            other => other,
        }
    }

    /// The one place that maps an error to its exit code.
    pub fn exit_status(&self) -> ExitStatus {
        match self.root() {
            Error::Config(_) | Error::Flow(_) | Error::Input { .. } => ExitStatus::InvalidInput,
            Error::Io { .. } => ExitStatus::InvalidInput,
            Error::Client(e) => e.exit_status(),
            Error::Rejected { .. } => ExitStatus::Rejected,
            Error::VerificationFailed { .. } => ExitStatus::VerifyFailed,
            Error::Context { .. } => unreachable!("root() strips context"),
        }
    }

    /// The next step for the user, if there is one.
    pub fn hint(&self) -> Option<String> {
        match self.root() {
            Error::Config(e) => e.hint(),
            Error::Input { hint, .. } | Error::Rejected { hint, .. } => hint.clone(),
            Error::Client(e) => e.hint(),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds context to any result whose error converts into [`Error`].
pub trait ResultExt<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| e.into().context(context()))
    }
}
