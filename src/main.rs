use std::process::ExitCode;

use clap::Parser;

/// The process edge: errors reported by color-eyre, one tokio runtime for
/// every command (the console's and the cloud's connection pools live on
/// it from connecting to the end).
fn main() -> color_eyre::Result<ExitCode> {
    color_eyre::install()?;
    let cli = dr_drill::cli::Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    dr_drill::cli::run(cli, &runtime)
}
