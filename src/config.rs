//! Configuration: regions, credentials, base URLs. "Parse, then resolve": raw flags, the
//! environment and `.env` become a validated [`Config`] before any I/O on the network.

use crate::cli::GlobalArgs;
use secrecy::SecretString;
use std::path::PathBuf;
use url::Url;

/// One Genesys Cloud region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Region {
    pub name: &'static str,
    pub api_base: &'static str,
}

impl Region {
    /// `https://login.<domain>`.
    pub fn login_base(&self) -> String {
        todo!()
    }
}

/// All eighteen regions.
pub const REGIONS: &[Region] = &[];

/// Finds a region by name (`eu-west-1`) or domain (`mypurecloud.ie`), ignoring case.
pub fn find_region(name_or_domain: &str) -> Option<&'static Region> {
    let _ = name_or_domain;
    todo!()
}

#[derive(Debug, Clone)]
pub struct Config {
    pub api_base: Url,
    pub login_base: Url,
    pub region: Option<&'static Region>,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Directory of the token cache; `None` when caching is off.
    pub token_cache_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {}

impl ConfigError {
    pub fn hint(&self) -> Option<String> {
        None
    }
}

/// Where configuration values come from, besides flags: the process environment first,
/// then `.env` in the working directory (which never overrides the environment).
pub trait EnvSource {
    fn get(&self, key: &str) -> Option<String>;
}

/// Resolves flags + environment + `.env` into a [`Config`].
pub fn resolve(args: &GlobalArgs, env: &dyn EnvSource) -> Result<Config, ConfigError> {
    let _ = (args, env);
    todo!()
}

/// The process environment, then `.env`.
pub struct ProcessEnv {}

impl ProcessEnv {
    pub fn load(dir: &std::path::Path) -> Result<ProcessEnv, ConfigError> {
        let _ = dir;
        todo!()
    }
}

impl EnvSource for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        let _ = key;
        todo!()
    }
}

impl Config {
    pub fn for_emulator(
        base_url: &str,
        client_id: &str,
        client_secret: &str,
        token_cache_dir: Option<PathBuf>,
    ) -> Config {
        let _ = (base_url, client_id, client_secret, token_cache_dir);
        todo!()
    }
}
