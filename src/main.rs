//! The `eksform` binary: parse arguments, run, exit. Everything else is in the library.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    eksform::cli::run(eksform::cli::Cli::parse()).await
}
