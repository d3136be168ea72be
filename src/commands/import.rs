//! `flowctl import terraform DIR --out FILE`: writes a manifest from a CX-as-Code Terraform
//! configuration ([`crate::import::terraform`]), then loads it as `plan` would (offline)
//! so that a problem shows now, not at the first apply. Nothing is sent anywhere.

use crate::cli::{GlobalArgs, ImportTerraformArgs};
use crate::error::{Error, Result};
use crate::import::terraform::{self, FlowEntry, Imported, Inputs};
use crate::output::Printer;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One manifest entry as written.
#[derive(Serialize)]
struct Entry {
    file: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    substitutions: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Written {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    modules: Vec<Entry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flows: Vec<Entry>,
}

pub(crate) fn run(args: &ImportTerraformArgs, global: &GlobalArgs, out: Printer) -> Result<()> {
    if !args.dir.is_dir() {
        return Err(Error::input(
            format!("{} is not a directory", args.dir.display()),
            Some("give the directory you run `terraform apply` in".to_string()),
        ));
    }
    if args.out.exists() && !args.force {
        return Err(Error::input(
            format!("{} already exists", args.out.display()),
            Some("choose another --out, or add --force to overwrite it".to_string()),
        ));
    }
    let env = |k: &str| crate::manifest::process_env(k);
    let inputs = Inputs {
        vars: &args.vars,
        var_files: &args.var_files,
        env: &env,
    };
    let imported = terraform::import(&args.dir, &inputs).map_err(|source| Error::Io {
        path: args.dir.display().to_string(),
        source,
    })?;
    if imported.flows.is_empty() {
        let mut message = format!(
            "{} has no genesyscloud_flow resource that could be imported",
            args.dir.display()
        );
        for u in &imported.untranslated {
            message.push_str(&format!("\n  {}: {}: {}", u.at, u.construct, u.message));
        }
        return Err(Error::input(
            message,
            Some("point DIR at the root module that declares (or calls modules declaring) genesyscloud_flow resources; nothing was written".to_string()),
        ));
    }
    // The OAuth client secret never goes into a file: a substitution holding it (a
    // Terraform variable set to it, say) stops the import before anything is written.
    let secrets: Vec<String> = [
        crate::cli::env::CLIENT_SECRET,
        crate::cli::env::CXAC_CLIENT_SECRET,
    ]
    .iter()
    .filter_map(|k| env(k))
    .filter(|v| v.trim().len() >= 8)
    .collect();
    let leaking: Vec<String> = imported
        .flows
        .iter()
        .flat_map(|f| {
            f.substitutions
                .iter()
                .filter(|(_, v)| secrets.iter().any(|s| v.contains(s.as_str())))
                .map(move |(k, _)| format!("{} ({}): substitution '{k}'", f.address, f.at))
        })
        .collect();
    if !leaking.is_empty() {
        return Err(Error::input(
            format!(
                "these values hold the OAuth client secret, which flowctl never writes into a manifest:\n  {}",
                leaking.join("\n  ")
            ),
            Some("give those variables the values the flows need; nothing was written".to_string()),
        ));
    }
    let manifest_dir = args
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let text = manifest_text(&imported, manifest_dir, &args.dir);
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.display().to_string(),
            source,
        })?;
    }
    std::fs::write(&args.out, &text).map_err(|source| Error::Io {
        path: args.out.display().to_string(),
        source,
    })?;

    // Loaded as `plan` loads it, offline, to report now what the first plan would refuse.
    let check = crate::manifest::load(&args.out, &[], global.profile.as_deref(), &env)
        .err()
        .map(|e| e.to_string());

    let (modules, flows): (Vec<&FlowEntry>, Vec<&FlowEntry>) = imported
        .flows
        .iter()
        .partition(|f| f.top_key == "commonModule");
    out.json(&serde_json::json!({
        "manifest": args.out.display().to_string(),
        "modules": modules.iter().map(|f| entry_json(f)).collect::<Vec<_>>(),
        "flows": flows.iter().map(|f| entry_json(f)).collect::<Vec<_>>(),
        "must_exist": imported.unmanaged,
        "untranslated": imported.untranslated,
        "depends_on_dropped": imported.depends_on_dropped,
        "manifest_problems": check,
    }));
    out.line(format!(
        "wrote {}: {} module{}, {} flow{}",
        args.out.display(),
        modules.len(),
        if modules.len() == 1 { "" } else { "s" },
        flows.len(),
        if flows.len() == 1 { "" } else { "s" },
    ));
    for f in modules.iter().chain(flows.iter()) {
        out.line(format!(
            "  {:<14} {}  ({}, {})",
            f.top_key,
            f.file.display(),
            f.address,
            f.at
        ));
    }
    if !imported.unmanaged.is_empty() {
        out.line("must exist in the org (flowctl does not manage them; plan checks the ones the flows name):");
        for u in &imported.unmanaged {
            out.line(format!(
                "  {} {}{}  ({})",
                u.block,
                u.kind,
                u.name
                    .as_ref()
                    .map(|n| format!(" '{}'", crate::output::sanitize(n, 200)))
                    .unwrap_or_default(),
                u.at
            ));
        }
    }
    if imported.depends_on_dropped > 0 {
        out.line(format!(
            "left out {} depends_on: flowctl derives the publish order from the flows themselves",
            imported.depends_on_dropped
        ));
    }
    if !imported.untranslated.is_empty() {
        out.line(format!(
            "not translated ({}); the manifest has everything else:",
            imported.untranslated.len()
        ));
        for u in &imported.untranslated {
            out.line(format!("  {}: {}: {}", u.at, u.construct, u.message));
        }
    }
    match &check {
        None => out.line(format!("next: flowctl plan -f {}", args.out.display())),
        Some(problems) => out.line(format!(
            "the manifest does not load yet (fix these, then run `flowctl plan -f {}`):\n{problems}",
            args.out.display()
        )),
    }
    Ok(())
}

fn entry_json(f: &FlowEntry) -> serde_json::Value {
    serde_json::json!({
        "file": f.file.display().to_string(),
        "type": f.top_key,
        "address": f.address,
        "at": f.at,
        "substitutions": f.substitutions,
    })
}

/// The manifest: a header saying where it came from and what must exist in the org, then
/// `modules:` (files whose top-level key is `commonModule`) and `flows:` (the rest), each
/// entry with its own substitutions.
fn manifest_text(imported: &Imported, manifest_dir: &Path, root: &Path) -> String {
    // Both absolute, so that the path from the manifest to the file is right whatever the
    // working directory.
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let from = absolute(manifest_dir);
    let entry = |f: &FlowEntry| Entry {
        file: terraform::relative(&absolute(&f.file), &from)
            .display()
            .to_string(),
        substitutions: f.substitutions.clone(),
    };
    let written = Written {
        modules: imported
            .flows
            .iter()
            .filter(|f| f.top_key == "commonModule")
            .map(entry)
            .collect(),
        flows: imported
            .flows
            .iter()
            .filter(|f| f.top_key != "commonModule")
            .map(entry)
            .collect(),
    };
    let comment = |s: &str| crate::output::sanitize(s, 300).replace(['\n', '\r'], " ");
    let mut text = format!(
        "# Written by `flowctl import terraform {}` from its genesyscloud_flow resources.\n# flowctl derives the publish order from the flows; no depends_on is needed.\n",
        comment(&root.display().to_string())
    );
    if !imported.unmanaged.is_empty() {
        text.push_str("# Must exist in the org (flowctl does not manage them):\n");
        for u in &imported.unmanaged {
            text.push_str(&format!(
                "#   {} {}{} ({})\n",
                u.block,
                u.kind,
                u.name
                    .as_ref()
                    .map(|n| format!(" '{}'", comment(n)))
                    .unwrap_or_default(),
                comment(&u.at.to_string())
            ));
        }
    }
    if !imported.untranslated.is_empty() {
        text.push_str("# Not translated:\n");
        for u in &imported.untranslated {
            text.push_str(&format!(
                "#   {}: {}: {}\n",
                comment(&u.at.to_string()),
                comment(&u.construct),
                comment(&u.message)
            ));
        }
    }
    text.push_str(&yaml_serde::to_string(&written).unwrap_or_default());
    text
}
