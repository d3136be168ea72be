//! `flowctl emulator serve`: the offline Genesys Cloud for users' own pipelines. This is
//! where the flags become the emulator's settings; the emulator itself knows nothing of
//! flowctl's command line.

use crate::cli::EmulatorServeArgs;
use crate::emulator::{Emulator, EmulatorConfig, FaultConfig, Seed};
use crate::error::{Error, Result};
use std::time::Duration;

/// `flowctl emulator serve`: prints the base URL as the first line of stdout, then serves
/// until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: &EmulatorServeArgs) -> Result<()> {
    if !args.addr.ip().is_loopback() {
        return Err(Error::input(
            format!("--addr {} is not a loopback address", args.addr),
            Some(
                "the emulator listens on this machine only, e.g. --addr 127.0.0.1:8787".to_string(),
            ),
        ));
    }
    let config = config(args)?;
    let emulator = Emulator::start_on(args.addr, config).await?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", emulator.base_url());
        let _ = out.flush();
    }
    eprintln!(
        "flowctl emulator: client id '{}', queues General Support, Sales, Billing; Ctrl-C to stop",
        args.client_id
    );
    if args.faults.is_some() {
        let seed = emulator.fault_seed();
        eprintln!(
            "flowctl emulator: random faults seeded with {seed} (replay them with --fault-seed {seed})"
        );
    }
    wait_for_stop().await;
    emulator.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The emulator's settings from `flowctl emulator serve` flags; a bad `--faults` or `--seed`
/// names itself.
pub(crate) fn config(args: &EmulatorServeArgs) -> Result<EmulatorConfig> {
    let faults = match &args.faults {
        Some(spec) => FaultConfig::parse(spec).map_err(|e| {
            Error::input(
                format!("--faults '{spec}': {e}"),
                Some("e.g. --faults 429=0.1,503=0.05,drop=0.02".to_string()),
            )
        })?,
        None => FaultConfig::default(),
    };
    let faults = FaultConfig {
        seed: args.fault_seed,
        ..faults
    };
    let seed = match &args.seed {
        Some(path) => Some(Seed::load(path)?),
        None => None,
    };
    Ok(EmulatorConfig {
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        token_lifetime: Duration::from_secs(args.token_lifetime.max(1)),
        latency: Duration::from_millis(args.latency_ms),
        job_time: Duration::from_millis(args.job_ms),
        rate_limit: args.rate_limit.max(1),
        rate_window: Duration::from_secs(args.rate_window.max(1)),
        job_requests: args.job_requests,
        job_spends_at_start: args.job_spends_at_start,
        reset_rounds_down: args.reset_rounds_down,
        index_lag: Duration::from_millis(args.index_lag_ms),
        read_lag: Duration::from_millis(args.read_lag_ms),
        delete_conflicts: args.delete_conflicts,
        faults,
        state_file: args.state.clone(),
        seed,
        ..EmulatorConfig::default()
    })
}
