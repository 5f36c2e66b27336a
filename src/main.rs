//! The `switchboard` binary: parse the command line, init logging, load config, run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use switchboard::config::Config;
use switchboard::{Application, telemetry};

/// mimalloc instead of glibc's malloc: a gateway allocates and frees many small buffers
/// per request on every thread, and a page of 20 call logs executed cost about 12% more
/// CPU with glibc's allocator. Built without transparent huge pages (`no_thp`): with
/// them its arenas faulted in 2 MiB pages, idle RSS was 29 MiB instead of 20, and
/// requests cost more.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Ask a running gateway whether it is up: exit 0 when `/healthz` (with `--ready`,
    /// `/readyz`) answers 200 within 2 s, else 1. For container health checks: the image
    /// needs no curl. The address is the config's `server.listen` (a wildcard address is
    /// asked on loopback) unless `--url` names one.
    Health {
        #[arg(long)]
        ready: bool,
        #[arg(long)]
        url: Option<url::Url>,
    },
    /// Check, against the configured provider accounts, what the gateway assumes of
    /// each provider but no public source settles: one line per check, PASS / FAIL /
    /// UNKNOWN with what was asked and answered. Read-only, but for one Voximplant audit
    /// report (named before it is sent; `--no-report` skips it). With no provider
    /// configured, checks the demo emulator. Exit 0 when no check failed, 1 otherwise.
    Doctor {
        /// Print one JSON document instead of text.
        #[arg(long)]
        json: bool,
        /// Do not request the Voximplant audit report (its check is then UNKNOWN).
        #[arg(long)]
        no_report: bool,
        /// How long to wait for that report to complete, in seconds.
        #[arg(long, default_value_t = 120)]
        report_wait: u64,
    },
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
        Command::Health { ready, url } => health(cli.config, ready, url).await,
        Command::Doctor {
            json,
            no_report,
            report_wait,
        } => doctor(cli.config, json, no_report, report_wait).await,
    }
}

async fn doctor(path: Option<PathBuf>, json: bool, no_report: bool, report_wait: u64) -> ExitCode {
    let config = match Config::load(config_path(path).as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let options = switchboard::providers::doctor::Options {
        report: !no_report,
        report_wait: std::time::Duration::from_secs(report_wait),
        ..Default::default()
    };
    let report = match switchboard::doctor::run(config, &options).await {
        Ok(report) => report,
        Err(e) => {
            eprintln!("doctor: {e}");
            return ExitCode::from(2);
        }
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("doctor: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{}", report.text());
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn serve(path: Option<PathBuf>) -> ExitCode {
    let config = match Config::load(config_path(path).as_deref()) {
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
    // Building the schemas leaves megabytes freed but resident: hand them back before
    // serving.
    // SAFETY: a plain call into the allocator, which is thread-safe.
    unsafe { libmimalloc_sys::mi_collect(true) };
    match app.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The config file to use: the one given, else `./switchboard.toml` when present.
fn config_path(path: Option<PathBuf>) -> Option<PathBuf> {
    let default = PathBuf::from("switchboard.toml");
    path.or_else(|| default.exists().then_some(default))
}

async fn health(path: Option<PathBuf>, ready: bool, url: Option<url::Url>) -> ExitCode {
    let route = if ready { "readyz" } else { "healthz" };
    let url = match url {
        Some(url) => url,
        None => match Config::load(config_path(path).as_deref()) {
            Ok(config) => {
                let mut at = config.server.listen;
                if at.ip().is_unspecified() {
                    at.set_ip(match at {
                        std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                        std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                    });
                }
                match format!("http://{at}/{route}").parse() {
                    Ok(url) => url,
                    Err(e) => {
                        eprintln!("health: {e}");
                        return ExitCode::FAILURE;
                    }
                }
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        },
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(2))
        .build();
    let answer = match client {
        Ok(client) => client.get(url.clone()).send().await,
        Err(e) => {
            eprintln!("health: {e}");
            return ExitCode::FAILURE;
        }
    };
    match answer {
        Ok(r) if r.status().is_success() => ExitCode::SUCCESS,
        Ok(r) => {
            eprintln!("health: {url} answered {}", r.status());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("health: {url}: {e}");
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
