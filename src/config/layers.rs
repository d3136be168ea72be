//! The layers a setting is looked up in: flags, the process environment, the chosen
//! profile and `.env`.

use super::ConfigError;
use std::collections::BTreeMap;
use std::path::Path;

/// The layers a setting is looked up in, in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Layer {
    Flag,
    Env,
    Profile,
    DotEnv,
}

impl Layer {
    pub(super) const ALL: [Layer; 4] = [Layer::Flag, Layer::Env, Layer::Profile, Layer::DotEnv];
}

/// Where configuration values come from, besides flags: the process environment first,
/// then the chosen profile, then `.env` in the working directory.
pub(crate) trait EnvSource {
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
pub(crate) struct ProcessEnv {
    pub(super) process: BTreeMap<String, String>,
    pub(super) profile: BTreeMap<String, String>,
    pub(super) dotenv: BTreeMap<String, String>,
    pub(super) profile_name: Option<String>,
}

impl ProcessEnv {
    /// The process environment now, and `dir/.env` if there is one (the process
    /// environment itself is not changed).
    pub(crate) fn load(dir: &Path) -> Result<ProcessEnv, ConfigError> {
        let process = std::env::vars().collect();
        Ok(ProcessEnv {
            process,
            profile: BTreeMap::new(),
            dotenv: read_dotenv(dir)?,
            profile_name: None,
        })
    }

    /// For tests: explicit layers.
    #[cfg(test)]
    pub(crate) fn from_parts(
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
    pub(crate) fn with_profile(mut self, profile: BTreeMap<String, String>) -> ProcessEnv {
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

/// A map-backed source, for tests.
impl EnvSource for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<String> {
        BTreeMap::get(self, key).cloned().filter(|v| !v.is_empty())
    }
}
#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_malformed_dotenv_names_the_file() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(".env"), "GOOD=1\nnot an assignment\n").expect("write");
        let err = ProcessEnv::load(dir.path()).expect_err("malformed");
        assert!(err.to_string().contains(".env"), "{err}");
    }
}
