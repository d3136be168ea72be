//! What can be wrong with the configuration, and the hint for each.

use super::REGIONS;
use crate::cli::env as names;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Settings that nothing sets, all at once.
    #[error("not configured: {}", .0.iter().map(|m| m.describe()).collect::<Vec<_>>().join("; "))]
    Missing(Vec<Missing>),
    /// `.env` (or the environment) still holds `.env.example`'s placeholder values.
    #[error("{} still hold{} the placeholder value{} of .env.example", .0.join(" and "), if .0.len() == 1 { "s" } else { "" }, if .0.len() == 1 { "" } else { "s" })]
    ExamplePlaceholders(Vec<String>),
    /// `--client-secret` was given: the secret on a command line leaks.
    #[error("there is no --client-secret flag (the value given was not used and is not shown)")]
    SecretFlag,
    /// `--client-secret-file` names no file, and does not look like a path (maybe the
    /// secret itself was given): the argument is not repeated.
    #[error("the file given to --client-secret-file does not exist (the argument is not repeated here: it does not look like a path, and may be the secret itself)")]
    SecretFileNotAPath,
    /// The region is not one of the eighteen.
    #[error("unknown region '{given}'{}", near_region(given).map(|r| format!(" (did you mean '{r}'?)")).unwrap_or_default())]
    UnknownRegion { given: String },
    /// `FLOWCTL_REQUEST_TIMEOUT` is not a whole number of seconds in range.
    #[error(
        "{} is '{value}', not a whole number of seconds from 1 to {}",
        names::REQUEST_TIMEOUT,
        super::MAX_REQUEST_DEADLINE
    )]
    BadRequestTimeout { value: String },
    /// A base URL does not parse.
    #[error("{what} '{value}' is not a URL: {reason}")]
    BadUrl {
        what: &'static str,
        value: String,
        reason: String,
    },
    /// Plain http to a host that is not loopback.
    #[error("{what} '{value}' uses plain http to a host that is not this machine")]
    InsecureUrl { what: &'static str, value: String },
    /// The secret file cannot be read.
    #[error("cannot read the client secret file {path}: {source}")]
    SecretFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The secret file is empty.
    #[error("the client secret file {path} is empty")]
    EmptySecret { path: String },
    /// `.env` cannot be parsed.
    #[error("{path}: {message}")]
    DotEnv { path: String, message: String },
    /// `config.toml` cannot be read or parsed.
    #[error("{path}: {message}")]
    Profiles { path: String, message: String },
    /// A profile holds the secret itself.
    #[error("{path}: profile '{profile}' holds a client_secret; flowctl never reads a secret from its config file")]
    SecretInProfile { path: String, profile: String },
    /// The chosen profile is not in the file.
    #[error("profile '{profile}' is not in {path}")]
    UnknownProfile {
        profile: String,
        path: String,
        known: Vec<String>,
    },
    /// The profile's secret variable is not set.
    #[error("profile '{profile}' takes its client secret from ${variable}, which is not set")]
    ProfileSecretMissing { profile: String, variable: String },
}

/// The region name closest to `given` (a dropped dash, a swapped letter, another case),
/// for "did you mean".
fn near_region(given: &str) -> Option<&'static str> {
    let g = given.trim().to_ascii_lowercase();
    REGIONS
        .iter()
        .map(|r| (strsim::damerau_levenshtein(&g, r.name), r.name))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, n)| n)
}

impl ConfigError {
    pub(crate) fn hint(&self) -> Option<String> {
        Some(match self {
            ConfigError::Missing(_) => String::from(
                "set them in the environment or in .env (`cp .env.example .env`), or in a profile (--profile); `flowctl regions` lists the regions. To try flowctl without an org: `flowctl demo`, or add --emulator to any command"
            ),
            ConfigError::ExamplePlaceholders(_) => {
                "put your OAuth client's id and secret in .env (or the environment); nothing was sent".into()
            }
            ConfigError::SecretFlag | ConfigError::SecretFileNotAPath => format!(
                "a secret on the command line stays in shell history and is visible to every user of the machine in `ps`; put it in {} (e.g. from your CI's secret store) or .env, or in a file (mode 0600) given to --client-secret-file PATH",
                names::CLIENT_SECRET
            ),
            ConfigError::UnknownRegion { .. } => format!(
                "valid regions: {}",
                REGIONS.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
            ),
            ConfigError::BadRequestTimeout { .. } => format!(
                "set {} to the seconds one API request may take across its retries (default {})",
                names::REQUEST_TIMEOUT,
                super::DEFAULT_REQUEST_DEADLINE.as_secs()
            ),
            ConfigError::BadUrl { .. } => "give a URL such as https://api.mypurecloud.ie".into(),
            ConfigError::InsecureUrl { .. } => {
                "use https; plain http is only allowed to loopback addresses (127.0.0.1, ::1, localhost)".into()
            }
            ConfigError::SecretFile { .. } | ConfigError::EmptySecret { .. } => {
                "check the path given to --client-secret-file or GENESYS_CLIENT_SECRET_FILE".into()
            }
            ConfigError::DotEnv { .. } => "each line of .env is KEY=VALUE (or a # comment)".into(),
            ConfigError::Profiles { .. } => "see the README's Profiles section for the file's shape".into(),
            ConfigError::SecretInProfile { .. } => {
                "remove client_secret; use client_secret_env = \"VAR\" or client_secret_file = \"PATH\"".into()
            }
            ConfigError::UnknownProfile { known, .. } if known.is_empty() => {
                "the file has no [profiles.NAME] sections yet".into()
            }
            ConfigError::UnknownProfile { known, .. } => format!("profiles there: {}", known.join(", ")),
            ConfigError::ProfileSecretMissing { variable, .. } => {
                format!("export {variable} (from your CI's secret store), or use client_secret_file")
            }
        })
    }
}

/// A setting nothing sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    Region,
    ClientId,
    ClientSecret,
}

impl Missing {
    fn describe(&self) -> String {
        match self {
            Missing::Region => format!(
                "the region ({} or {}, or --region, e.g. eu-west-1)",
                names::REGION,
                names::CXAC_REGION
            ),
            Missing::ClientId => format!(
                "the OAuth client id ({} or {}, or --client-id)",
                names::CLIENT_ID,
                names::CXAC_CLIENT_ID
            ),
            Missing::ClientSecret => format!(
                "the OAuth client secret ({} or {}, or a file: {} or --client-secret-file)",
                names::CLIENT_SECRET,
                names::CXAC_CLIENT_SECRET,
                names::CLIENT_SECRET_FILE
            ),
        }
    }
}
