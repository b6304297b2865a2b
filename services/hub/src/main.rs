use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc malloc: allocation was a quarter of an API page's CPU time (scripts/bench_api.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> ExitCode {
    ikz_hub::cli::run(ikz_hub::cli::Cli::parse()).await
}
