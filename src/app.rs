//! `Application`: builds everything from a `Config`, binds the listener (port 0 works),
//! and serves until stopped, letting in-flight requests finish.
//!
//! With no provider credentials at all it runs in demo mode: it starts the built-in
//! emulator on a loopback port and points every provider at it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use rand::RngCore;
use tokio::net::TcpListener;

use crate::cache::Cache;
use crate::config::{Config, OneUptimeConfig, Secret, SignalWireConfig, VoximplantConfig};
use crate::emulator::{DEMO_ONEUPTIME_KEY, Emulator, EmulatorConfig, demo_credentials};
use crate::graphql::build_schema;
use crate::http::{AppState, Documents, router};
use crate::tenancy::Tenants;
use crate::upstream::build_http_client;

/// Points every provider of `config` at the built-in emulator at `base`, with the
/// emulator's demo credentials (demo mode, benchmarks).
pub fn use_emulator(config: &mut Config, base: &url::Url) {
    let credential = &EmulatorConfig::default().signalwire_credentials[0];
    config.providers.signalwire = Some(SignalWireConfig {
        space_url: base.clone(),
        project_id: credential.project_id.clone(),
        api_token: Secret::new(credential.api_token.clone()),
        page_size: 100,
        concurrency: 16,
    });
    config.providers.oneuptime = Some(OneUptimeConfig {
        base_url: base.clone(),
        api_key: Secret::new(DEMO_ONEUPTIME_KEY),
        page_size: 100,
        concurrency: 8,
    });
    config.providers.voximplant = Some(VoximplantConfig {
        base_url: base.clone(),
        credentials_file: None,
        credentials_json: Some(Secret::new(demo_credentials())),
        currency: "USD".into(),
        // The seeded data ends on a fixed date; look far enough back to show it.
        lookback: Duration::from_secs(3650 * 24 * 3600),
        page_size: 100,
        token_lifetime: Duration::from_secs(300),
        concurrency: 8,
    });
}

/// A built, bound, not yet running gateway.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    router: axum::Router,
    grace: Duration,
    /// Kept alive for as long as the gateway runs (demo mode only).
    _emulator: Option<Emulator>,
}

impl Application {
    pub async fn build(mut config: Config) -> std::io::Result<Application> {
        let emulator = if config.has_no_providers() {
            let emulator = Emulator::start(EmulatorConfig::default()).await?;
            use_emulator(&mut config, &emulator.base_url());
            tracing::info!(base_url = %emulator.base_url(), "demo mode: no provider credentials configured; every provider points at the built-in emulator");
            Some(emulator)
        } else {
            None
        };
        let http = build_http_client(&config.upstream);
        let cache = Cache::new(&config.cache);
        let tenants = Arc::new(Tenants::from_config(&config, &http, &cache).map_err(std::io::Error::other)?);
        log_providers(&config);
        let cursor_key = match &config.graphql.cursor_secret {
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => {
                let mut key = vec![0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                key
            }
        };
        let state = AppState {
            schema: build_schema(&config.graphql, &cursor_key),
            tenants,
            cache,
            max_body_bytes: config.graphql.max_body_bytes,
            max_fields: config.graphql.max_aliases,
            requests: Arc::new(AtomicU64::new(0)),
            documents: Documents::default(),
        };
        let listener = TcpListener::bind(config.server.listen).await?;
        let addr = listener.local_addr()?;
        Ok(Application {
            listener,
            addr,
            router: router(state),
            grace: config.server.shutdown_grace,
            _emulator: emulator,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish for up to
    /// the configured grace period.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let serve = axum::serve(self.listener, self.router).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stopping_tx.send(());
        });
        let grace = self.grace;
        tokio::select! {
            result = serve => result,
            () = async move {
                if stopping_rx.await.is_ok() {
                    tokio::time::sleep(grace).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => {
                tracing::warn!(?grace, "grace period over; dropping remaining requests");
                Ok(())
            }
        }
    }
}

/// One line per configured provider and tenant (never a secret).
fn log_providers(config: &Config) {
    let tenants = std::iter::once(("default", &config.providers))
        .filter(|_| config.tenants.is_empty())
        .chain(config.tenants.iter().map(|t| (t.name.as_str(), &t.providers)));
    for (tenant, providers) in tenants {
        if let Some(sw) = &providers.signalwire {
            tracing::info!(tenant, provider = "signalwire", space_url = %sw.space_url, project_id = %sw.project_id, "provider configured");
        }
        if let Some(ou) = &providers.oneuptime {
            tracing::info!(tenant, provider = "oneuptime", base_url = %ou.base_url, "provider configured");
        }
        if let Some(vx) = &providers.voximplant {
            tracing::info!(tenant, provider = "voximplant", base_url = %vx.base_url, "provider configured");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
