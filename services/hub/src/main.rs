use std::process::ExitCode;

use clap::Parser;

#[actix_web::main]
async fn main() -> ExitCode {
    ikz_hub::cli::run(ikz_hub::cli::Cli::parse()).await
}
