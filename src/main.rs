use std::process::ExitCode;

use clap::Parser;

fn main() -> color_eyre::Result<ExitCode> {
    color_eyre::install()?;
    let cli = dr_drill::cli::Cli::parse();
    dr_drill::cli::run(cli)
}
