//! The `switchboard` binary: parse the command line, init logging, load config, run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use switchboard::config::Config;
use switchboard::{Application, telemetry};

/// A GraphQL gateway over telecom call-log APIs.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// TOML config file (default: ./switchboard.toml if present, else demo mode).
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gateway (the default).
    Serve,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Run only the provider emulators.
    #[cfg(feature = "emulator")]
    Emulate {
        #[arg(long, default_value = "127.0.0.1:4010")]
        listen: std::net::SocketAddr,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Schema => {
            print!("{}", switchboard::graphql::sdl());
            ExitCode::SUCCESS
        }
        #[cfg(feature = "emulator")]
        Command::Emulate { listen, seed } => {
            telemetry::init();
            emulate(listen, seed).await
        }
        Command::Serve => serve(cli.config).await,
    }
}

async fn serve(path: Option<PathBuf>) -> ExitCode {
    let default = PathBuf::from("switchboard.toml");
    let path = path.or_else(|| default.exists().then_some(default));
    let config = match Config::load(path.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // Flushes buffered log lines and spans when the gateway stops.
    let _telemetry = match telemetry::init_from(&config.log, &config.telemetry) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("GraphiQL: http://{}/graphql", app.local_addr());
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "emulator")]
async fn emulate(listen: std::net::SocketAddr, seed: u64) -> ExitCode {
    use switchboard::emulator::{Emulator, EmulatorConfig};
    let config = EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    };
    let emulator = match Emulator::start_on(listen, config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot start the emulator on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let providers = switchboard::emulator::demo_providers(&emulator.base_url());
    match serde_json::to_string_pretty(&providers) {
        Ok(json) => println!("providers (demo credentials; the `[providers]` config section as JSON):\n{json}"),
        Err(e) => eprintln!("cannot print the demo providers: {e}"),
    }
    println!("control: {}__emulator/stats", emulator.base_url());
    let _ = tokio::signal::ctrl_c().await;
    ExitCode::SUCCESS
}
