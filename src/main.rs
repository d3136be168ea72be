//! The flowctl binary: parse, set up tracing, run, map the result to an exit code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match flowctl::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => flowctl::cli::usage_error(e),
    };
    flowctl::init_tracing(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("flowctl: error: cannot start the async runtime: {e}");
            return flowctl::ExitStatus::Network.into();
        }
    };
    runtime.block_on(flowctl::run(cli)).into()
}
