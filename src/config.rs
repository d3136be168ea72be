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
//! profile's credentials (issue 14). A lower layer's host is ignored with a warning, and a
//! client id or secret from another layer than the host is said on stderr.

use crate::cli::{env as names, GlobalArgs};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
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
        self.api_base.replacen("https://api.", "https://login.", 1)
    }

    /// `mypurecloud.ie`.
    pub fn domain(&self) -> &'static str {
        self.api_base.trim_start_matches("https://api.")
    }
}

const fn region(name: &'static str, api_base: &'static str) -> Region {
    Region { name, api_base }
}

/// All eighteen regions (genesys-api.md).
pub const REGIONS: &[Region] = &[
    region("us-east-1", "https://api.mypurecloud.com"),
    region("us-east-2", "https://api.use2.us-gov-pure.cloud"),
    region("us-west-2", "https://api.usw2.pure.cloud"),
    region("ca-central-1", "https://api.cac1.pure.cloud"),
    region("sa-east-1", "https://api.sae1.pure.cloud"),
    region("mx-central-1", "https://api.mxc1.pure.cloud"),
    region("eu-west-1", "https://api.mypurecloud.ie"),
    region("eu-west-2", "https://api.euw2.pure.cloud"),
    region("eu-central-1", "https://api.mypurecloud.de"),
    region("eu-central-2", "https://api.euc2.pure.cloud"),
    region("eusc-de-east-1", "https://api.edee1.eusc-pure.cloud"),
    region("me-central-1", "https://api.mec1.pure.cloud"),
    region("ap-south-1", "https://api.aps1.pure.cloud"),
    region("ap-southeast-1", "https://api.apse1.pure.cloud"),
    region("ap-southeast-2", "https://api.mypurecloud.com.au"),
    region("ap-northeast-1", "https://api.mypurecloud.jp"),
    region("ap-northeast-2", "https://api.apne2.pure.cloud"),
    region("ap-northeast-3", "https://api.apne3.pure.cloud"),
];

/// Finds a region by name (`eu-west-1`) or domain (`mypurecloud.ie`, also written with
/// `https://`, `api.` or `login.`), ignoring case.
pub fn find_region(name_or_domain: &str) -> Option<&'static Region> {
    let mut s = name_or_domain.trim().to_ascii_lowercase();
    for prefix in ["https://", "http://"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_string();
        }
    }
    let s = s.trim_end_matches('/');
    let s = s
        .strip_prefix("api.")
        .or_else(|| s.strip_prefix("login."))
        .unwrap_or(s);
    REGIONS.iter().find(|r| r.name == s || r.domain() == s)
}

#[derive(Debug, Clone)]
pub struct Config {
    pub api_base: Url,
    pub login_base: Url,
    pub region: Option<&'static Region>,
    pub client_id: String,
    /// Redacted in `Debug`.
    pub client_secret: SecretString,
    /// Directory of the token cache; `None` when caching is off.
    pub token_cache_dir: Option<PathBuf>,
}

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
        }
    }
}

fn loopback() -> Url {
    Url::parse("http://127.0.0.1/").expect("a constant URL parses")
}

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
    #[error("unknown region '{given}'")]
    UnknownRegion { given: String },
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

impl ConfigError {
    pub fn hint(&self) -> Option<String> {
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

/// `.env.example`'s values for the client id and secret: a `.env` copied and never filled
/// in is caught before any request.
pub const EXAMPLE_CLIENT_ID: &str = "00000000-0000-0000-0000-000000000000";
pub const EXAMPLE_CLIENT_SECRET: &str = "replace-me";

/// The layers a setting is looked up in, in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    Flag,
    Env,
    Profile,
    DotEnv,
}

impl Layer {
    const ALL: [Layer; 4] = [Layer::Flag, Layer::Env, Layer::Profile, Layer::DotEnv];
}

/// Where configuration values come from, besides flags: the process environment first,
/// then the chosen profile, then `.env` in the working directory.
pub trait EnvSource {
    fn get(&self, key: &str) -> Option<String>;

    /// The value `key` has in one layer (a plain map is the environment layer).
    fn at(&self, layer: Layer, key: &str) -> Option<String> {
        (layer == Layer::Env).then(|| self.get(key)).flatten()
    }

    /// How a layer is named in messages.
    fn layer_name(&self, layer: Layer) -> String {
        match layer {
            Layer::Flag => "a flag".into(),
            Layer::Env => "the environment".into(),
            Layer::Profile => "the profile".into(),
            Layer::DotEnv => ".env".into(),
        }
    }
}

/// The layers a setting is looked up in, after the flags: the process environment, then
/// the chosen profile of `config.toml`, then `.env` (which never overrides the others).
#[derive(Debug, Default, Clone)]
pub struct ProcessEnv {
    process: BTreeMap<String, String>,
    profile: BTreeMap<String, String>,
    dotenv: BTreeMap<String, String>,
    profile_name: Option<String>,
}

impl ProcessEnv {
    /// The process environment now, and `dir/.env` if there is one (the process
    /// environment itself is not changed).
    pub fn load(dir: &Path) -> Result<ProcessEnv, ConfigError> {
        let process = std::env::vars().collect();
        Ok(ProcessEnv {
            process,
            profile: BTreeMap::new(),
            dotenv: read_dotenv(dir)?,
            profile_name: None,
        })
    }

    /// For tests: explicit layers.
    pub fn from_parts(
        process: BTreeMap<String, String>,
        dotenv: BTreeMap<String, String>,
    ) -> ProcessEnv {
        ProcessEnv {
            process,
            profile: BTreeMap::new(),
            dotenv,
            profile_name: None,
        }
    }

    /// Puts a profile's settings between the environment and `.env`.
    pub fn with_profile(mut self, profile: BTreeMap<String, String>) -> ProcessEnv {
        self.profile = profile;
        self
    }
}

fn read_dotenv(dir: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let path = dir.join(".env");
    if !path.exists() {
        return Ok(BTreeMap::new());
    }
    let shown = path.display().to_string();
    // Bounded, regular files only: a `.env` that is /dev/zero or a FIFO is refused.
    let text = crate::files::read_text(&path, ".env").map_err(|e| ConfigError::DotEnv {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let iter = dotenvy::from_read_iter(std::io::Cursor::new(text));
    let mut dotenv = BTreeMap::new();
    for item in iter {
        let (k, v) = item.map_err(|e| ConfigError::DotEnv {
            path: shown.clone(),
            message: match e {
                dotenvy::Error::LineParse(line, at) => {
                    format!("cannot parse '{line}' (at character {at})")
                }
                other => other.to_string(),
            },
        })?;
        dotenv.insert(k, v);
    }
    Ok(dotenv)
}

impl EnvSource for ProcessEnv {
    fn get(&self, key: &str) -> Option<String> {
        [&self.process, &self.profile, &self.dotenv]
            .into_iter()
            .find_map(|layer| layer.get(key).filter(|v| !v.is_empty()).cloned())
    }

    fn at(&self, layer: Layer, key: &str) -> Option<String> {
        let map = match layer {
            Layer::Flag => return None,
            Layer::Env => &self.process,
            Layer::Profile => &self.profile,
            Layer::DotEnv => &self.dotenv,
        };
        map.get(key).filter(|v| !v.is_empty()).cloned()
    }

    fn layer_name(&self, layer: Layer) -> String {
        match (layer, &self.profile_name) {
            (Layer::Profile, Some(name)) => format!("profile '{name}'"),
            (Layer::Env, _) => "the environment".into(),
            (Layer::Flag, _) => "a flag".into(),
            (Layer::Profile, None) => "the profile".into(),
            (Layer::DotEnv, _) => ".env".into(),
        }
    }
}

/// One `[profiles.NAME]` of `config.toml`. The secret itself is never in the file: only
/// the name of the environment variable or the file that holds it.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub region: Option<String>,
    pub api_base_url: Option<String>,
    pub login_base_url: Option<String>,
    pub client_id: Option<String>,
    /// The environment variable that holds this org's client secret.
    pub client_secret_env: Option<String>,
    /// A file that holds this org's client secret.
    pub client_secret_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, toml::Value>,
}

/// `$XDG_CONFIG_HOME/flowctl/config.toml` or `~/.config/flowctl/config.toml`.
pub fn config_file(env: &dyn EnvSource) -> Option<PathBuf> {
    env.get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env.get("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|p| p.join("flowctl").join("config.toml"))
}

/// Every profile of the config file (none if there is no file).
pub fn load_profiles(path: &Path) -> Result<BTreeMap<String, Profile>, ConfigError> {
    let shown = path.display().to_string();
    let text = match crate::files::read_text(path, "the config file") {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => {
            return Err(ConfigError::Profiles {
                path: shown,
                message: e.to_string(),
            })
        }
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Profiles {
        path: shown.clone(),
        message: e.to_string().trim().to_string(),
    })?;
    let mut out = BTreeMap::new();
    for (name, value) in file.profiles {
        // Refuse a secret in the file before anything else reads it.
        if value.get("client_secret").is_some() {
            return Err(ConfigError::SecretInProfile {
                path: shown,
                profile: name,
            });
        }
        let profile: Profile =
            value
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Profiles {
                    path: shown.clone(),
                    message: format!("[profiles.{name}]: {}", e.to_string().trim()),
                })?;
        out.insert(name, profile);
    }
    Ok(out)
}

impl Profile {
    /// The profile as settings under the usual variable names; the secret is read from
    /// the variable or file it names.
    pub fn settings(
        &self,
        name: &str,
        env: &dyn EnvSource,
    ) -> Result<BTreeMap<String, String>, ConfigError> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v.clone());
            }
        };
        put(names::REGION, &self.region);
        put(names::API_BASE_URL, &self.api_base_url);
        put(names::LOGIN_BASE_URL, &self.login_base_url);
        put(names::CLIENT_ID, &self.client_id);
        if let Some(var) = &self.client_secret_env {
            let secret = env
                .get(var)
                .ok_or_else(|| ConfigError::ProfileSecretMissing {
                    profile: name.to_string(),
                    variable: var.clone(),
                })?;
            m.insert(names::CLIENT_SECRET.to_string(), secret);
        }
        if let Some(file) = &self.client_secret_file {
            m.insert(
                names::CLIENT_SECRET_FILE.to_string(),
                file.display().to_string(),
            );
        }
        Ok(m)
    }
}

/// Adds the chosen profile (if any) to `env`; an unknown profile names the ones there are.
pub fn apply_profile(env: ProcessEnv, profile: Option<&str>) -> Result<ProcessEnv, ConfigError> {
    let Some(name) = profile else { return Ok(env) };
    let path = config_file(&env).ok_or_else(|| ConfigError::Profiles {
        path: "config.toml".into(),
        message: "neither XDG_CONFIG_HOME nor HOME is set, so there is no config file".into(),
    })?;
    let profiles = load_profiles(&path)?;
    let Some(p) = profiles.get(name) else {
        return Err(ConfigError::UnknownProfile {
            profile: name.to_string(),
            path: path.display().to_string(),
            known: profiles.keys().cloned().collect(),
        });
    };
    let settings = p.settings(name, &env)?;
    let mut env = env.with_profile(settings);
    env.profile_name = Some(name.to_string());
    Ok(env)
}

/// A map-backed source, for tests.
impl EnvSource for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        BTreeMap::get(self, key).cloned().filter(|v| !v.is_empty())
    }
}

/// True for 127.0.0.0/8, ::1 and `localhost`.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn parse_base(what: &'static str, value: &str) -> Result<Url, ConfigError> {
    // Errors never echo user info (`user:pass@`) or a query.
    let shown = crate::client::shown_url(value);
    let url = Url::parse(value.trim()).map_err(|e| ConfigError::BadUrl {
        what,
        value: shown.clone(),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(ConfigError::InsecureUrl {
                what,
                value: shown.clone(),
            })
        }
        other => {
            return Err(ConfigError::BadUrl {
                what,
                value: shown.clone(),
                reason: format!("scheme '{other}' is not https"),
            })
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::BadUrl {
            what,
            value: shown,
            reason: "it holds user info (user:password@); put credentials in GENESYS_CLIENT_ID / GENESYS_CLIENT_SECRET, never in a URL".into(),
        });
    }
    if url.host().is_none() {
        return Err(ConfigError::BadUrl {
            what,
            value: shown.clone(),
            reason: "no host".into(),
        });
    }
    Ok(url)
}

/// The login base for an API base: a leading `api.` host label becomes `login.`; otherwise
/// the API base itself (the emulator serves both).
fn login_for(api: &Url) -> Url {
    let mut login = api.clone();
    if let Some(host) = api.host_str() {
        if let Some(rest) = host.strip_prefix("api.") {
            if login.set_host(Some(&format!("login.{rest}"))).is_err() {
                return api.clone();
            }
        }
    }
    login
}

/// The token cache directory: `$XDG_CACHE_HOME/flowctl` or `~/.cache/flowctl`.
pub fn cache_dir(env: &dyn EnvSource) -> Option<PathBuf> {
    env.get("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env.get("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|p| p.join("flowctl"))
}

/// Resolves flags, the environment, the profile and `.env` into a [`Config`]; see the
/// module doc for the precedence and why the host is one setting.
pub fn resolve(args: &GlobalArgs, env: &dyn EnvSource) -> Result<Config, ConfigError> {
    if args.client_secret.is_some() {
        return Err(ConfigError::SecretFlag);
    }
    let at = |layer: Layer, keys: &[&str]| -> Option<(String, &'static str)> {
        keys.iter().find_map(|k| {
            env.at(layer, k).map(|v| {
                let name: &'static str = [
                    names::REGION,
                    names::CXAC_REGION,
                    names::API_BASE_URL,
                    names::LOGIN_BASE_URL,
                    names::CLIENT_ID,
                    names::CXAC_CLIENT_ID,
                    names::CLIENT_SECRET,
                    names::CXAC_CLIENT_SECRET,
                    names::CLIENT_SECRET_FILE,
                ]
                .into_iter()
                .find(|n| n == k)
                .unwrap_or("a variable");
                (v, name)
            })
        })
    };
    let flag = |v: &Option<String>, name: &'static str| v.clone().map(|v| (v, name));
    let region_in = |l: Layer| match l {
        Layer::Flag => flag(&args.region, "--region"),
        _ => at(l, &[names::REGION, names::CXAC_REGION]),
    };
    let api_in = |l: Layer| match l {
        Layer::Flag => flag(&args.api_base_url, "--api-base-url"),
        _ => at(l, &[names::API_BASE_URL]),
    };
    let login_in = |l: Layer| match l {
        Layer::Flag => flag(&args.login_base_url, "--login-base-url"),
        _ => at(l, &[names::LOGIN_BASE_URL]),
    };
    let id_in = |l: Layer| match l {
        Layer::Flag => flag(&args.client_id, "--client-id"),
        _ => at(l, &[names::CLIENT_ID, names::CXAC_CLIENT_ID]),
    };
    // The secret itself, or a file that holds it.
    let secret_in = |l: Layer| -> Option<(Result<String, PathBuf>, &'static str)> {
        match l {
            Layer::Flag => args
                .client_secret_file
                .clone()
                .map(|p| (Err(p), "--client-secret-file")),
            _ => at(l, &[names::CLIENT_SECRET, names::CXAC_CLIENT_SECRET])
                .map(|(v, n)| (Ok(v), n))
                .or_else(|| {
                    at(l, &[names::CLIENT_SECRET_FILE]).map(|(v, n)| (Err(PathBuf::from(v)), n))
                }),
        }
    };

    // The host: region, API base and login base from one layer.
    let host_layer = Layer::ALL
        .into_iter()
        .find(|&l| region_in(l).is_some() || api_in(l).is_some());
    let id_layer = Layer::ALL.into_iter().find(|&l| id_in(l).is_some());
    let secret_layer = Layer::ALL.into_iter().find(|&l| secret_in(l).is_some());
    let mut missing = Vec::new();
    if host_layer.is_none() {
        missing.push(Missing::Region);
    }
    if id_layer.is_none() {
        missing.push(Missing::ClientId);
    }
    if secret_layer.is_none() {
        missing.push(Missing::ClientSecret);
    }
    let (Some(host_layer), Some(id_layer), Some(secret_layer)) =
        (host_layer, id_layer, secret_layer)
    else {
        return Err(ConfigError::Missing(missing));
    };

    let region_arg = region_in(host_layer).map(|(v, _)| v);
    let api_arg = api_in(host_layer).map(|(v, _)| v);
    // A login base from the host's layer or a higher one; never from below the host.
    let login_arg = Layer::ALL
        .into_iter()
        .filter(|l| *l <= host_layer)
        .find_map(login_in)
        .map(|(v, _)| v);
    for lower in Layer::ALL.into_iter().filter(|l| *l > host_layer) {
        for (found, used) in [
            (region_in(lower), &region_arg),
            (api_in(lower), &api_arg),
            (login_in(lower), &login_arg),
        ] {
            if let Some((value, name)) = found {
                if used.as_deref() != Some(value.as_str()) {
                    tracing::warn!(
                        "{name} from {} is ignored: the host comes from {}",
                        env.layer_name(lower),
                        env.layer_name(host_layer)
                    );
                }
            }
        }
    }
    if id_layer != host_layer || secret_layer != host_layer {
        tracing::warn!(
            "the host comes from {}, the client id from {} and the client secret from {}: check that they belong to the same org (`flowctl whoami`)",
            env.layer_name(host_layer),
            env.layer_name(id_layer),
            env.layer_name(secret_layer)
        );
    }

    let region = match &region_arg {
        Some(r) => {
            Some(find_region(r).ok_or_else(|| ConfigError::UnknownRegion { given: r.clone() })?)
        }
        None => None,
    };
    let api_base = match (&api_arg, region) {
        (Some(u), _) => parse_base("API base URL", u)?,
        (None, Some(r)) => parse_base("API base URL", r.api_base)?,
        (None, None) => return Err(ConfigError::Missing(vec![Missing::Region])),
    };
    let login_base = match &login_arg {
        Some(u) => parse_base("login base URL", u)?,
        None => login_for(&api_base),
    };
    let client_id = id_in(id_layer).map(|(v, _)| v).unwrap_or_default();
    let client_secret = match secret_in(secret_layer) {
        Some((Ok(secret), _)) => secret,
        Some((Err(path), _)) => read_secret(&path)?,
        None => return Err(ConfigError::Missing(vec![Missing::ClientSecret])),
    };
    let mut placeholders = Vec::new();
    if client_id == EXAMPLE_CLIENT_ID {
        placeholders.push(format!("the client id ({})", names::CLIENT_ID));
    }
    if client_secret == EXAMPLE_CLIENT_SECRET {
        placeholders.push(format!("the client secret ({})", names::CLIENT_SECRET));
    }
    if !placeholders.is_empty() {
        return Err(ConfigError::ExamplePlaceholders(placeholders));
    }

    let no_cache = args.no_token_cache
        || env
            .get(names::NO_TOKEN_CACHE)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
    Ok(Config {
        api_base,
        login_base,
        region,
        client_id,
        client_secret: SecretString::from(client_secret),
        token_cache_dir: if no_cache { None } else { cache_dir(env) },
    })
}

/// Whether an argument that names no file still looks like a path a user meant (so it can
/// be repeated in the error): it has a directory part or an extension.
fn looks_like_a_path(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.contains(std::path::MAIN_SEPARATOR)
        || text.contains('/')
        || text.starts_with('~')
        || path.extension().is_some()
}

fn read_secret(path: &Path) -> Result<String, ConfigError> {
    if !path.exists() && !looks_like_a_path(path) {
        return Err(ConfigError::SecretFileNotAPath);
    }
    let shown = path.display().to_string();
    let text = crate::files::read_text(path, "the secret file").map_err(|source| {
        ConfigError::SecretFile {
            path: shown.clone(),
            source,
        }
    })?;
    let secret = text.trim_end_matches(['\n', '\r']).to_string();
    if secret.trim().is_empty() {
        return Err(ConfigError::EmptySecret { path: shown });
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_region_resolves_by_name_and_by_domain_to_the_table_hosts() {
        assert_eq!(REGIONS.len(), 18);
        for r in REGIONS {
            assert_eq!(find_region(r.name), Some(r));
            assert_eq!(find_region(r.domain()), Some(r));
            assert_eq!(find_region(&r.api_base.to_uppercase()), Some(r));
            assert_eq!(find_region(&format!("login.{}", r.domain())), Some(r));
            assert!(r.login_base().starts_with("https://login."));
            let cfg = resolve(
                &GlobalArgs {
                    region: Some(r.name.into()),
                    ..GlobalArgs::default()
                },
                &env(&[("GENESYS_CLIENT_ID", "id"), ("GENESYS_CLIENT_SECRET", "s")]),
            )
            .expect("resolves");
            assert_eq!(cfg.api_base.as_str().trim_end_matches('/'), r.api_base);
            assert_eq!(
                cfg.login_base.as_str().trim_end_matches('/'),
                r.login_base()
            );
        }
        assert_eq!(
            find_region("mypurecloud.ie").map(|r| r.name),
            Some("eu-west-1")
        );
        assert_eq!(
            find_region("usw2.pure.cloud").map(|r| r.name),
            Some("us-west-2")
        );
        assert_eq!(find_region("mars-1"), None);
    }

    #[test]
    fn flags_beat_the_environment_and_cx_as_code_names_are_fallbacks() {
        let e = env(&[
            ("GENESYSCLOUD_REGION", "eu-west-1"),
            ("GENESYSCLOUD_OAUTHCLIENT_ID", "cxac-id"),
            ("GENESYSCLOUD_OAUTHCLIENT_SECRET", "cxac-secret"),
        ]);
        let cfg = resolve(&GlobalArgs::default(), &e).expect("fallbacks");
        assert_eq!(cfg.region.map(|r| r.name), Some("eu-west-1"));
        assert_eq!(cfg.client_id, "cxac-id");
        assert_eq!(cfg.client_secret.expose_secret(), "cxac-secret");

        let mut e2 = e.clone();
        e2.insert("GENESYS_CLIENT_ID".into(), "primary-id".into());
        e2.insert("GENESYS_REGION".into(), "us-east-1".into());
        let cfg = resolve(&GlobalArgs::default(), &e2).expect("primary names");
        assert_eq!(cfg.client_id, "primary-id");
        assert_eq!(cfg.region.map(|r| r.name), Some("us-east-1"));

        let args = GlobalArgs {
            region: Some("ap-northeast-1".into()),
            client_id: Some("flag-id".into()),
            ..GlobalArgs::default()
        };
        let cfg = resolve(&args, &e2).expect("flags");
        assert_eq!(cfg.client_id, "flag-id");
        assert_eq!(cfg.region.map(|r| r.name), Some("ap-northeast-1"));
    }

    #[test]
    fn dotenv_never_overrides_the_process_environment() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(
            dir.path().join(".env"),
            "FLOWCTL_TEST_ONLY_IN_DOTENV=from-file\nPATH=from-file\n",
        )
        .expect("write");
        let env = ProcessEnv::load(dir.path()).expect("loads");
        assert_eq!(
            env.get("FLOWCTL_TEST_ONLY_IN_DOTENV").as_deref(),
            Some("from-file")
        );
        assert_ne!(
            env.get("PATH").as_deref(),
            Some("from-file"),
            "the real PATH wins"
        );
        assert!(
            std::env::var("FLOWCTL_TEST_ONLY_IN_DOTENV").is_err(),
            "the process environment is untouched"
        );
    }

    #[test]
    fn precedence_is_flag_then_environment_then_profile_then_dotenv() {
        let process = env(&[("GENESYS_CLIENT_ID", "from-env")]);
        let dotenv = env(&[
            ("GENESYS_CLIENT_ID", "from-dotenv"),
            ("GENESYS_REGION", "us-east-1"),
            ("GENESYS_CLIENT_SECRET", "dotenv-secret"),
        ]);
        let profile = env(&[
            ("GENESYS_REGION", "eu-west-1"),
            ("GENESYS_CLIENT_ID", "from-profile"),
        ]);
        let layered = ProcessEnv::from_parts(process, dotenv.clone()).with_profile(profile.clone());
        let cfg = resolve(&GlobalArgs::default(), &layered).expect("ok");
        assert_eq!(
            cfg.client_id, "from-env",
            "the environment beats the profile"
        );
        assert_eq!(
            cfg.region.map(|r| r.name),
            Some("eu-west-1"),
            "the profile beats .env"
        );
        assert_eq!(
            cfg.client_secret.expose_secret(),
            "dotenv-secret",
            ".env fills the rest"
        );
        let flag = GlobalArgs {
            client_id: Some("from-flag".into()),
            ..GlobalArgs::default()
        };
        assert_eq!(resolve(&flag, &layered).expect("ok").client_id, "from-flag");
        let no_env = ProcessEnv::from_parts(BTreeMap::new(), dotenv).with_profile(profile);
        assert_eq!(
            resolve(&GlobalArgs::default(), &no_env)
                .expect("ok")
                .client_id,
            "from-profile"
        );
    }

    #[test]
    fn profiles_load_and_take_the_secret_from_a_variable_never_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("config.toml");
        std::fs::write(
            &file,
            "[profiles.prod]\nregion = \"eu-west-1\"\nclient_id = \"prod-id\"\nclient_secret_env = \"PROD_SECRET\"\n\n[profiles.dev]\napi_base_url = \"http://127.0.0.1:8787\"\nclient_id = \"dev-id\"\nclient_secret_file = \"/run/dev.secret\"\n",
        )
        .expect("write");
        let profiles = load_profiles(&file).expect("loads");
        assert_eq!(profiles.keys().collect::<Vec<_>>(), vec!["dev", "prod"]);
        let e = env(&[("PROD_SECRET", "prod-secret-value")]);
        let s = profiles["prod"].settings("prod", &e).expect("settings");
        assert_eq!(
            s.get("GENESYS_CLIENT_SECRET").map(String::as_str),
            Some("prod-secret-value")
        );
        assert_eq!(
            s.get("GENESYS_REGION").map(String::as_str),
            Some("eu-west-1")
        );
        let err = profiles["prod"]
            .settings("prod", &env(&[]))
            .expect_err("unset variable");
        assert!(err.to_string().contains("PROD_SECRET"));

        std::fs::write(
            &file,
            "[profiles.bad]\nclient_id = \"x\"\nclient_secret = \"oops-in-file\"\n",
        )
        .expect("write");
        let err = load_profiles(&file).expect_err("a secret in the file is refused");
        assert!(matches!(err, ConfigError::SecretInProfile { .. }), "{err}");
        assert!(
            !err.to_string().contains("oops-in-file"),
            "the refused secret is not echoed"
        );

        std::fs::write(&file, "[profiles.typo]\nregoin = \"x\"\n").expect("write");
        assert!(load_profiles(&file)
            .expect_err("unknown key")
            .to_string()
            .contains("regoin"));
    }

    #[test]
    fn an_unknown_profile_names_the_known_ones() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("flowctl")).expect("mkdir");
        std::fs::write(
            dir.path().join("flowctl/config.toml"),
            "[profiles.prod]\nregion = \"eu-west-1\"\n",
        )
        .expect("write");
        let e = ProcessEnv::from_parts(
            env(&[("XDG_CONFIG_HOME", dir.path().to_str().expect("utf-8"))]),
            BTreeMap::new(),
        );
        let err = apply_profile(e, Some("staging")).expect_err("unknown");
        assert!(err.to_string().contains("staging"));
        assert!(err.hint().unwrap_or_default().contains("prod"));
    }

    #[test]
    fn a_malformed_dotenv_names_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(".env"), "GOOD=1\nnot an assignment\n").expect("write");
        let err = ProcessEnv::load(dir.path()).expect_err("malformed");
        assert!(err.to_string().contains(".env"), "{err}");
    }

    #[test]
    fn the_login_base_follows_the_api_base() {
        let e = env(&[("GENESYS_CLIENT_ID", "i"), ("GENESYS_CLIENT_SECRET", "s")]);
        let args = |api: &str| GlobalArgs {
            api_base_url: Some(api.into()),
            ..GlobalArgs::default()
        };
        let cfg = resolve(&args("https://api.example.test"), &e).expect("ok");
        assert_eq!(cfg.login_base.host_str(), Some("login.example.test"));
        let cfg = resolve(&args("http://127.0.0.1:8787"), &e).expect("loopback http is fine");
        assert_eq!(cfg.login_base, cfg.api_base);
        let mut e2 = e.clone();
        e2.insert(
            "GENESYS_LOGIN_BASE_URL".into(),
            "https://sso.example.test".into(),
        );
        e2.insert(
            "GENESYS_API_BASE_URL".into(),
            "https://api.example.test".into(),
        );
        let cfg = resolve(&GlobalArgs::default(), &e2).expect("ok");
        assert_eq!(cfg.login_base.host_str(), Some("sso.example.test"));
        // The login host receives the secret: one from below the host's layer is ignored.
        let cfg = resolve(&args("https://api.other.test"), &e2).expect("ok");
        assert_eq!(cfg.login_base.host_str(), Some("login.other.test"));
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        let e = env(&[("GENESYS_CLIENT_ID", "i"), ("GENESYS_CLIENT_SECRET", "s")]);
        for ok in [
            "http://127.0.0.1:1",
            "http://localhost:2",
            "http://[::1]:3",
            "http://127.1.2.3",
        ] {
            assert!(
                resolve(
                    &GlobalArgs {
                        api_base_url: Some(ok.into()),
                        ..GlobalArgs::default()
                    },
                    &e
                )
                .is_ok(),
                "{ok}"
            );
        }
        for bad in ["http://api.mypurecloud.com", "http://10.0.0.1", "ftp://x"] {
            assert!(
                resolve(
                    &GlobalArgs {
                        api_base_url: Some(bad.into()),
                        ..GlobalArgs::default()
                    },
                    &e
                )
                .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_missing_setting_is_named_at_once_with_the_way_to_try_without_an_org() {
        let err = resolve(&GlobalArgs::default(), &env(&[])).expect_err("nothing set");
        let text = err.to_string();
        for name in [
            "GENESYS_REGION",
            "GENESYSCLOUD_REGION",
            "GENESYS_CLIENT_ID",
            "GENESYSCLOUD_OAUTHCLIENT_ID",
            "GENESYS_CLIENT_SECRET",
            "GENESYSCLOUD_OAUTHCLIENT_SECRET",
            "GENESYS_CLIENT_SECRET_FILE",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
        let hint = err.hint().unwrap_or_default();
        assert!(
            hint.contains("--emulator") && hint.contains("flowctl demo"),
            "{hint}"
        );
        let err = resolve(
            &GlobalArgs::default(),
            &env(&[("GENESYS_REGION", "eu-west-1"), ("GENESYS_CLIENT_ID", "i")]),
        )
        .expect_err("no secret");
        assert!(
            matches!(&err, ConfigError::Missing(m) if m == &vec![Missing::ClientSecret]),
            "{err}"
        );
        let err = resolve(
            &GlobalArgs::default(),
            &env(&[
                ("GENESYS_REGION", "nowhere"),
                ("GENESYS_CLIENT_ID", "i"),
                ("GENESYS_CLIENT_SECRET", "s"),
            ]),
        )
        .expect_err("bad region");
        assert!(err.to_string().contains("nowhere"));
        assert!(err.hint().unwrap_or_default().contains("ap-northeast-3"));
    }

    #[test]
    fn env_example_placeholders_are_caught_before_any_request() {
        let example = include_str!("../.env.example");
        assert!(example.contains(&format!("GENESYS_CLIENT_ID={EXAMPLE_CLIENT_ID}")));
        assert!(example.contains(&format!("GENESYS_CLIENT_SECRET={EXAMPLE_CLIENT_SECRET}")));
        let err = resolve(
            &GlobalArgs::default(),
            &env(&[
                ("GENESYS_REGION", "us-east-1"),
                ("GENESYS_CLIENT_ID", EXAMPLE_CLIENT_ID),
                ("GENESYS_CLIENT_SECRET", EXAMPLE_CLIENT_SECRET),
            ]),
        )
        .expect_err("placeholders");
        assert!(err.to_string().contains(".env.example"), "{err}");
        assert!(err.to_string().contains("client id") && err.to_string().contains("client secret"));
    }

    #[test]
    fn a_secret_given_where_a_path_belongs_is_not_repeated() {
        let base = env(&[("GENESYS_REGION", "eu-west-1"), ("GENESYS_CLIENT_ID", "i")]);
        let with = |p: &str| GlobalArgs {
            client_secret_file: Some(PathBuf::from(p)),
            ..GlobalArgs::default()
        };
        let err = resolve(&with("s3cretV4lue-x_y"), &base).expect_err("no such file");
        assert!(matches!(err, ConfigError::SecretFileNotAPath));
        assert!(!err.to_string().contains("s3cretV4lue"), "{err}");
        assert!(err.hint().unwrap_or_default().contains("ps"));
        let err = resolve(&with("secrets/prod.txt"), &base).expect_err("no such file");
        assert!(
            err.to_string().contains("secrets/prod.txt"),
            "a path is named: {err}"
        );
        let flag = GlobalArgs {
            client_secret: Some(crate::cli::SecretGiven),
            ..GlobalArgs::default()
        };
        let err = resolve(&flag, &base).expect_err("no --client-secret");
        assert!(err.hint().unwrap_or_default().contains("shell history"));
    }

    /// One value per layer for each of host, id and secret: the winner is the first layer
    /// in flag → environment → profile → .env that sets it, and a profile's host is never
    /// replaced by a lower layer's.
    #[test]
    fn every_pair_of_layers_resolves_in_the_documented_order() {
        // What each layer sets, as the variables a user writes.
        let host = |layer: Layer| match layer {
            Layer::Flag => "https://api.flag.test",
            Layer::Env => "https://api.env.test",
            Layer::Profile => "https://api.profile.test",
            Layer::DotEnv => "http://127.0.0.1:8787",
        };
        let build = |layers: &[Layer], what: &[&str]| {
            let mut args = GlobalArgs::default();
            let mut maps: [BTreeMap<String, String>; 3] = Default::default();
            for &l in layers {
                let tag = format!("{l:?}").to_lowercase();
                for w in what {
                    let (flag_val, key, val): (&mut Option<String>, &str, String) = match *w {
                        "host" => (
                            &mut args.api_base_url,
                            names::API_BASE_URL,
                            host(l).to_string(),
                        ),
                        "id" => (&mut args.client_id, names::CLIENT_ID, format!("{tag}-id")),
                        _ => (&mut None, names::CLIENT_SECRET, format!("{tag}-secret")),
                    };
                    match l {
                        Layer::Flag => *flag_val = Some(val),
                        Layer::Env => drop(maps[0].insert(key.into(), val)),
                        Layer::Profile => drop(maps[1].insert(key.into(), val)),
                        Layer::DotEnv => drop(maps[2].insert(key.into(), val)),
                    }
                }
            }
            let [process, profile, dotenv] = maps;
            (
                args,
                ProcessEnv::from_parts(process, dotenv).with_profile(profile),
            )
        };
        for (i, &high) in Layer::ALL.iter().enumerate() {
            for &low in &Layer::ALL[i + 1..] {
                // Host and id in both layers: the higher wins both.
                let (args, e) = build(&[high, low], &["host", "id"]);
                let mut e = e;
                if high == Layer::Flag {
                    // No secret flag exists: give it from the lower layer.
                    e = ProcessEnv::from_parts(e.process.clone(), e.dotenv.clone())
                        .with_profile(e.profile.clone());
                }
                let mut e2 = e.clone();
                let secret_layer = if high == Layer::Flag { low } else { high };
                let key = names::CLIENT_SECRET.to_string();
                let val = format!("{}-secret", format!("{secret_layer:?}").to_lowercase());
                match secret_layer {
                    Layer::Env => drop(e2.process.insert(key, val.clone())),
                    Layer::Profile => drop(e2.profile.insert(key, val.clone())),
                    _ => drop(e2.dotenv.insert(key, val.clone())),
                }
                let cfg =
                    resolve(&args, &e2).unwrap_or_else(|err| panic!("{high:?}/{low:?}: {err}"));
                assert_eq!(
                    cfg.api_base.as_str().trim_end_matches('/'),
                    host(high),
                    "{high:?} over {low:?}"
                );
                let tag = format!("{high:?}").to_lowercase();
                assert_eq!(cfg.client_id, format!("{tag}-id"), "{high:?} over {low:?}");
                assert_eq!(cfg.client_secret.expose_secret(), val);

                // The higher layer sets only the id and secret (or a region), the lower
                // the host: the host is the lower's, said on stderr; a region in the higher
                // layer takes the whole host with it.
                let (args, e) = build(&[low], &["host"]);
                let mut args = args;
                let mut e = e;
                match high {
                    Layer::Flag => args.region = Some("eu-west-1".into()),
                    Layer::Env => drop(e.process.insert(names::REGION.into(), "eu-west-1".into())),
                    Layer::Profile => {
                        drop(e.profile.insert(names::REGION.into(), "eu-west-1".into()))
                    }
                    Layer::DotEnv => unreachable!(),
                }
                e.process.insert(names::CLIENT_ID.into(), "id".into());
                e.process
                    .insert(names::CLIENT_SECRET.into(), "secret".into());
                let cfg =
                    resolve(&args, &e).unwrap_or_else(|err| panic!("{high:?}/{low:?}: {err}"));
                assert_eq!(
                    cfg.api_base.as_str().trim_end_matches('/'),
                    "https://api.mypurecloud.ie",
                    "a region from {high:?} is not paired with the API base from {low:?}"
                );
            }
        }
    }

    #[test]
    fn a_dotenv_host_never_receives_a_profiles_credentials() {
        let dotenv = env(&[(names::API_BASE_URL, "http://127.0.0.1:8787")]);
        let profile = env(&[
            (names::REGION, "eu-west-1"),
            (names::CLIENT_ID, "prod-id"),
            (names::CLIENT_SECRET, "prod-secret"),
        ]);
        let e = ProcessEnv::from_parts(BTreeMap::new(), dotenv).with_profile(profile);
        let cfg = resolve(&GlobalArgs::default(), &e).expect("ok");
        assert_eq!(cfg.api_base.host_str(), Some("api.mypurecloud.ie"));
        assert_eq!(cfg.login_base.host_str(), Some("login.mypurecloud.ie"));
        assert_eq!(cfg.region.map(|r| r.name), Some("eu-west-1"));
    }

    #[test]
    fn the_secret_can_come_from_a_file_and_never_shows_in_debug() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("secret");
        std::fs::write(&file, "file-secret-value\n").expect("write");
        let args = GlobalArgs {
            client_secret_file: Some(file),
            ..GlobalArgs::default()
        };
        let cfg = resolve(
            &args,
            &env(&[
                ("GENESYS_REGION", "eu-west-1"),
                ("GENESYS_CLIENT_ID", "i"),
                ("GENESYS_CLIENT_SECRET", "env-secret"),
            ]),
        )
        .expect("ok");
        assert_eq!(cfg.client_secret.expose_secret(), "file-secret-value");
        let debug = format!("{cfg:?}");
        assert!(
            !debug.contains("file-secret-value") && !debug.contains("env-secret"),
            "{debug}"
        );
    }

    #[test]
    fn the_token_cache_lives_under_xdg_or_home_and_can_be_turned_off() {
        let base = [
            ("GENESYS_REGION", "eu-west-1"),
            ("GENESYS_CLIENT_ID", "i"),
            ("GENESYS_CLIENT_SECRET", "s"),
        ];
        let mut e = env(&base);
        e.insert("HOME".into(), "/home/u".into());
        assert_eq!(
            resolve(&GlobalArgs::default(), &e)
                .expect("ok")
                .token_cache_dir,
            Some(PathBuf::from("/home/u/.cache/flowctl"))
        );
        e.insert("XDG_CACHE_HOME".into(), "/xdg".into());
        assert_eq!(
            resolve(&GlobalArgs::default(), &e)
                .expect("ok")
                .token_cache_dir,
            Some(PathBuf::from("/xdg/flowctl"))
        );
        let off = GlobalArgs {
            no_token_cache: true,
            ..GlobalArgs::default()
        };
        assert_eq!(resolve(&off, &e).expect("ok").token_cache_dir, None);
        e.insert("FLOWCTL_NO_TOKEN_CACHE".into(), "1".into());
        assert_eq!(
            resolve(&GlobalArgs::default(), &e)
                .expect("ok")
                .token_cache_dir,
            None
        );
    }
}
