//! Command-line definitions (clap derive). Doc comments here are the `--help` text.
//!
//! Environment variable names live in [`env`](mod@env) so that configuration resolution, tests and
//! docs agree on them.

use crate::exit::EXIT_CODES_HELP;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// How long one Architect job is waited for by default: 16 minutes, as the Terraform
/// provider waits for a flow's job (`util.WithRetries(ctx, 16*time.Minute, ...)` in
/// `genesyscloud/architect_flow/resource_genesyscloud_flow.go`). A job held by a busy
/// Architect or by the token's rate limit still publishes; giving up sooner would exit 5
/// on a flow that then publishes.
pub(crate) const JOB_TIMEOUT_SECS: u64 = 960;
/// Environment variable names, in one place.
pub(crate) mod env {
    pub(crate) const REGION: &str = "GENESYS_REGION";
    pub(crate) const CLIENT_ID: &str = "GENESYS_CLIENT_ID";
    pub(crate) const CLIENT_SECRET: &str = "GENESYS_CLIENT_SECRET";
    /// CX-as-Code (Terraform provider) names, accepted as fallbacks.
    pub(crate) const CXAC_REGION: &str = "GENESYSCLOUD_REGION";
    pub(crate) const CXAC_CLIENT_ID: &str = "GENESYSCLOUD_OAUTHCLIENT_ID";
    pub(crate) const CXAC_CLIENT_SECRET: &str = "GENESYSCLOUD_OAUTHCLIENT_SECRET";
    pub(crate) const API_BASE_URL: &str = "GENESYS_API_BASE_URL";
    pub(crate) const LOGIN_BASE_URL: &str = "GENESYS_LOGIN_BASE_URL";
    pub(crate) const CLIENT_SECRET_FILE: &str = "GENESYS_CLIENT_SECRET_FILE";
    pub(crate) const NO_TOKEN_CACHE: &str = "FLOWCTL_NO_TOKEN_CACHE";
    pub(crate) const LOG: &str = "FLOWCTL_LOG";
    pub(crate) const PROFILE: &str = "FLOWCTL_PROFILE";
    /// Seconds one API request may take across its attempts.
    pub(crate) const REQUEST_TIMEOUT: &str = "FLOWCTL_REQUEST_TIMEOUT";
}

/// Create, publish and verify Genesys Cloud shared flows (common modules) and the inbound
/// call flows that call them.
#[derive(Debug, Parser)]
#[command(name = "flowctl", version, after_help = EXIT_CODES_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Prints clap's error and exits; `--client-secret` after a subcommand also gets the
/// reason there is no such flag (never its value).
pub(crate) fn exit_on_parse_error(e: clap::Error) -> ! {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let _ = e.print();
    let secret_flag = e.kind() == ErrorKind::UnknownArgument
        && matches!(e.get(ContextKind::InvalidArg), Some(ContextValue::String(a)) if a.split('=').next() == Some("--client-secret"));
    if secret_flag {
        eprintln!("\nhint: there is no --client-secret: a secret on the command line stays in shell history and is visible to every user in `ps`; put it in {} (e.g. from your CI's secret store) or .env, or in a file (mode 0600) given to --client-secret-file PATH", env::CLIENT_SECRET);
    }
    std::process::exit(e.exit_code())
}

/// `--client-secret` was given; its value is not kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SecretGiven;

/// Flags every subcommand takes. Their own heading keeps each subcommand's `--help` on its
/// own options first.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Output format. `junit` is for `verify` and `test`, `markdown` for `plan`.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) output: OutputFormat,
    /// More log detail on stderr (-v info, -vv debug, -vvv trace). Secrets are always redacted.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    /// Genesys Cloud region, by name (eu-west-1) or domain (mypurecloud.ie). [env: GENESYS_REGION, GENESYSCLOUD_REGION]
    #[arg(long, global = true)]
    pub(crate) region: Option<String>,
    /// OAuth client id (client credentials grant). [env: GENESYS_CLIENT_ID, GENESYSCLOUD_OAUTHCLIENT_ID]
    #[arg(long, global = true)]
    pub(crate) client_id: Option<String>,
    /// Read the OAuth client secret from this file (the secret is never taken as a flag).
    /// [env: GENESYS_CLIENT_SECRET_FILE; or the secret itself in GENESYS_CLIENT_SECRET]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) client_secret_file: Option<PathBuf>,
    /// Refused with an explanation: a secret on the command line leaks (shell history,
    /// `ps`). The value is dropped as it is parsed, never kept or printed. Not global:
    /// `emulator serve --client-secret` is the emulator's own (non-secret) setting.
    #[arg(id = "client_secret_flag", long = "client-secret", hide = true, num_args = 0..=1, value_name = "SECRET", value_parser = |_: &str| Ok::<_, std::convert::Infallible>(SecretGiven))]
    pub(crate) client_secret: Option<SecretGiven>,
    /// API base URL replacing the region's (for the emulator and tests). [env: GENESYS_API_BASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) api_base_url: Option<String>,
    /// Login base URL; default: the API base with `api.` turned into `login.`. [env: GENESYS_LOGIN_BASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) login_base_url: Option<String>,
    /// Do not read or write the token cache.
    #[arg(long, global = true)]
    pub(crate) no_token_cache: bool,
    /// Profile: org settings from `config.toml` and the manifest's per-profile substitutions.
    #[arg(long, global = true, env = env::PROFILE, value_name = "NAME")]
    pub(crate) profile: Option<String>,
    /// Run against a local emulated org kept under `.flowctl/` instead of Genesys Cloud.
    #[arg(long, global = true)]
    pub(crate) emulator: bool,
}

/// `--output`: kept with the renderers in [`crate::output`], named here for the flags.
pub(crate) use crate::output::OutputFormat;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create or update the shared flow (a common module) and publish it.
    #[command(
        after_help = "Example:\n  flowctl create-shared --name \"Shared Greeting Module\" --greeting \"Hello, thanks for calling.\""
    )]
    CreateShared(CreateSharedArgs),
    /// Create or update inbound call flows that call the shared flow, then queue the caller.
    #[command(
        after_help = "Example:\n  flowctl create-parent --name \"Inbound Sales Flow\" --name \"Inbound Support Flow\" \\\n      --shared \"Shared Greeting Module\" --queue \"General Support\""
    )]
    CreateParent(CreateParentArgs),
    /// Verify that every parent flow is published and references the shared flow.
    #[command(
        after_help = "Example:\n  flowctl verify --shared \"Shared Greeting Module\" --parent \"Inbound Sales Flow\" --output junit > verify.xml"
    )]
    Verify(VerifyArgs),
    /// Show what `apply` would do for a manifest, and why (no changes).
    #[command(after_help = "Example:\n  flowctl plan -f flows.yaml --var region_queue=Sales")]
    Plan(PlanArgs),
    /// Publish a manifest: modules before their callers, in parallel, no churn, with cascade.
    #[command(after_help = "Example:\n  flowctl apply -f flows.yaml --parallel 8")]
    Apply(ApplyArgs),
    /// Delete a manifest's flows: callers before modules.
    #[command(after_help = "Example:\n  flowctl destroy -f flows.yaml --yes")]
    Destroy(DestroyArgs),
    /// Draw modules, flows and queues as Mermaid, DOT or a text tree (or JSON with --output json).
    #[command(after_help = "Example:\n  flowctl graph -f flows.yaml --format mermaid > flows.mmd")]
    Graph(GraphArgs),
    /// Write published flows as Architect YAML files and a manifest that deploys them.
    #[command(
        after_help = "Example:\n  flowctl export --callers-of \"Shared Greeting Module\" --out adopted --substitute queue\n  flowctl plan -f adopted/flowctl.yaml"
    )]
    Export(ExportArgs),
    /// Write a manifest from another tool's configuration (a CX-as-Code Terraform directory).
    #[command(
        subcommand,
        after_help = "Example:\n  flowctl import terraform infra --var TF_ENV=dev --out infra/flowctl.yaml\n  flowctl plan -f infra/flowctl.yaml"
    )]
    Import(ImportCommand),
    /// List a flow's published versions, who published each, and which callers run which.
    #[command(
        after_help = "Example:\n  flowctl history \"Shared Greeting Module\" --type commonmodule --output markdown"
    )]
    History(HistoryArgs),
    /// Compare two published versions of a flow (or one with a local file) by meaning.
    #[command(
        after_help = "Example:\n  flowctl diff \"Shared Greeting Module\" --from 3.0 --to 4.0\n  flowctl diff \"Shared Greeting Module\" --file flows/greeting.yaml --var queue=Sales"
    )]
    Diff(DiffArgs),
    /// Publish an earlier version's content again, then republish every caller of a module.
    #[command(
        after_help = "Example:\n  flowctl rollback \"Shared Greeting Module\" --dry-run\n  flowctl rollback \"Shared Greeting Module\" --to 3.0 --yes"
    )]
    Rollback(RollbackArgs),
    /// Check Architect YAML files offline and list every problem.
    #[command(
        after_help = "Example:\n  flowctl lint flows/*.yaml --var division=Home\n  flowctl lint -f flows.yaml --output json"
    )]
    Lint(LintArgs),
    /// Walk call scenarios through flows offline (no org, no credentials) and check where
    /// each call ends.
    #[command(
        after_help = "Example:\n  flowctl test -f flows.yaml --scenarios scenarios.yaml\n  flowctl test flows/ivr.yaml flows/greeting.yaml --scenarios calls.yaml --output junit > calls.xml"
    )]
    Test(TestArgs),
    /// Type-check and evaluate an Architect expression offline, as Architect reads it.
    #[command(
        after_help = "Example:\n  flowctl expr 'Substring(\"Hello\", 2, 3)'\n  flowctl expr 'If(Flow.vip, \"VIP\", \"Standard\")' --declare Flow.vip:Boolean --set Flow.vip=true\n  flowctl expr --check --flow flows/main.yaml 'Left(Flow.accountNumber, 1) == \"9\"' --output json"
    )]
    Expr(ExprArgs),
    /// List the Genesys Cloud regions with their API and login hosts.
    #[command(after_help = "Example:\n  flowctl regions --output json")]
    Regions,
    /// List the profiles of config.toml and which one is active.
    #[command(after_help = "Example:\n  FLOWCTL_PROFILE=prod flowctl profiles")]
    Profiles,
    /// Show the org, region and OAuth client a command would act on.
    #[command(after_help = "Example:\n  flowctl --profile prod whoami")]
    Whoami,
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  flowctl completions bash > /etc/bash_completion.d/flowctl"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): flowctl(1), then a page for every subcommand.
    #[command(after_help = "Example:\n  flowctl man > /usr/local/share/man/man1/flowctl.1")]
    Man,
    /// Print the manifest's JSON Schema (for editors: yaml-language-server).
    #[command(after_help = "Example:\n  flowctl schema > manifest.schema.json")]
    Schema,
    /// Run the whole scenario on an embedded emulator: no org or credentials needed.
    #[command(after_help = "Example:\n  cargo run --release -- demo")]
    Demo,
    /// The offline Genesys Cloud emulator.
    #[command(
        subcommand,
        after_help = "Example:\n  flowctl emulator serve --addr 127.0.0.1:8787"
    )]
    Emulator(EmulatorCommand),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct PublishArgs {
    /// Print the Architect YAML the job would get; no credentials, no network.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Give up waiting for an Architect job after this many seconds (1 to 86400). The
    /// default, 960 (16 minutes), is what the Terraform provider waits for a flow's job: a
    /// job held by a busy Architect or by the token's rate limit still publishes, and
    /// giving up sooner than the reference tool would exit 5 on a flow that publishes.
    #[arg(long, value_name = "SECONDS", default_value_t = JOB_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) job_timeout: u64,
    /// Trust the content marker in the description: do not export a flow someone else
    /// published last to compare its content (misses edits made in the UI).
    #[arg(long)]
    pub(crate) no_drift: bool,
    /// The name is a new flow, not a typo: publish it even though a flow of that type has
    /// a close name (another case, a letter or two apart), which is refused otherwise.
    #[arg(long)]
    pub(crate) new_flow: bool,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct CreateSharedArgs {
    /// Name of the common module (1-200 characters).
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Description of the module.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Text-to-speech greeting the module plays.
    #[arg(long, default_value = "Hello, thank you for calling.")]
    pub(crate) greeting: String,
    /// Division of the module. Without it, an existing module stays in its division and
    /// a new one goes to Home; naming another division moves the module (and says so).
    #[arg(long)]
    pub(crate) division: Option<String>,
    /// Language of the flow.
    #[arg(long, default_value = crate::flow::DEFAULT_LANGUAGE)]
    pub(crate) language: String,
    /// Publish your own Architect YAML (a commonModule) instead of the built-in greeting.
    #[arg(long, value_name = "FLOW.yaml", conflicts_with = "greeting")]
    pub(crate) file: Option<PathBuf>,
    /// Substitution for `{{key}}` placeholders in --file, as key=value (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub(crate) vars: Vec<(String, String)>,
    #[command(flatten)]
    pub(crate) publish: PublishArgs,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct CreateParentArgs {
    /// Name of an inbound call flow (repeat for several; they are created concurrently).
    #[arg(long = "name", required = true)]
    pub(crate) names: Vec<String>,
    /// The shared flow (common module) to call, by exact name or id.
    #[arg(long)]
    pub(crate) shared: String,
    /// The queue to transfer the caller to, by exact name or id.
    #[arg(long)]
    pub(crate) queue: String,
    /// Description of the flows.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Division of the flows. Without it, an existing flow stays in its division and a
    /// new one goes to Home; naming another division moves the flow (and says so).
    #[arg(long)]
    pub(crate) division: Option<String>,
    /// Language of the flows.
    #[arg(long, default_value = crate::flow::DEFAULT_LANGUAGE)]
    pub(crate) language: String,
    #[command(flatten)]
    pub(crate) publish: PublishArgs,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct VerifyArgs {
    /// The shared flow (common module), by exact name or id.
    #[arg(long, required_unless_present = "file", conflicts_with = "file")]
    pub(crate) shared: Option<String>,
    /// A parent flow that must call it, by exact name or id (repeatable). Without any,
    /// every published caller that dependency tracking knows is verified.
    #[arg(long = "parent", conflicts_with = "file")]
    pub(crate) parents: Vec<String>,
    /// A queue every parent must transfer to, by exact name or id.
    #[arg(long)]
    pub(crate) queue: Option<String>,
    /// How long to wait for the dependency index to show missing links (at most a day).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub(crate) wait: u64,
    /// Verify every flow of a manifest instead (each against the modules and queues it uses).
    #[arg(short = 'f', long = "file", value_name = "MANIFEST")]
    pub(crate) file: Option<PathBuf>,
    /// Substitution for `{{key}}` placeholders in the manifest, as key=value (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var, requires = "file")]
    pub(crate) vars: Vec<(String, String)>,
    /// With -f: check every path of each flow offline, no org needed (bounded, loops cut
    /// and counted): each path calls the manifest's modules before it ends, every
    /// transfer goes to a queue the manifest names; unreachable actions are reported.
    #[arg(long, requires = "file")]
    pub(crate) paths: bool,
    /// With --paths: scenario files whose calls count toward path coverage.
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "paths")]
    pub(crate) scenarios: Vec<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct TestArgs {
    /// Architect YAML files whose flows the scenarios walk (modules among them are entered).
    #[arg(required_unless_present = "manifest", value_name = "FLOW.yaml")]
    pub(crate) files: Vec<PathBuf>,
    /// Walk the flows of a manifest (its files and built-in templates) instead of FILEs.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "MANIFEST",
        conflicts_with = "files"
    )]
    pub(crate) manifest: Option<PathBuf>,
    /// Scenario files (YAML, see schema/scenarios.schema.json).
    #[arg(long, value_name = "FILE", required = true, num_args = 1..)]
    pub(crate) scenarios: Vec<PathBuf>,
    /// Substitution for `{{key}}` placeholders, as key=value (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub(crate) vars: Vec<(String, String)>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ManifestArgs {
    /// The manifest (YAML: substitutions, modules, flows).
    #[arg(short = 'f', long = "file", value_name = "MANIFEST")]
    pub(crate) file: PathBuf,
    /// Substitution for `{{key}}` placeholders, as key=value (repeatable); wins over the
    /// environment and the manifest's `substitutions`.
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub(crate) vars: Vec<(String, String)>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub(crate) manifest: ManifestArgs,
    /// Skip the drift check: trust the content marker in each flow's description instead
    /// of reading the published content back (fewer requests; misses edits made in the UI).
    #[arg(long)]
    pub(crate) no_drift: bool,
    /// Read back every flow in the drift check, also those whose published version
    /// flowctl's own OAuth client made with the content its marker names (which are
    /// skipped by default). Use it when other tools publish with the same OAuth client.
    #[arg(long, conflicts_with = "no_drift")]
    pub(crate) full_drift: bool,
    /// Show how each flow changed in the org differs from the manifest (a unified diff).
    #[arg(long, conflicts_with = "no_drift")]
    pub(crate) diff: bool,
    /// A name in the manifest that is a new flow, not a typo, though a flow of its type in
    /// the org has a close name (another case, a letter or two apart), which is refused
    /// otherwise (repeatable).
    #[arg(long = "new-flow", value_name = "NAME")]
    pub(crate) new_flows: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub(crate) manifest: ManifestArgs,
    /// At most this many flows publishing at once. By default there is no fixed cap: as
    /// many as are ready, up to half the rate limit's window (read from the API's headers),
    /// a quarter of that if Architect jobs start to slow down. The rate limit is honoured
    /// either way.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) parallel: Option<u16>,
    /// Give up waiting for an Architect job after this many seconds (1 to 86400). The
    /// default, 960 (16 minutes), is what the Terraform provider waits for a flow's job: a
    /// job held by a busy Architect or by the token's rate limit still publishes, and
    /// giving up sooner than the reference tool would exit 5 on a flow that publishes.
    #[arg(long, value_name = "SECONDS", default_value_t = JOB_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) job_timeout: u64,
    /// Skip the drift check: trust the content marker in each flow's description instead
    /// of reading the published content back (fewer requests; misses edits made in the UI).
    #[arg(long)]
    pub(crate) no_drift: bool,
    /// Read back every flow in the drift check, also those whose published version
    /// flowctl's own OAuth client made with the content its marker names (which are
    /// skipped by default). Use it when other tools publish with the same OAuth client.
    #[arg(long, conflicts_with = "no_drift")]
    pub(crate) full_drift: bool,
    /// A name in the manifest that is a new flow, not a typo, though a flow of its type in
    /// the org has a close name (another case, a letter or two apart), which is refused
    /// otherwise (repeatable).
    #[arg(long = "new-flow", value_name = "NAME")]
    pub(crate) new_flows: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct DestroyArgs {
    #[command(flatten)]
    pub(crate) manifest: ManifestArgs,
    /// Really delete (without it, destroy only says what it would delete).
    #[arg(long)]
    pub(crate) yes: bool,
    /// Also try to delete modules that flows outside the manifest still use.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub(crate) enum GraphFormat {
    #[default]
    Mermaid,
    Dot,
    /// A text tree: each common module, the flows that call it, and their queues.
    Tree,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct GraphArgs {
    #[command(flatten)]
    pub(crate) manifest: ManifestArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub(crate) format: GraphFormat,
    /// Draw what the org's dependency tracking says about the manifest's flows, instead of
    /// what the manifest declares.
    #[arg(long)]
    pub(crate) from_org: bool,
}

/// What `export --substitute` turns into `{{placeholders}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SubstituteKind {
    /// Queue names of `transferToAcd` targets.
    Queue,
    /// The flow's division.
    Division,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ExportArgs {
    /// Directory to write `flowctl.yaml` and `flows/*.yaml` into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// A flow to export, by exact name (repeatable).
    #[arg(long = "name", value_name = "NAME")]
    pub(crate) names: Vec<String>,
    /// The type of the --name flows (`inboundcall`, `commonmodule`, ...): once for all, or
    /// once per --name.
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_flow_type, requires = "names")]
    pub(crate) types: Vec<crate::models::FlowType>,
    /// A common module and every published flow that calls it (dependency tracking),
    /// including flows not made with flowctl (repeatable).
    #[arg(long = "callers-of", value_name = "MODULE")]
    pub(crate) callers_of: Vec<String>,
    /// Every common module of the org.
    #[arg(long)]
    pub(crate) all_modules: bool,
    /// Turn these org-specific names into `{{placeholders}}` with their values under
    /// `substitutions:` (repeatable).
    #[arg(long, value_enum, value_name = "KIND")]
    pub(crate) substitute: Vec<SubstituteKind>,
    /// Overwrite files that already exist.
    #[arg(long)]
    pub(crate) force: bool,
}

/// Which flow a history, diff or rollback is about: a name or an id, and the type when
/// the name exists in several.
#[derive(Debug, Clone, Args)]
pub(crate) struct FlowSelector {
    /// The flow, by exact name or id.
    #[arg(value_name = "NAME|ID")]
    pub(crate) flow: String,
    /// The flow's type (`commonmodule`, `inboundcall`, ...), needed when the name exists in
    /// two types.
    #[arg(long = "type", value_name = "TYPE", value_parser = parse_flow_type)]
    pub(crate) flow_type: Option<crate::models::FlowType>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct HistoryArgs {
    #[command(flatten)]
    pub(crate) flow: FlowSelector,
    /// Show at most this many versions, newest first (each costs one export job to read
    /// its content's marker).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub(crate) limit: u16,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    pub(crate) flow: FlowSelector,
    /// The older version (default: the one before --to).
    #[arg(long, value_name = "V", conflicts_with = "file")]
    pub(crate) from: Option<String>,
    /// The newer version (default: the published one).
    #[arg(long, value_name = "V")]
    pub(crate) to: Option<String>,
    /// Compare the version (default: the published one) with this Architect YAML file.
    #[arg(long, value_name = "FLOW.yaml")]
    pub(crate) file: Option<PathBuf>,
    /// Substitution for `{{key}}` placeholders in --file, as key=value (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var, requires = "file")]
    pub(crate) vars: Vec<(String, String)>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct RollbackArgs {
    #[command(flatten)]
    pub(crate) flow: FlowSelector,
    /// The version whose content to publish again (default: the one before the published
    /// one).
    #[arg(long, value_name = "V")]
    pub(crate) to: Option<String>,
    /// Act without asking (needed off a terminal).
    #[arg(long)]
    pub(crate) yes: bool,
    /// Print the plan and change nothing.
    #[arg(long, conflicts_with = "yes")]
    pub(crate) dry_run: bool,
    /// Give up waiting for an Architect job after this many seconds (1 to 86400).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) job_timeout: u64,
    /// How long verification waits for the dependency index to show the new links.
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub(crate) wait: u64,
}

/// Parses a flow type in any spelling (`inboundcall`, `inboundCall`, `INBOUNDCALL`).
pub(crate) fn parse_flow_type(s: &str) -> Result<crate::models::FlowType, String> {
    crate::models::FlowType::parse_any(s).ok_or_else(|| {
        format!("unknown flow type '{s}' (e.g. commonmodule, inboundcall, inqueuecall, workflow)")
    })
}

#[derive(Debug, Clone, Args)]
pub(crate) struct LintArgs {
    /// Architect YAML files to check.
    #[arg(required_unless_present = "manifest", value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Lint every flow a manifest names (its files and built-in templates, substitutions
    /// applied) instead of FILEs.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "MANIFEST",
        conflicts_with = "files"
    )]
    pub(crate) manifest: Option<PathBuf>,
    /// Substitution for `{{key}}` placeholders, as key=value (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub(crate) vars: Vec<(String, String)>,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ExprArgs {
    /// The expression, as written in Architect (quote it for the shell).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub(crate) expression: String,
    /// Declare the variables of this Architect YAML flow (its `variables:`).
    #[arg(long, value_name = "FILE.yaml")]
    pub(crate) flow: Option<PathBuf>,
    /// Declare a variable, as NAME:TYPE (repeatable), e.g. Flow.vip:Boolean.
    #[arg(long, value_name = "NAME:TYPE")]
    pub(crate) declare: Vec<String>,
    /// Give a variable a value, as NAME=VALUE with VALUE an Architect literal (repeatable),
    /// e.g. Flow.vip=true or 'Flow.name="Ann"'; undeclared variables take the value's type.
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) set: Vec<String>,
    /// The type the expression is used as; Architect's implicit cast applies (5 as Boolean).
    #[arg(long, value_name = "TYPE")]
    pub(crate) expect: Option<String>,
    /// Type-check only; do not evaluate.
    #[arg(long)]
    pub(crate) check: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ImportCommand {
    /// Read a Terraform configuration's `genesyscloud_flow` resources (module calls
    /// followed) and write a manifest naming the same Architect YAML files, each with its
    /// own substitutions. Offline: it reads files only.
    #[command(
        after_help = "Example:\n  flowctl import terraform infra --var TF_ENV=dev --var-file prod.tfvars --out infra/flowctl.yaml"
    )]
    Terraform(ImportTerraformArgs),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct ImportTerraformArgs {
    /// The root module: the directory you run `terraform apply` in.
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,
    /// A root variable's value, as `terraform -var` (repeatable; wins over everything).
    #[arg(long = "var", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub(crate) vars: Vec<(String, String)>,
    /// A `.tfvars` file, as `terraform -var-file` (repeatable; after `terraform.tfvars` and
    /// `*.auto.tfvars`, which are read as Terraform reads them).
    #[arg(long = "var-file", value_name = "FILE")]
    pub(crate) var_files: Vec<PathBuf>,
    /// The manifest to write; its `file:` paths are relative to it.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EmulatorCommand {
    /// Serve the emulator; prints its base URL as the first line of standard output.
    #[command(
        after_help = "Example:\n  flowctl emulator serve --addr 127.0.0.1:8787 --job-ms 2000 --latency-ms 50"
    )]
    Serve(EmulatorServeArgs),
}

#[derive(Debug, Clone, Args)]
pub(crate) struct EmulatorServeArgs {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub(crate) addr: SocketAddr,
    /// The OAuth client id the emulator accepts.
    #[arg(long, default_value = crate::emulator::DEFAULT_CLIENT_ID)]
    pub(crate) client_id: String,
    /// The OAuth client secret the emulator accepts.
    #[arg(long, default_value = crate::emulator::DEFAULT_CLIENT_SECRET)]
    pub(crate) client_secret: String,
    /// Persist the org to this file after every change, and load it at start.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,
    /// JSON file with queues, divisions and pre-existing or locked flows.
    #[arg(long, value_name = "FILE")]
    pub(crate) seed: Option<PathBuf>,
    /// Added latency per API request, in milliseconds (at most a minute).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub(crate) latency_ms: u64,
    /// How long an Architect job takes, in milliseconds (at most an hour).
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub(crate) job_ms: u64,
    /// Requests allowed per token per rate-limit window.
    #[arg(long, value_name = "N", default_value_t = 300)]
    pub(crate) rate_limit: u32,
    /// The rate-limit window, in seconds (1 to 3600).
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub(crate) rate_window: u64,
    /// Requests each Architect job spends of its token's window, as the real job's Archy
    /// session does; a job that finds fewer left fails with "could not find the flow with
    /// id" and "exit code 107". 0 charges nothing.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub(crate) job_requests: u32,
    /// Charge a publish job's requests (--job-requests) when it starts rather than when it
    /// ends (the real service does not say when its Archy session spends them).
    #[arg(long)]
    pub(crate) job_spends_at_start: bool,
    /// Round `inin-ratelimit-reset` down to whole seconds instead of up (the real service
    /// does not say which way it rounds).
    #[arg(long)]
    pub(crate) reset_rounds_down: bool,
    /// How long the dependency index lags a publish, in milliseconds (at most an hour).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub(crate) index_lag_ms: u64,
    /// How long a flow a job just wrote still reads as 404, in milliseconds (eventual
    /// consistency after a write; at most an hour).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub(crate) read_lag_ms: u64,
    /// How many flow DELETEs answer a transient 409 before they succeed.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) delete_conflicts: u32,
    /// Access token lifetime in seconds (1 to 172800, Genesys' 48 h at most).
    #[arg(long, value_name = "N", default_value_t = 86399, value_parser = clap::value_parser!(u64).range(1..=172_800))]
    pub(crate) token_lifetime: u64,
    /// Faults to inject, e.g. `429=0.1,503=0.05,drop=0.02` (random rates).
    #[arg(long, value_name = "SPEC")]
    pub(crate) faults: Option<String>,
    /// The seed of the random faults (printed at start when --faults is set): the same
    /// seed gives the n-th API request the same fault again.
    #[arg(long, value_name = "N", requires = "faults")]
    pub(crate) fault_seed: Option<u64>,
}

/// The man page, all in one: `flowctl(1)`, then a page for every subcommand (and theirs,
/// as `flowctl emulator serve`), each with its own options and the global ones.
pub(crate) fn man_page() -> std::io::Result<Vec<u8>> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    cmd.build();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    fn pages(cmd: &clap::Command, path: &str, buf: &mut Vec<u8>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let full = format!("{path} {}", sub.get_name());
            let page = sub
                .clone()
                .name(full.replace(' ', "-"))
                .bin_name(full.clone())
                .display_name(full.replace(' ', "-"));
            buf.push(b'\n');
            clap_mangen::Man::new(page).render(buf)?;
            pages(sub, &full, buf)?;
        }
        Ok(())
    }
    pages(&cmd, "flowctl", &mut buf)?;
    Ok(buf)
}

/// A command line clap refused: printed as clap prints it, and also as JSON on stdout when
/// the line asks for `--output json` (scripts read errors there). `--help` and `--version`
/// are not errors.
pub fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind;
    if !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        && wants_json(std::env::args())
    {
        let message = e
            .render()
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string();
        let json = crate::output::error_json(
            &message,
            Some("see `flowctl --help`, or the subcommand's `--help`"),
            crate::ExitStatus::InvalidInput as u8,
        );
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    }
    exit_on_parse_error(e)
}

/// Whether a raw command line asks for `--output json`.
fn wants_json(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.iter().any(|a| a == "--output=json")
        || args
            .windows(2)
            .any(|w| matches!(w, [flag, value] if flag == "--output" && value == "json"))
}

/// Parses `key=value` for `--var`.
pub(crate) fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{s}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_command_line_asking_for_json_is_recognised_in_both_spellings() {
        let args = |s: &str| {
            s.split(' ')
                .map(String::from)
                .collect::<Vec<_>>()
                .into_iter()
        };
        assert!(wants_json(args("flowctl --output json verify --bogus")));
        assert!(wants_json(args("flowctl verify --output=json")));
        assert!(!wants_json(args("flowctl --output text verify json")));
    }

    #[test]
    fn var_needs_a_key_and_an_equals_sign() {
        assert_eq!(parse_var("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_var("novalue").is_err());
        assert!(parse_var("=x").is_err());
    }
}
