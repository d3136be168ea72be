//! `flowctl whoami`: the org, region and OAuth client a command would act on, so nobody
//! deploys to production by mistake.

use super::Session;
use crate::cli::GlobalArgs;
use crate::error::Result;
use crate::output::Printer;

pub(crate) async fn run(global: &GlobalArgs, out: Printer) -> Result<()> {
    let session = Session::connect(global).await?;
    let org = session.client.organization().await;
    let target = session.target.clone();
    session.close().await;
    let org = org?;
    out.json(&serde_json::json!({
        "organization": { "id": org.id, "name": org.name, "domain": org.domain },
        "region": target.region,
        "apiBase": target.api_base,
        "loginBase": target.login_base,
        "clientId": target.client_id,
        "profile": global.profile,
        "emulator": target.emulator,
    }));
    // The org's name and id come from the server: one line, no control characters.
    out.line(format!(
        "organization: {} ({})",
        crate::output::sanitize(&org.name, 200),
        crate::output::sanitize(&org.id, 100)
    ));
    out.line(format!(
        "region:       {}",
        target.region.as_deref().unwrap_or("(custom API base)")
    ));
    out.line(format!("api base:     {}", target.api_base));
    out.line(format!("client id:    {}", target.client_id));
    if let Some(p) = &global.profile {
        out.line(format!("profile:      {p}"));
    }
    if target.emulator {
        out.line("emulator:     yes (a local emulated org, not Genesys Cloud)");
    }
    Ok(())
}
