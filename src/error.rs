//! flowctl's top-level error and its documented, stable exit codes.
//!
//! Every failure a user can cause ends here; [`Error::exit_status`] is the one place that
//! chooses the exit code, and [`Error::hint`] the next step printed under the message.

use crate::client::ClientError;
use crate::config::ConfigError;
use crate::flow::FlowError;

pub use crate::exit::{ExitStatus, EXIT_CODES_HELP};

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
    /// Two versions of a flow differ (`diff`); the changes have already been printed.
    #[error("{message}")]
    Differs { message: String },
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

impl From<crate::emulator::EmulatorError> for Error {
    fn from(e: crate::emulator::EmulatorError) -> Self {
        match e {
            crate::emulator::EmulatorError::Io { path, source } => Error::Io { path, source },
            crate::emulator::EmulatorError::Invalid { message, hint } => {
                Error::Input { message, hint }
            }
        }
    }
}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Self {
        Error::Client(Box::new(e))
    }
}

impl Error {
    pub(crate) fn input(message: impl Into<String>, hint: impl Into<Option<String>>) -> Error {
        Error::Input {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn rejected(message: impl Into<String>, hint: impl Into<Option<String>>) -> Error {
        Error::Rejected {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// Wraps the error with what the caller was doing ("creating parent flow 'X'").
    pub(crate) fn context(self, context: impl Into<String>) -> Error {
        Error::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The innermost error, past every [`Error::Context`].
    pub(crate) fn root(&self) -> &Error {
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
            Error::Client(e) => client_exit_status(e),
            Error::Rejected { .. } => ExitStatus::Rejected,
            Error::VerificationFailed { .. } | Error::Differs { .. } => ExitStatus::VerifyFailed,
            // root() strips every context; should one remain, it is the caller's input.
            Error::Context { source, .. } => source.exit_status(),
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

/// The client's part of [`Error::exit_status`]: what an API or login failure means for
/// the exit code.
pub fn client_exit_status(e: &ClientError) -> ExitStatus {
    match e {
        ClientError::Auth { .. } => ExitStatus::AuthFailed,
        ClientError::Api(a) if matches!(a.status, 401 | 403) => ExitStatus::AuthFailed,
        // What the SDKs would retry, given up on (a Retry-After over 180 s): exit 5.
        ClientError::Api(a) if matches!(a.status, 429 | 502 | 503 | 504) => ExitStatus::Network,
        ClientError::Api(_) | ClientError::Decode { .. } => ExitStatus::Rejected,
        ClientError::UnsafeUrl { .. } => ExitStatus::InvalidInput,
        ClientError::UnsafeStorageUrl { .. } => ExitStatus::Rejected,
        // Retries ran out: exit 5 for what the SDKs retry; else (a 409 on DELETE waited out,
        // a login service that kept refusing) what the last failure means.
        ClientError::RetriesExhausted { last, .. } if !last.is_retryable() => {
            client_exit_status(last)
        }
        ClientError::Network { .. }
        | ClientError::RetriesExhausted { .. }
        | ClientError::Timeout { .. }
        | ClientError::AbsurdWait { .. } => ExitStatus::Network,
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
