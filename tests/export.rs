//! `flowctl export`: published flows (made with flowctl or by hand) become Architect YAML
//! files and a manifest that plans as all `unchanged` against the same org and recreates
//! them in an empty one.

mod common;

use common::{Org, Run};
use std::path::Path;

const MANIFEST: &str = include_str!("fixtures/manifests/two_modules_two_callers.yaml");

/// An inbound call flow written by hand in Architect, calling the module.
fn hand_made(name: &str, module: &str, queue: &str) -> String {
    include_str!("fixtures/flows/hand_made_inbound.yaml")
        .replace("{name}", name)
        .replace("{module}", module)
        .replace("{queue}", queue)
}

fn module_yaml(name: &str) -> String {
    format!(
        "commonModule:\n  name: {}\n  division: Home\n  defaultLanguage: en-us\n  supportedLanguages:\n    en-us:\n      none: true\n  startUpTaskActions:\n    - endTask:\n        name: Done\n",
        serde_json::to_string(name).unwrap_or_default()
    )
}

async fn org_with_flows() -> Org {
    let org = Org::new().await;
    let path = org.path().join("flows.yaml");
    std::fs::write(&path, MANIFEST).expect("write manifest");
    let r = org
        .flowctl(&["apply", "-f", path.to_str().expect("utf-8")])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    org.emulator
        .publish_as_ui_user(&hand_made(
            "Hand Made Flow",
            "Shared Greeting Module",
            "General Support",
        ))
        .unwrap_or_else(|e| panic!("{e:?}"));
    org
}

fn actions(r: &Run) -> Vec<(String, String)> {
    r.plan_actions()
        .into_iter()
        .map(|(name, action, _)| (name, action))
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_of_exports_the_module_and_every_caller_then_plans_unchanged_and_recreates_them_elsewhere(
) {
    let org = org_with_flows().await;
    let out = org.path().join("adopted");
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "export",
            "--callers-of",
            "Shared Greeting Module",
            "--out",
            s(&out),
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let mut names: Vec<String> = r.json()["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(|f| f["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        names.first().map(String::as_str),
        Some("Shared Greeting Module")
    );
    names.sort();
    assert_eq!(
        names,
        [
            "Hand Made Flow",
            "Inbound Sales Flow",
            "Inbound Support Flow",
            "Shared Greeting Module"
        ]
    );

    // The manifest lists the module first, then the flows, each from its own file.
    let manifest = out.join("flowctl.yaml");
    let text = std::fs::read_to_string(&manifest).expect("manifest written");
    let modules_at = text.find("modules:").expect("modules");
    let flows_at = text.find("flows:").expect("flows");
    assert!(modules_at < flows_at, "{text}");
    assert!(!text.contains("Unrelated Module"), "{text}");
    let files: Vec<_> = std::fs::read_dir(out.join("flows"))
        .expect("flows dir")
        .collect();
    assert_eq!(files.len(), 4);
    let hand =
        std::fs::read_to_string(out.join("flows").join(flowctl::commands::export::file_name(
            flowctl::models::FlowType::InboundCall,
            "Hand Made Flow",
        )))
        .expect("hand-made flow written");
    assert!(hand.contains("Built in the UI by someone"), "{hand}");
    // A flowctl flow's description held only the marker: it is dropped, and the keys keep
    // the export's order (the flow's settings before its tasks).
    let sales =
        std::fs::read_to_string(out.join("flows").join(flowctl::commands::export::file_name(
            flowctl::models::FlowType::InboundCall,
            "Inbound Sales Flow",
        )))
        .expect("sales flow written");
    assert!(!sales.contains("description:"), "{sales}");
    let at = |k: &str| sales.find(k).unwrap_or_else(|| panic!("{k} in {sales}"));
    assert!(at("\n  name:") < at("\n  division:"), "{sales}");
    assert!(at("\n  division:") < at("\n  tasks:"), "{sales}");
    assert!(
        !text.contains("[flowctl:sha256="),
        "no marker in the manifest"
    );

    // Against the same org: everything unchanged (no marker on the hand-made flow, and
    // the files are Architect's export, not flowctl's bytes).
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", s(&manifest)])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let a = actions(&r);
    assert_eq!(a.len(), 4);
    assert!(a.iter().all(|(_, x)| x == "unchanged"), "{a:?}");

    // Into an empty org: all recreated, the module first (Architect refuses a caller of an
    // unpublished module, so a wrong order fails the apply).
    let empty = Org::new().await;
    let r = empty
        .flowctl(&["--output", "json", "apply", "-f", s(&manifest)])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let results = r.json()["results"].as_array().expect("results").clone();
    assert_eq!(results.len(), 4);
    assert!(
        results.iter().all(|x| x["outcome"] == "published"),
        "{results:?}"
    );
    let flows = empty.emulator.flows();
    assert_eq!(flows.len(), 4);
    let published = |name: &str| {
        flows
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.published_version.clone())
            .and_then(|v| v.date_created)
            .unwrap_or_else(|| panic!("{name} published"))
    };
    let module = published("Shared Greeting Module");
    for name in [
        "Hand Made Flow",
        "Inbound Sales Flow",
        "Inbound Support Flow",
    ] {
        assert!(published(name) >= module, "{name} after the module");
    }
    let r = empty
        .flowctl(&["--output", "json", "plan", "-f", s(&manifest)])
        .await;
    assert!(actions(&r).iter().all(|(_, x)| x == "unchanged"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_flow_names_become_safe_distinct_files_that_round_trip() {
    let org = Org::new().await;
    let long = format!("Long {}", "ü".repeat(195));
    let hostile = [
        "a/b\\c:d*e?f<g>h|i",
        "../../etc/passwd",
        "CON",
        "'single' and \"double\" quotes",
        "名前 モジュール",
        long.as_str(),
    ];
    for name in hostile {
        org.emulator
            .publish_as_ui_user(&module_yaml(name))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    let out = org.path().join("out");
    let r = org
        .flowctl(&["export", "--all-modules", "--out", s(&out)])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let files: Vec<String> = std::fs::read_dir(out.join("flows"))
        .expect("flows dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), hostile.len(), "{files:?}");
    for f in &files {
        assert!(f.len() <= 80, "{f}");
        assert!(
            f.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c)),
            "{f}"
        );
    }
    // Nothing escaped the output directory.
    assert!(!org.path().join("etc").exists());

    let manifest = out.join("flowctl.yaml");
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", s(&manifest)])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let a = actions(&r);
    let mut planned: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    planned.sort();
    let mut expected = hostile.to_vec();
    expected.sort();
    assert_eq!(planned, expected, "the names survive the manifest exactly");
    assert!(a.iter().all(|(_, x)| x == "unchanged"), "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_never_overwrites_a_file_without_force() {
    let org = org_with_flows().await;
    let out = org.path().join("adopted");
    let args = ["export", "--name", "Inbound Sales Flow", "--out", s(&out)];
    let r = org.flowctl(&args).await;
    assert_eq!(r.code, 0, "{r:?}");
    let manifest = out.join("flowctl.yaml");
    std::fs::write(&manifest, "# my edits\n").expect("edit");

    let r = org.flowctl(&args).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("already exist"), "{r:?}");
    assert!(r.stderr.contains("--force"), "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap_or_default(),
        "# my edits\n"
    );

    let mut forced = args.to_vec();
    forced.push("--force");
    let r = org.flowctl(&forced).await;
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(&manifest).unwrap_or_default();
    // The module it calls comes along, so the manifest is complete.
    assert!(text.contains("Shared Greeting Module"), "{text}");
    assert!(text.contains("Inbound Sales Flow"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn substitute_turns_queues_and_divisions_into_placeholders_that_deploy_to_another_org() {
    let org = org_with_flows().await;
    let out = org.path().join("adopted");
    let r = org
        .flowctl(&[
            "export",
            "--callers-of",
            "Shared Greeting Module",
            "--substitute",
            "queue",
            "--substitute",
            "division",
            "--out",
            s(&out),
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let manifest = out.join("flowctl.yaml");
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    assert!(
        text.contains("queue_general_support: General Support"),
        "{text}"
    );
    assert!(text.contains("division_home: Home"), "{text}");
    let hand =
        std::fs::read_to_string(out.join("flows").join(flowctl::commands::export::file_name(
            flowctl::models::FlowType::InboundCall,
            "Hand Made Flow",
        )))
        .expect("flow file");
    assert!(hand.contains("{{queue_general_support}}"), "{hand}");
    assert!(hand.contains("{{division_home}}"), "{hand}");
    assert!(!hand.contains("General Support"), "{hand}");

    // Same org, same values: unchanged.
    let r = org
        .flowctl(&["--output", "json", "plan", "-f", s(&manifest)])
        .await;
    assert!(actions(&r).iter().all(|(_, x)| x == "unchanged"), "{r:?}");

    // Another org with another queue.
    let other = Org::new().await;
    let r = other
        .flowctl(&[
            "apply",
            "-f",
            s(&manifest),
            "--var",
            "queue_general_support=Sales",
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let f = other
        .emulator
        .flows()
        .into_iter()
        .find(|f| f.name == "Hand Made Flow")
        .expect("recreated");
    let yaml = other.emulator.published_yaml(&f.id).unwrap_or_default();
    assert!(yaml.contains("name: Sales"), "{yaml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_name_exits_2_and_writes_nothing() {
    let org = org_with_flows().await;
    let out = org.path().join("adopted");
    let r = org
        .flowctl(&["export", "--name", "No Such Flow", "--out", s(&out)])
        .await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("no flow named 'No Such Flow'"), "{r:?}");
    assert!(!out.exists());
    let r = org.flowctl(&["export", "--out", s(&out)]).await;
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("--callers-of"), "{r:?}");
}

/// The emulator's export jobs over HTTP, as a client of the real API sees them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_jobs_give_one_flow_as_yaml_and_several_as_a_zip_in_architects_own_layout() {
    let org = org_with_flows().await;
    let base = org.emulator.base_url();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(
            flowctl::emulator::DEFAULT_CLIENT_ID,
            Some(flowctl::emulator::DEFAULT_CLIENT_SECRET),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token JSON");
    let token = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_string();
    let flows = org.emulator.flows();
    let id = |name: &str| {
        flows
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.id.clone())
            .expect("flow")
    };
    let export = |ids: Vec<String>| {
        let http = http.clone();
        let base = base.clone();
        let token = token.clone();
        async move {
            let body = serde_json::json!({
                "flows": ids.iter().enumerate().map(|(i, id)| serde_json::json!({
                    "flow": {"id": id}, "fileName": format!("f_{i}"), "exportType": "Yaml"
                })).collect::<Vec<_>>()
            });
            let job: serde_json::Value = http
                .post(format!("{base}/api/v2/flows/export/jobs"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .expect("register")
                .json()
                .await
                .expect("registration JSON");
            assert_eq!(job["totalFlows"], ids.len());
            let job_id = job["id"].as_str().expect("id").to_string();
            let url = loop {
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                let state: serde_json::Value = http
                    .get(format!(
                        "{base}/api/v2/flows/export/jobs/{job_id}?expand=messages"
                    ))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("poll")
                    .json()
                    .await
                    .expect("state JSON");
                if state["status"] == "Success" {
                    break state["downloadUrl"]
                        .as_str()
                        .expect("downloadUrl")
                        .to_string();
                }
                assert_eq!(state["status"], "Started", "{state}");
            };
            // A storage URL: the API token is refused there, as S3 refuses a second auth.
            let refused = http
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await
                .expect("get");
            assert_eq!(refused.status().as_u16(), 400);
            let r = http.get(&url).send().await.expect("download");
            assert_eq!(r.status().as_u16(), 200);
            let kind = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            (kind, r.bytes().await.expect("bytes").to_vec())
        }
    };

    let module = id("Shared Greeting Module");
    let (kind, bytes) = export(vec![module.clone()]).await;
    assert_eq!(kind, "application/x-yaml");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let published = org.emulator.published_yaml(&module).expect("published");
    assert_ne!(
        text, published,
        "Architect's layout, not the uploaded bytes"
    );
    assert!(
        text.contains("settingsActionDefaults") && !published.contains("settingsActionDefaults")
    );
    let same = flowctl::flow::compare::compare(&published, &text).expect("compare");
    assert!(same.same, "{}", same.diff);

    let (kind, bytes) = export(vec![id("Inbound Sales Flow"), id("Hand Made Flow")]).await;
    assert_eq!(kind, "application/zip");
    assert!(bytes.starts_with(b"PK\x03\x04"));
    let files = flowctl::client::export::unpack(&bytes).expect("zip");
    let mut names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    names.sort();
    assert_eq!(names, ["f_0.yaml", "f_1.yaml"]);
    assert!(files.iter().any(|(_, t)| t.contains("Hand Made Flow")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_of_warns_when_the_dependency_index_is_rebuilding() {
    let org = org_with_flows().await;
    org.emulator.set_build_status("BUILDINPROGRESS");
    let out = org.path().join("adopted");
    let r = org
        .flowctl(&[
            "--output",
            "json",
            "export",
            "--callers-of",
            "Shared Greeting Module",
            "--out",
            s(&out),
        ])
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let warnings = r.json()["warnings"].to_string();
    assert!(warnings.contains("BUILDINPROGRESS"), "{r:?}");
    assert!(warnings.contains("may be incomplete"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_the_secret_nor_the_download_urls_signature_is_printed_at_vvv() {
    let org = org_with_flows().await;
    let out = org.path().join("adopted");
    let export = org
        .flowctl(&["-vvv", "export", "--all-modules", "--out", s(&out)])
        .await;
    assert_eq!(export.code, 0, "{export:?}");
    let plan = org
        .flowctl(&["-vvv", "plan", "-f", s(&out.join("flowctl.yaml"))])
        .await;
    assert_eq!(plan.code, 0, "{plan:?}");
    for r in [&export, &plan] {
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains("X-Amz-Signature"), "{r:?}");
            assert!(
                !text.contains(flowctl::emulator::DEFAULT_CLIENT_SECRET),
                "{r:?}"
            );
        }
    }
    // The runs did download: the export and the plan's drift check each read a zip.
    let downloads = org
        .emulator
        .requests()
        .iter()
        .filter(|(m, p, s)| m == "GET" && p.starts_with("/exports/") && *s == 200)
        .count();
    assert!(downloads >= 2, "{downloads}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_selections_exit_2_before_any_request() {
    let org = Org::new().await;
    let out = org.path().join("x");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--type", "inboundcall"], "--name"),
        (
            vec!["--name", "A", "--type", "nope"],
            "unknown flow type 'nope'",
        ),
        (
            vec![
                "--name",
                "A",
                "--name",
                "B",
                "--name",
                "C",
                "--type",
                "inboundcall",
                "--type",
                "commonmodule",
            ],
            "2 --type for 3 --name",
        ),
        (vec!["--all-modules", "--substitute", "skill"], "skill"),
    ];
    for (extra, message) in cases {
        let mut args = vec!["export", "--out", s(&out)];
        args.extend(extra.iter().copied());
        let r = org.flowctl(&args).await;
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        assert!(r.stderr.contains(message), "{args:?}: {r:?}");
    }
    assert_eq!(org.emulator.request_count(), 0);
    assert!(!out.exists());
}
