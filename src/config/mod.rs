//! Configuration: regions, credentials, base URLs. "Parse, then resolve": raw flags, the
//! environment and `.env` become a validated [`Config`] before any I/O on the network.
//!
//! Precedence, for every setting: flags, then the process environment, then the chosen
//! profile of `config.toml`, then `.env` in the working directory. The CX-as-Code variable
//! names are accepted as fallbacks within each layer. The secret is never a flag: it comes
//! from the environment, a profile's variable or file, `.env` or `--client-secret-file`.
//!
//! The host is one setting: region, API base and login base are taken together from the
//! first layer that sets a region or an API base, so a `.env` host is never paired with a
//! profile's credentials (they would be sent to a host the profile never named). A lower layer's host is ignored with a warning, and a
//! client id or secret from another layer than the host is said on stderr.

mod error;
mod layers;
mod profile;
mod region;
mod resolve;

pub(crate) use error::{ConfigError, Missing};
pub(crate) use layers::{EnvSource, Layer, ProcessEnv};
pub(crate) use profile::{apply_profile, config_file, load_profiles, Profile};
pub(crate) use region::Region;
pub(crate) use region::{find_region, REGIONS};
pub(crate) use resolve::resolve;

use secrecy::SecretString;
use std::path::PathBuf;
use url::Url;

#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) api_base: Url,
    pub(crate) login_base: Url,
    pub(crate) region: Option<&'static Region>,
    pub(crate) client_id: String,
    /// Redacted in `Debug`.
    pub(crate) client_secret: SecretString,
    /// Directory of the token cache; `None` when caching is off.
    pub(crate) token_cache_dir: Option<PathBuf>,
    /// The most one API request may take across all its attempts and waits
    /// (`FLOWCTL_REQUEST_TIMEOUT`, default [`DEFAULT_REQUEST_DEADLINE`]).
    pub request_deadline: std::time::Duration,
}

/// The default of [`Config::request_deadline`]: two minutes, past the SDKs' own retry budget
/// for one request and far below the five minutes a trickling server could otherwise hold
/// a run (eight attempts of a minute each).
pub(crate) const DEFAULT_REQUEST_DEADLINE: std::time::Duration =
    std::time::Duration::from_secs(120);
/// The longest [`Config::request_deadline`] that can be set: an hour.
pub(crate) const MAX_REQUEST_DEADLINE: u64 = 3600;

impl Config {
    /// A configuration for an emulator (tests, the demo, `--emulator`).
    pub fn for_emulator(
        base_url: &str,
        client_id: &str,
        client_secret: &str,
        token_cache_dir: Option<PathBuf>,
    ) -> Config {
        // The emulator's own URL always parses; a caller's odd value falls back to loopback
        // rather than panicking, and then fails to connect with a clear error.
        let base = Url::parse(base_url).unwrap_or_else(|_| loopback());
        Config {
            api_base: base.clone(),
            login_base: base,
            region: None,
            client_id: client_id.to_string(),
            client_secret: SecretString::from(client_secret.to_string()),
            token_cache_dir,
            request_deadline: DEFAULT_REQUEST_DEADLINE,
        }
    }
}

fn loopback() -> Url {
    Url::parse("http://127.0.0.1/").expect("a constant URL parses")
}

/// A map of `KEY=value` pairs, for the tests of every layer.
#[cfg(test)]
fn env_of(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
