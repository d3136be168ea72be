//! Profiles: `[profiles.NAME]` sections of `config.toml`, read into the profile layer.

use super::{ConfigError, EnvSource, ProcessEnv};
use crate::cli::env as names;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One `[profiles.NAME]` of `config.toml`. The secret itself is never in the file: only
/// the name of the environment variable or the file that holds it.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Profile {
    pub(crate) region: Option<String>,
    pub(crate) api_base_url: Option<String>,
    pub(crate) login_base_url: Option<String>,
    pub(crate) client_id: Option<String>,
    /// The environment variable that holds this org's client secret.
    pub(crate) client_secret_env: Option<String>,
    /// A file that holds this org's client secret.
    pub(crate) client_secret_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, toml::Value>,
}

/// `$XDG_CONFIG_HOME/flowctl/config.toml` or `~/.config/flowctl/config.toml`.
pub(crate) fn config_file(env: &dyn EnvSource) -> Option<PathBuf> {
    env.get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env.get("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|p| p.join("flowctl").join("config.toml"))
}

/// Every profile of the config file (none if there is no file).
pub(crate) fn load_profiles(path: &Path) -> Result<BTreeMap<String, Profile>, ConfigError> {
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
    pub(crate) fn settings(
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
pub(crate) fn apply_profile(
    env: ProcessEnv,
    profile: Option<&str>,
) -> Result<ProcessEnv, ConfigError> {
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
#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::env_of as env;

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
}
