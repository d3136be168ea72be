//! `flowctl regions`: the region table (name, API base, login base).

use crate::config::REGIONS;
use crate::output::Printer;
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    region: &'static str,
    api_base: &'static str,
    login_base: String,
}

pub(crate) fn run(out: Printer) {
    let rows: Vec<Row> = REGIONS
        .iter()
        .map(|r| Row {
            region: r.name,
            api_base: r.api_base,
            login_base: r.login_base(),
        })
        .collect();
    out.json(&rows);
    out.line(format!(
        "{:<16} {:<40} {}",
        "REGION", "API BASE", "LOGIN BASE"
    ));
    for r in &rows {
        out.line(format!(
            "{:<16} {:<40} {}",
            r.region, r.api_base, r.login_base
        ));
    }
}
