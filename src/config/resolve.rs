//! Resolution: the layers become one [`Config`]: the host from one layer, base URLs
//! checked, the secret read from where it is.

use super::{find_region, Config, ConfigError, EnvSource, Layer, Missing};
use crate::cli::{env as names, GlobalArgs};
use secrecy::SecretString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use url::Url;

/// `.env.example`'s values for the client id and secret: a `.env` copied and never filled
/// in is caught before any request.
pub(crate) const EXAMPLE_CLIENT_ID: &str = "00000000-0000-0000-0000-000000000000";
pub(crate) const EXAMPLE_CLIENT_SECRET: &str = "replace-me";

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
    let shown = crate::output::shown_url(value);
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
pub(crate) fn cache_dir(env: &dyn EnvSource) -> Option<PathBuf> {
    env.get("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env.get("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|p| p.join("flowctl"))
}

/// Resolves flags, the environment, the profile and `.env` into a [`Config`]; see the
/// module doc for the precedence and why the host is one setting.
pub(crate) fn resolve(args: &GlobalArgs, env: &dyn EnvSource) -> Result<Config, ConfigError> {
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
    let request_deadline = match env.get(names::REQUEST_TIMEOUT) {
        None => super::DEFAULT_REQUEST_DEADLINE,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(secs) if (1..=super::MAX_REQUEST_DEADLINE).contains(&secs) => {
                std::time::Duration::from_secs(secs)
            }
            _ => {
                return Err(ConfigError::BadRequestTimeout {
                    value: crate::output::sanitize(&v, 40),
                })
            }
        },
    };
    Ok(Config {
        api_base,
        login_base,
        region,
        client_id,
        client_secret: SecretString::from(client_secret),
        token_cache_dir: if no_cache { None } else { cache_dir(env) },
        request_deadline,
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
    use crate::config::{env_of as env, ProcessEnv};
    use secrecy::ExposeSecret;
    use std::collections::BTreeMap;

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
        let example = include_str!("../../.env.example");
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
