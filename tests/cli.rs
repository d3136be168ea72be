//! The CLI without an org: help, exit codes, regions, dry runs, configuration errors.

mod common;

use common::run_in;

async fn flowctl(args: &[&str], env: &[(&str, &str)]) -> common::Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let vars = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    run_in(dir.path(), args, vars).await
}

#[tokio::test]
async fn help_lists_the_commands_and_the_exit_codes() {
    let r = flowctl(&["--help"], &[]).await;
    assert_eq!(r.code, 0);
    for word in [
        "create-shared",
        "create-parent",
        "verify",
        "regions",
        "demo",
        "lint",
    ] {
        assert!(r.stdout.contains(word), "{word} missing: {r:?}");
    }
    assert!(
        r.stdout.contains("3  authentication or permission failure"),
        "{r:?}"
    );
}

#[tokio::test]
async fn every_subcommand_help_ends_with_an_example() {
    use clap::CommandFactory;
    let cli = flowctl::cli::Cli::command();
    let mut paths: Vec<Vec<String>> = Vec::new();
    for sub in cli.get_subcommands() {
        paths.push(vec![sub.get_name().to_string()]);
        for inner in sub.get_subcommands() {
            paths.push(vec![
                sub.get_name().to_string(),
                inner.get_name().to_string(),
            ]);
        }
    }
    assert!(paths.len() >= 17, "{paths:?}");
    for path in paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let r = flowctl(&args, &[]).await;
        assert_eq!(r.code, 0, "{args:?}");
        let tail = r.stdout.trim_end().rsplit("\n\n").next().unwrap_or("");
        assert!(
            tail.starts_with("Example:"),
            "{args:?} does not end with an example:\n{}",
            r.stdout
        );
    }
}

#[tokio::test]
async fn regions_json_lists_all_eighteen_with_login_hosts() {
    let r = flowctl(&["--output", "json", "regions"], &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    let rows = r.json();
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 18);
    let ie = rows
        .iter()
        .find(|r| r["region"] == "eu-west-1")
        .expect("eu-west-1");
    assert_eq!(ie["apiBase"], "https://api.mypurecloud.ie");
    assert_eq!(ie["loginBase"], "https://login.mypurecloud.ie");
}

#[tokio::test]
async fn dry_run_needs_no_credentials_and_prints_architect_yaml() {
    let r = flowctl(
        &[
            "create-shared",
            "--name",
            "Shared Greeting Module",
            "--dry-run",
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("commonModule:"), "{r:?}");
    // The job creates the flow in the division its YAML names: no create request.
    assert!(r.stdout.contains("division: Home"), "{r:?}");
    assert!(!r.stdout.contains("POST /api/v2/flows "), "{r:?}");
    let r = flowctl(
        &[
            "create-parent",
            "--name",
            "A",
            "--name",
            "B",
            "--shared",
            "Shared Greeting Module",
            "--queue",
            "Sales",
            "--dry-run",
        ],
        &[],
    )
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.matches("inboundCall:").count(), 2, "{r:?}");
    assert!(r.stdout.contains("callCommonModule"), "{r:?}");
    assert!(r.stdout.contains("transferToAcd"), "{r:?}");
}

#[tokio::test]
async fn missing_credentials_exit_2_naming_the_variables() {
    let r = flowctl(
        &["create-shared", "--name", "X"],
        &[("GENESYS_REGION", "eu-west-1")],
    )
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("GENESYS_CLIENT_ID"), "{r:?}");
}

#[tokio::test]
async fn unknown_region_exits_2_listing_valid_ones() {
    let r = flowctl(
        &["create-shared", "--name", "X"],
        &[
            ("GENESYS_REGION", "mars-north-1"),
            ("GENESYS_CLIENT_ID", "id"),
            ("GENESYS_CLIENT_SECRET", "s"),
        ],
    )
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("mars-north-1"), "{r:?}");
    assert!(r.stderr.contains("eu-west-1"), "{r:?}");
}

#[tokio::test]
async fn plain_http_to_a_remote_host_is_refused() {
    let r = flowctl(
        &[
            "create-shared",
            "--name",
            "X",
            "--api-base-url",
            "http://api.example.com",
        ],
        &[("GENESYS_CLIENT_ID", "id"), ("GENESYS_CLIENT_SECRET", "s")],
    )
    .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("http://api.example.com"), "{r:?}");
}

#[tokio::test]
async fn junit_output_is_only_for_verify() {
    let r = flowctl(&["--output", "junit", "regions"], &[]).await;
    assert_eq!(r.code, 2, "{r:?}");
}

#[tokio::test]
async fn create_shared_without_name_or_file_exits_2() {
    let r = flowctl(&["create-shared", "--dry-run"], &[]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--name"), "{r:?}");
}

#[tokio::test]
async fn the_demo_runs_the_whole_scenario_on_the_embedded_emulator() {
    let r = flowctl(&["demo"], &[]).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("[common module] Shared Greeting Module"),
        "{r:?}"
    );
    assert!(r.stdout.contains("Inbound Sales Flow"), "{r:?}");
    assert!(r.stdout.contains("[queue] General Support"), "{r:?}");
    // It ends with one call scenario walked offline through the same flows.
    assert!(
        r.stdout
            .contains("test: 1 scenario(s) passed, 0 failed, 0 unknown"),
        "{r:?}"
    );
}

#[tokio::test]
async fn the_emulator_flag_keeps_a_local_org_between_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &'static [&'static str]| run_in(dir.path(), args, Vec::new());
    let r = run(&[
        "--output",
        "json",
        "--emulator",
        "create-shared",
        "--name",
        "Local Module",
    ])
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["action"], "created");
    let r = run(&[
        "--output",
        "json",
        "--emulator",
        "create-shared",
        "--name",
        "Local Module",
    ])
    .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["action"], "unchanged");
    assert!(dir.path().join(".flowctl").join("org.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_chooses_the_org_and_its_secret_variable() {
    let org = common::Org::new().await;
    let config = org.path().join("config");
    std::fs::create_dir_all(config.join("flowctl")).expect("mkdir");
    std::fs::write(
        config.join("flowctl/config.toml"),
        format!(
            "[profiles.local]\napi_base_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"LOCAL_ORG_SECRET\"\n\n[profiles.prod]\nregion = \"eu-west-1\"\nclient_id = \"prod-id\"\nclient_secret_env = \"PROD_SECRET\"\n",
            org.emulator.base_url(),
            flowctl::emulator::DEFAULT_CLIENT_ID
        ),
    )
    .expect("config");
    let env = vec![
        (
            "XDG_CONFIG_HOME".to_string(),
            config.to_str().expect("utf-8").to_string(),
        ),
        (
            "LOCAL_ORG_SECRET".to_string(),
            flowctl::emulator::DEFAULT_CLIENT_SECRET.to_string(),
        ),
        ("FLOWCTL_PROFILE".to_string(), "local".to_string()),
    ];
    let r = run_in(org.path(), &["--output", "json", "whoami"], env.clone()).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["profile"], "local");
    assert_eq!(r.json()["organization"]["name"], "flowctl emulated org");

    let r = run_in(org.path(), &["profiles"], env.clone()).await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("* local") && r.stdout.contains("  prod"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("$PROD_SECRET")
            && !r.stdout.contains(flowctl::emulator::DEFAULT_CLIENT_SECRET),
        "{r:?}"
    );

    let r = run_in(org.path(), &["--profile", "prod", "whoami"], env.clone()).await;
    assert_eq!(r.code, 2, "the prod secret variable is not set: {r:?}");
    assert!(r.stderr.contains("PROD_SECRET"), "{r:?}");

    let r = run_in(org.path(), &["--profile", "staging", "whoami"], env).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("'staging'") && r.stderr.contains("local, prod"),
        "{r:?}"
    );
}
