//! flowctl creates a Genesys Cloud *shared flow* (a common module), the inbound call flows
//! that call it and then queue the caller, and verifies that every one of them references it.
//!
//! Layers, each importing only those below it (`tests/layers.rs` checks the order):
//!
//! 1. Leaves: [`models`] (wire models), [`exit`] (exit codes), [`files`] (bounded reads of
//!    users' files), [`yaml_guard`] (hostile-YAML guards), [`digest`] (SHA-256 hex
//!    prefixes); then [`architect_refs`] (how Architect YAML names what an action refers to,
//!    on the models only), [`expr`] (Architect expressions, pure) and [`progress`]
//!    (waits said on stderr).
//! 2. [`emulator`], an offline Genesys Cloud for tests, demos and users' pipelines: it
//!    imports only [`models`], [`yaml_guard`] and [`architect_refs`] (the wire and file
//!    formats) and has its own error type, so it checks flowctl rather than sharing its
//!    beliefs. The layers above may use it (flags, exit codes, `emulator serve`).
//! 3. [`flow`] (typed flows, Architect YAML rendering and reading) and [`output`] (text,
//!    JSON, escaping), then [`cli`] (flags).
//! 4. [`config`] (flags and environment → settings), then [`client`] (the Platform API).
//! 5. [`error`] (the top-level error: it decides every exit code and hint), then
//!    [`manifest`] (flows as code, reported through that error), then [`lint`].
//! 6. [`import`] (importers that write a manifest, no client) and [`walk`] (the offline
//!    call through a flow: no server; it reads lint's action vocabulary).
//! 7. [`commands`], one per subcommand, on top of everything.

pub(crate) mod architect_refs;
pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub(crate) mod digest;
pub mod emulator;
pub mod error;
pub mod exit;
pub mod expr;
pub(crate) mod files;
pub mod flow;
pub(crate) mod import;
pub mod lint;
pub mod manifest;
pub mod models;
pub mod output;
pub(crate) mod progress;
pub mod walk;
pub(crate) mod yaml_guard;

pub use error::{Error, ExitStatus};

use cli::{Cli, GlobalArgs};

/// Sets up logging on stderr. `-v` info, `-vv` debug, `-vvv` trace; `FLOWCTL_LOG` overrides.
pub fn init_tracing(global: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "flowctl=info",
        (false, 2) => "flowctl=debug",
        (false, _) => "flowctl=trace,info",
    };
    let filter = EnvFilter::try_from_env(cli::env::LOG).unwrap_or_else(|_| EnvFilter::new(level));
    // Colour only on a terminal, and never with NO_COLOR (https://no-color.org).
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(progress::stderr_writer)
        .with_target(false)
        .try_init();
}

/// Runs one command and returns its exit status; errors are printed here, with the whole
/// chain and the next step.
pub async fn run(cli: Cli) -> ExitStatus {
    progress::set_quiet(cli.global.quiet);
    let format = cli.global.output;
    match dispatch(cli).await {
        Ok(()) => ExitStatus::Success,
        Err(err) => {
            report_error(&err, format);
            err.exit_status()
        }
    }
}

async fn dispatch(cli: Cli) -> Result<(), Error> {
    use cli::{Command, EmulatorCommand, OutputFormat};
    let global = &cli.global;
    let out = output::Printer::new(global.output, global.quiet);
    if global.output == OutputFormat::Junit
        && !matches!(cli.command, Command::Verify(_) | Command::Test(_))
    {
        return Err(Error::input(
            "--output junit is only for `verify` and `test`",
            Some("use --output text or --output json".to_string()),
        ));
    }
    if global.output == OutputFormat::Markdown
        && !matches!(
            cli.command,
            Command::Plan(_) | Command::History(_) | Command::Diff(_)
        )
    {
        return Err(Error::input(
            "--output markdown is only for `plan`, `history` and `diff`",
            Some("use --output text or --output json".to_string()),
        ));
    }
    if global.output == OutputFormat::Json {
        let what = match &cli.command {
            Command::Demo => Some("`demo` is a walkthrough for people"),
            Command::Completions { .. } => Some("`completions` prints a shell script"),
            Command::Man => Some("`man` prints a roff page"),
            _ => None,
        };
        if let Some(what) = what {
            return Err(Error::input(
                format!("--output json is not available here: {what}"),
                Some("drop --output json; for JSON, run the commands themselves (with --emulator to try them)".to_string()),
            ));
        }
    }
    match &cli.command {
        Command::CreateShared(args) => commands::create_shared::run(args, global, out).await,
        Command::CreateParent(args) => commands::create_parent::run(args, global, out).await,
        Command::Verify(args) => commands::verify::run(args, global, out).await,
        Command::Plan(args) => commands::plan::run(args, global, out).await,
        Command::Apply(args) => commands::apply::run(args, global, out).await,
        Command::Destroy(args) => commands::destroy::run(args, global, out).await,
        Command::Graph(args) => commands::graph::run(args, global, out).await,
        Command::Export(args) => commands::export::run(args, global, out).await,
        Command::History(args) => commands::history::run(args, global, out).await,
        Command::Diff(args) => commands::diff::run(args, global, out).await,
        Command::Rollback(args) => commands::rollback::run(args, global, out).await,
        Command::Lint(args) => commands::lint::run(args, global, out).await,
        Command::Import(crate::cli::ImportCommand::Terraform(args)) => {
            commands::import::run(args, global, out)
        }
        Command::Test(args) => commands::test::run(args, global, out).await,
        Command::Expr(args) => commands::expr::run(args, out),
        Command::Regions => {
            commands::regions::run(out);
            Ok(())
        }
        Command::Demo => commands::demo::run(out).await,
        Command::Whoami => commands::whoami::run(global, out).await,
        Command::Profiles => commands::profiles::run(global, out),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "flowctl", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            let buf = cli::man_page().map_err(|source| Error::Io {
                path: "stdout".into(),
                source,
            })?;
            out.raw(&String::from_utf8_lossy(&buf));
            Ok(())
        }
        Command::Schema => {
            out.raw(&serde_json::to_string_pretty(&manifest::json_schema()).unwrap_or_default());
            Ok(())
        }
        Command::Emulator(EmulatorCommand::Serve(args)) => commands::serve::run(args).await,
    }
}

/// `flowctl: error: <what failed: why>` then `  hint: <next step>` on stderr. A failed
/// verification has already printed its report, so it only gets a one-line summary.
fn report_error(err: &Error, format: cli::OutputFormat) {
    // `diff` found differences: its report says so, and the exit code is the answer.
    if matches!(err.root(), Error::Differs { .. }) {
        return;
    }
    // `--output json`: scripts read the error from stdout too, unless a report (verify's
    // checks, apply's results) is already there: stdout holds one JSON document.
    if format == cli::OutputFormat::Json && !output::json_printed() {
        let json = output::error_json(
            &err.to_string(),
            err.hint().as_deref(),
            err.exit_status() as u8,
        );
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    }
    // Errors quote servers and files: no control character reaches the terminal raw.
    let shown = output::one_line_each(&err.to_string());
    eprintln!("flowctl: error: {shown}");
    if let Some(hint) = err.hint() {
        eprintln!(
            "  hint: {}",
            output::sanitize_lines(&hint, output::MAX_LINE)
        );
    }
}
