//! `flowctl lint` (placeholder until the flow model lands).
use crate::cli::{LintArgs, OutputFormat};
pub async fn run(args: &LintArgs, output: OutputFormat) -> crate::error::Result<()> {
    let _ = (args, output);
    todo!()
}
