//! One module per subcommand, plus what they share: connecting to an org (real or
//! emulated), resolving names and ids, and the idempotent publish of a flow.

pub(crate) mod apply;
pub(crate) mod create_parent;
pub(crate) mod create_shared;
pub(crate) mod demo;
pub(crate) mod destroy;
pub(crate) mod diff;
pub mod export;
pub(crate) mod expr;
pub(crate) mod graph;
pub(crate) mod history;
pub(crate) mod import;
pub mod lint;
pub(crate) mod plan;
pub(crate) mod profiles;
pub(crate) mod publish;
pub(crate) mod regions;
pub(crate) mod resolve;
pub(crate) mod rollback;
pub(crate) mod serve;
pub(crate) mod steps;
pub(crate) mod test;
pub(crate) mod verify;
pub(crate) mod whoami;

use crate::cli::GlobalArgs;
use crate::client::Client;
use crate::config::{self, Config, ProcessEnv};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

impl crate::cli::ManifestArgs {
    /// Loads `-f FILE` with `--var`s, the profile's substitutions and the environment.
    pub(crate) fn load(&self, global: &GlobalArgs) -> Result<crate::manifest::Manifest> {
        load_manifest(&self.file, &self.vars, global)
    }
}

/// Loads the manifest at `path` with `--var`s, the profile's substitutions and the
/// environment: what every command given `-f MANIFEST` reads.
pub(crate) fn load_manifest(
    path: &Path,
    vars: &[(String, String)],
    global: &GlobalArgs,
) -> Result<crate::manifest::Manifest> {
    crate::manifest::load(
        path,
        vars,
        global.profile.as_deref(),
        &crate::manifest::process_env,
    )
}

/// Where the `--emulator` org is kept, relative to the working directory.
pub(crate) const LOCAL_ORG_DIR: &str = ".flowctl";

/// An authenticated client, and the in-process emulator behind it when there is one.
pub(crate) struct Session {
    pub(crate) client: Client,
    /// What this session acts on, for `whoami`: region or base URL, and client id.
    pub(crate) target: Target,
    /// Kept alive for the session's length; dropped (and stopped) with it.
    pub(crate) emulator: Option<Emulator>,
}

/// Where a session's requests go.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Target {
    pub(crate) region: Option<String>,
    pub(crate) api_base: String,
    pub(crate) login_base: String,
    pub(crate) client_id: String,
    pub(crate) emulator: bool,
}

impl Session {
    /// Resolves configuration (or starts the local emulated org with `--emulator`),
    /// then authenticates so that credential problems surface before any change.
    pub(crate) async fn connect(global: &GlobalArgs) -> Result<Session> {
        if global.emulator {
            return Session::local_emulator(Path::new(LOCAL_ORG_DIR)).await;
        }
        let env = ProcessEnv::load(Path::new("."))?;
        let env = config::apply_profile(env, global.profile.as_deref())?;
        let config = config::resolve(global, &env)?;
        Session::with_config(config, None).await
    }

    /// Starts an emulator whose org persists in `dir/org.json`.
    pub(crate) async fn local_emulator(dir: &Path) -> Result<Session> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let emulator = Emulator::start(EmulatorConfig {
            state_file: Some(dir.join("org.json")),
            ..EmulatorConfig::default()
        })
        .await?;
        Session::for_emulator(emulator).await
    }

    /// A session on an already started emulator (the demo, tests).
    pub(crate) async fn for_emulator(emulator: Emulator) -> Result<Session> {
        let config = Config::for_emulator(
            &emulator.base_url(),
            crate::emulator::DEFAULT_CLIENT_ID,
            crate::emulator::DEFAULT_CLIENT_SECRET,
            None::<PathBuf>,
        );
        Session::with_config(config, Some(emulator)).await
    }

    async fn with_config(config: Config, emulator: Option<Emulator>) -> Result<Session> {
        let client = Client::new(&config)?;
        client.authenticate().await?;
        // A run killed mid-job left it running: let it finish before anything is decided.
        client
            .wait_for_earlier_jobs(std::time::Duration::from_secs(300))
            .await;
        let target = Target {
            region: config.region.map(|r| r.name.to_string()),
            api_base: config.api_base.to_string(),
            login_base: config.login_base.to_string(),
            client_id: config.client_id.clone(),
            emulator: emulator.is_some(),
        };
        Ok(Session {
            client,
            target,
            emulator,
        })
    }

    /// Stops the in-process emulator, if any, after its state is saved.
    pub(crate) async fn close(self) {
        if let Some(emulator) = self.emulator {
            emulator.shutdown().await;
        }
    }
}
