//! Configuration from the outside: which host a profile's credentials go to, every missing
//! setting at once, `.env.example` copied and never filled in, and a secret given where a
//! path belongs.

mod common;

use common::{run_in, Org};
use flowctl::emulator::{Emulator, EmulatorConfig, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_wins_over_a_dotenv_host_and_its_secret_goes_only_to_its_own_host() {
    let chosen = Org::new().await;
    let stray = Emulator::start(EmulatorConfig::default())
        .await
        .expect("start");
    let dir = chosen.path();
    std::fs::create_dir_all(dir.join(".config/flowctl")).expect("mkdir");
    std::fs::write(
        dir.join(".config/flowctl/config.toml"),
        format!(
            "[profiles.prod]\napi_base_url = \"{}\"\nclient_id = \"{DEFAULT_CLIENT_ID}\"\nclient_secret_env = \"PROD_SECRET\"\n",
            chosen.emulator.base_url()
        ),
    )
    .expect("config");
    std::fs::write(
        dir.join(".env"),
        format!(
            "GENESYS_API_BASE_URL={}\nGENESYS_LOGIN_BASE_URL={}\n",
            stray.base_url(),
            stray.base_url()
        ),
    )
    .expect(".env");
    let r = run_in(
        dir,
        &["--profile", "prod", "--output", "json", "whoami"],
        vec![("PROD_SECRET".into(), DEFAULT_CLIENT_SECRET.into())],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.json()["apiBase"]
            .as_str()
            .map(|s| s.trim_end_matches('/')),
        Some(chosen.emulator.base_url().as_str()),
        "{r:?}"
    );
    assert!(
        stray.requests().is_empty(),
        "the .env host got {:?}",
        stray.requests()
    );
    assert!(!chosen.emulator.requests().is_empty());
    assert!(
        r.stderr
            .contains("GENESYS_API_BASE_URL from .env is ignored"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nothing_configured_every_missing_setting_is_named_in_one_run() {
    let dir = tempfile::tempdir().expect("dir");
    let r = run_in(dir.path(), &["create-shared", "--name", "X"], vec![]).await;
    assert_eq!(r.code, 2, "{r:?}");
    for name in [
        "GENESYS_REGION",
        "GENESYSCLOUD_REGION",
        "GENESYS_CLIENT_ID",
        "GENESYSCLOUD_OAUTHCLIENT_ID",
        "GENESYS_CLIENT_SECRET",
        "GENESYSCLOUD_OAUTHCLIENT_SECRET",
        "--emulator",
        "flowctl demo",
    ] {
        assert!(r.stderr.contains(name), "{name}: {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dotenv_copied_from_the_example_and_never_filled_in_exits_2_without_a_request() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join(".env"), include_str!("../.env.example")).expect(".env");
    let r = run_in(dir.path(), &["create-shared", "--name", "X"], vec![]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("placeholder") && r.stderr.contains(".env.example"),
        "{r:?}"
    );
    assert!(
        !r.stderr.contains("dns") && !r.stderr.contains("connect"),
        "{r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_given_as_a_path_or_as_a_flag_is_never_echoed() {
    let dir = tempfile::tempdir().expect("dir");
    let env = || {
        vec![
            ("GENESYS_REGION".to_string(), "eu-west-1".to_string()),
            ("GENESYS_CLIENT_ID".to_string(), "id".to_string()),
        ]
    };
    for args in [
        vec![
            "--client-secret-file",
            "s3cretV4lue",
            "create-shared",
            "--name",
            "X",
        ],
        vec![
            "--client-secret",
            "s3cretV4lue",
            "create-shared",
            "--name",
            "X",
        ],
        vec![
            "create-shared",
            "--name",
            "X",
            "--client-secret=s3cretV4lue",
        ],
    ] {
        let r = run_in(dir.path(), &args, env()).await;
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(
            !r.stderr.contains("s3cretV4lue") && !r.stdout.contains("s3cretV4lue"),
            "{args:?}: {r:?}"
        );
        assert!(
            r.stderr.contains("shell history") && r.stderr.contains("ps"),
            "{args:?}: {r:?}"
        );
    }
}
