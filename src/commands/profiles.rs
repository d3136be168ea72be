//! `flowctl profiles`: the orgs of `config.toml`, where each one's secret comes from, and
//! which profile is active (`--profile` or `FLOWCTL_PROFILE`).

use crate::cli::GlobalArgs;
use crate::config::{self, ProcessEnv};
use crate::error::{Error, Result};
use crate::output::Printer;
use std::path::Path;

pub(crate) fn run(global: &GlobalArgs, out: Printer) -> Result<()> {
    let env = ProcessEnv::load(Path::new("."))?;
    let Some(path) = config::config_file(&env) else {
        return Err(Error::input(
            "neither XDG_CONFIG_HOME nor HOME is set, so there is no config file",
            None,
        ));
    };
    let profiles = config::load_profiles(&path)?;
    let active = global.profile.as_deref();
    if let Some(name) = active {
        if !profiles.contains_key(name) {
            return Err(Error::input(
                format!("the active profile '{name}' is not in {}", path.display()),
                Some(format!(
                    "profiles there: {}",
                    profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            ));
        }
    }
    let rows: Vec<serde_json::Value> = profiles
        .iter()
        .map(|(name, p)| {
            serde_json::json!({
                "name": name,
                "active": Some(name.as_str()) == active,
                "region": p.region,
                "apiBaseUrl": p.api_base_url,
                "clientId": p.client_id,
                "secretFrom": secret_source(p),
            })
        })
        .collect();
    out.json(&serde_json::json!({ "file": path.display().to_string(), "active": active, "profiles": rows }));
    out.line(format!(
        "{} ({} profile(s))",
        path.display(),
        profiles.len()
    ));
    for (name, p) in &profiles {
        let marker = if Some(name.as_str()) == active {
            "*"
        } else {
            " "
        };
        out.line(format!(
            "{marker} {name:<12} {:<28} client {:<38} secret from {}",
            p.region
                .clone()
                .or(p.api_base_url.clone())
                .unwrap_or_else(|| "(no region)".into()),
            p.client_id.as_deref().unwrap_or("(none)"),
            secret_source(p)
        ));
    }
    if profiles.is_empty() {
        out.line("no profiles yet: add [profiles.NAME] sections (see the README)");
    }
    Ok(())
}

fn secret_source(p: &config::Profile) -> String {
    match (&p.client_secret_env, &p.client_secret_file) {
        (Some(var), _) => format!("${var}"),
        (None, Some(file)) => file.display().to_string(),
        (None, None) => "the environment or .env".into(),
    }
}
