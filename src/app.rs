//! `Gateway` builds everything from a `Config` without a socket; `Application` is that
//! gateway bound to its listener (port 0 works), serving until stopped and letting
//! in-flight requests finish. `StartupError` says why it could not start.
//!
//! With no provider credentials at all it runs in demo mode (`demo`).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::net::TcpListener;

use crate::auth::Authenticator;
use crate::cache::Cache;
use crate::config::Config;
use crate::demo::Demo;
use crate::graphql::Schemas;
use crate::http::limits::DocumentLimits;
use crate::http::observe::Observer;
use crate::http::{
    AppState, ConnectionLimits, Documents, Guards, MetricsAccess, Readiness, RequestLimits, admin_router, router, serve,
};
use crate::telemetry::metrics::Metrics;
use crate::tenancy::Tenants;
use crate::upstream::Http;

/// Why the gateway could not start; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::settings::ConfigError),
    #[error("demo mode: {0}")]
    Demo(#[source] std::io::Error),
    #[error("cache.redis: {0}")]
    SharedCache(#[from] crate::cache::l2::L2Error),
    #[error("{0}")]
    LiveBus(String),
    #[error("limits: {0}")]
    Budgets(String),
    #[error(transparent)]
    Tenant(#[from] crate::tenancy::TenancyError),
    #[error("auth: {0}")]
    Auth(String),
    #[error("server.metrics_key_sha256: {0}")]
    MetricsKey(#[from] hex::FromHexError),
    #[error("graphql.trusted_documents.manifest: {0}")]
    Manifest(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A gateway built from a `Config` without any socket: its router answers requests
/// given to it directly (`tower::ServiceExt::oneshot`), and `bind` makes it an
/// `Application`. (Demo mode, with no provider configured, starts the emulator, which
/// listens on a loopback port.)
pub struct Gateway {
    state: AppState,
    live: crate::live::LiveConfig,
    listen: SocketAddr,
    admin_listen: Option<SocketAddr>,
    metrics_access: MetricsAccess,
    serving: Serving,
}

/// What serving needs, built by `Gateway::prepare` and carried into the `Application`.
struct Serving {
    router: axum::Router,
    grace: Duration,
    /// How long `/readyz` says 503 before the listener closes (`server.drain_delay`).
    drain_delay: Duration,
    readiness: Readiness,
    metrics: Metrics,
    /// What observes each request on the main listener.
    observer: Observer,
    connections: ConnectionLimits,
    /// Live updates: the poller runs while serving; shutdown completes subscriptions.
    live: Option<Arc<crate::graphql::LiveFeed>>,
    live_connections: crate::http::LiveConnections,
    /// The demo's emulator, kept alive for as long as the gateway runs.
    _demo: Demo,
}

/// A built, bound, not yet running gateway.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    /// The operators' listener (`server.admin_listen`) and its router.
    admin: Option<(TcpListener, axum::Router)>,
    serving: Serving,
}

impl Gateway {
    /// Builds every part of the gateway from `config`, binding nothing.
    pub async fn prepare(mut config: Config) -> Result<Gateway, StartupError> {
        config.validate()?;
        let demo = config.has_no_providers();
        let running_demo = Demo::start_if_needed(&mut config).await.map_err(StartupError::Demo)?;
        let metrics = Metrics::new(&config.telemetry.metrics);
        let http = Http::new(&config.upstream, &metrics);
        let mut cache = Cache::observed(&config.cache, &metrics);
        if let Some(redis) = &config.cache.redis {
            let shared = crate::cache::l2::L2::connect(redis, &metrics)?;
            tracing::info!(prefix = %redis.key_prefix, "shared cache: Redis behind the local cache");
            cache = cache.with_shared(shared);
        }
        let tenants = Arc::new(Tenants::from_config(
            &config.providers,
            &config.tenants,
            &config.upstream,
            &http,
            &cache,
        )?);
        let authz = match &config.authorization {
            Some(rules) => Some(Arc::new(
                crate::authz::Authorization::new(rules, &crate::graphql::sdl())?.observed(&metrics),
            )),
            None => None,
        };
        log_authorization(&config, authz.as_deref());
        let auth = Arc::new(
            Authenticator::new(
                &config.auth,
                authz.as_deref().map(crate::authz::Authorization::scopes_claim),
                tenants,
                http.client(),
            )
            .map_err(StartupError::Auth)?,
        );
        log_providers(&config);
        let cursor_key = match &config.graphql.cursor_secret {
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => {
                let mut key = vec![0u8; 32];
                rand::rng().fill_bytes(&mut key);
                key
            }
        };
        let (g, s) = (&config.graphql, &config.server);
        let metrics_access = match &s.metrics_key_sha256 {
            Some(hash) => {
                let mut key = [0u8; 32];
                hex::decode_to_slice(hash, &mut key)?;
                MetricsAccess::Key(key)
            }
            None if demo => MetricsAccess::Open,
            None => MetricsAccess::AdminOnly,
        };
        let readiness = Readiness::new(s.ready_requires_closed_circuits);
        let mut persisted = crate::http::PersistedQueries::new(g.apq);
        if let Some(path) = &g.trusted_documents.manifest
            && g.trusted_documents.mode != crate::graphql::config::TrustedDocumentsMode::Off
        {
            let manifest = crate::http::Manifest::load(path).map_err(StartupError::Manifest)?;
            tracing::info!(operations = manifest.len(), mode = ?g.trusted_documents.mode, "trusted documents loaded");
            persisted = persisted.with_manifest(manifest, g.trusted_documents.mode);
        }
        let schemas = Schemas::build(g, stats_limits(&config), &cursor_key, authz.as_ref());
        let live = match config.live.enabled {
            true => Some(live_feed(&config, &http, &metrics)?),
            false => None,
        };
        let state = AppState::from(crate::http::Shared {
            types: schemas.types.clone(),
            schemas,
            guards: Guards::new(metrics.clone(), s.max_in_flight, s.request_timeout),
            auth,
            authz,
            cache,
            limits: RequestLimits {
                document: DocumentLimits {
                    max_nesting: g.max_nesting,
                    max_tokens: g.max_tokens,
                    max_fields: g.max_fields,
                    max_directives: g.max_directives,
                    introspection: g.introspection,
                },
                max_body_bytes: g.max_body_bytes,
                max_response_bytes: g.max_response_bytes,
                max_upstream_calls: g.max_upstream_calls,
                request_timeout: s.request_timeout,
                body_read_timeout: s.body_read_timeout,
                http_max_age: g.http_max_age,
                compress_min_bytes: s.compress_min_bytes,
                variables: crate::http::variables::VariableLimits {
                    max_values: g.max_variable_values,
                    max_depth: g.max_variable_depth,
                },
            },
            metrics: metrics.clone(),
            readiness: readiness.clone(),
            documents: Documents::default(),
            // With no record cache, nothing is fresh: no answer is kept either.
            responses: crate::http::Responses::new(match config.cache.max_bytes {
                0 => 0,
                _ => config.cache.max_response_bytes,
            }),
            persisted,
            metrics_access,
            live: live.clone(),
            live_connections: crate::http::LiveConnections::default(),
            demand: demand(&config)?,
        });
        let serving = Serving {
            router: router(state.clone(), &s.cors),
            grace: s.shutdown_grace,
            drain_delay: s.drain_delay,
            readiness,
            observer: Observer {
                metrics: metrics.clone(),
                access_log: config.log.access,
            },
            metrics,
            connections: ConnectionLimits {
                max_connections: crate::http::fds::fit(s.max_connections),
                header_read_timeout: s.header_read_timeout,
                idle_timeout: s.idle_timeout,
            },
            live: state.live.clone(),
            live_connections: state.live_connections.clone(),
            _demo: running_demo,
        };
        Ok(Gateway {
            live: config.live.clone(),
            state,
            listen: s.listen,
            admin_listen: s.admin_listen,
            metrics_access,
            serving,
        })
    }

    /// The main router: every route of the gateway, to call without a socket.
    pub fn router(&self) -> axum::Router {
        self.serving.router.clone()
    }

    /// Binds the listener (and the admin listener, when configured).
    pub async fn bind(self) -> Result<Application, StartupError> {
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| StartupError::Bind { addr, source })
        };
        let listener = bind(self.listen).await?;
        let addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: self.listen,
            source,
        })?;
        let admin = match self.admin_listen {
            Some(at) => {
                let admin = bind(at).await?;
                let bound = admin.local_addr().map_or(at, |a| a);
                tracing::info!(url = %format!("http://{bound}/metrics"), "metrics on the admin listener");
                Some((admin, admin_router(self.state.clone())))
            }
            None => None,
        };
        match (&admin, self.metrics_access) {
            (Some(_), _) => {}
            (None, MetricsAccess::Open) => {
                tracing::info!(url = %format!("http://{addr}/metrics"), "metrics (open in demo mode)");
            }
            (None, MetricsAccess::Key(_)) => tracing::info!(
                url = %format!("http://{addr}/metrics"),
                "metrics, with `Authorization: Bearer <metrics key>`"
            ),
            (None, MetricsAccess::AdminOnly) => {
                tracing::info!("metrics are not served: set server.admin_listen or server.metrics_key_sha256")
            }
        }
        let mut serving = self.serving;
        serving._demo.go_live(addr, &self.live);
        Ok(Application {
            listener,
            addr,
            admin,
            serving,
        })
    }
}

impl Application {
    /// Builds the gateway from `config` and binds its listener (port 0 works).
    pub async fn build(config: Config) -> Result<Application, StartupError> {
        Gateway::prepare(config).await?.bind().await
    }

    /// Address of the admin listener, when configured.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|(l, _)| l.local_addr().ok())
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

    /// Serves until `shutdown` completes; then `/readyz` answers 503 while the gateway
    /// keeps serving for `server.drain_delay` (so load balancers stop sending), then the
    /// listener closes and in-flight requests may finish for up to the grace period.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Application {
            listener,
            admin,
            serving,
            ..
        } = self;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let upkeep = tokio::spawn(upkeep(serving.metrics.clone()));
        let (readiness, delay) = (serving.readiness.clone(), serving.drain_delay);
        let poller = serving.live.clone().map(|feed| tokio::spawn(feed.run_poller()));
        let bus = serving.live.clone().map(|feed| tokio::spawn(feed.run_bus()));
        let live = serving.live.clone();
        let shutdown = async move {
            shutdown.await;
            readiness.start_draining();
            tracing::info!(?delay, "draining: /readyz answers 503");
            tokio::time::sleep(delay).await;
            // Every subscription completes (WebSocket and SSE clients get `complete`).
            if let Some(feed) = &live {
                feed.close();
            }
        };
        if let Some((admin_listener, admin_router)) = admin {
            let mut stopped = stop_rx.clone();
            tokio::spawn(serve(
                admin_listener,
                admin_router,
                serving.connections,
                async move {
                    let _ = stopped.wait_for(|s| *s).await;
                },
                Duration::from_secs(1),
                serving.metrics.clone(),
                None,
            ));
        }
        let result = serve(
            listener,
            serving.router,
            serving.connections,
            shutdown,
            serving.grace,
            serving.metrics.clone(),
            Some(serving.observer),
        )
        .await;
        // Upgraded WebSockets are not hyper's to wait for: their subscriptions have
        // completed; wait (within the grace period) for the sockets to close.
        if tokio::time::timeout(serving.grace, serving.live_connections.closed())
            .await
            .is_err()
        {
            tracing::warn!("grace period over; dropping remaining WebSockets");
        }
        for task in [poller, bus].into_iter().flatten() {
            task.abort();
        }
        upkeep.abort();
        let _ = stop_tx.send(true);
        drop(stop_rx);
        result
    }
}

/// Folds histogram samples into buckets every second, so memory stays flat between
/// scrapes (samples wait in a buffer until then: about 8 bytes per request).
async fn upkeep(metrics: Metrics) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        metrics.run_upkeep();
    }
}

/// What `[authorization]` decides, said once at startup; with sign-in by token and no
/// rules, that every signed-in user sees every field.
fn log_authorization(config: &Config, authz: Option<&crate::authz::Authorization>) {
    match authz {
        Some(authz) => {
            for rule in &authz.rules().rules {
                tracing::info!(
                    rule = %rule.key,
                    requires = %rule.requires.join(" "),
                    otherwise = ?rule.otherwise,
                    "authorization rule"
                );
            }
        }
        None if config.auth.jwt.is_some() => tracing::warn!(
            "[auth.jwt] without [authorization]: every signed-in user sees every field (phone numbers, costs, the audit log)"
        ),
        None => {}
    }
}

/// One line per configured provider and tenant (never a secret).
/// The live feed: the tenants once more, over a cache that keeps nothing, so what the
/// feed reads is fresh.
fn live_feed(config: &Config, http: &Http, metrics: &Metrics) -> Result<Arc<crate::graphql::LiveFeed>, StartupError> {
    // A quiet event stream must write within `server.idle_timeout`, or it is cut as idle.
    let mut live = config.live.clone();
    if live.keep_alive >= config.server.idle_timeout {
        live.keep_alive = config.server.idle_timeout / 2;
        tracing::info!(keep_alive = ?live.keep_alive, "live.keep_alive lowered to half of server.idle_timeout");
    }
    let keeps_nothing = crate::cache::config::CacheConfig {
        max_bytes: 0,
        redis: None,
        ..config.cache.clone()
    };
    let fresh = Tenants::from_config(
        &config.providers,
        &config.tenants,
        &config.upstream,
        http,
        &Cache::new(&keeps_nothing),
    )?;
    let paging = crate::graphql::paging(&config.graphql);
    let bus = match &config.cache.redis {
        Some(redis) => Some(Arc::new(
            crate::live::Bus::connect(redis.url.expose(), &redis.key_prefix)
                .map_err(|e| StartupError::LiveBus(format!("cache.redis for live updates: {e}")))?,
        )),
        None => None,
    };
    Ok(crate::graphql::LiveFeed::new(
        &live,
        Arc::new(fresh),
        paging,
        metrics,
        bus,
    ))
}

fn log_providers(config: &Config) {
    let tenants = std::iter::once(("default", &config.providers))
        .filter(|_| config.tenants.is_empty())
        .chain(config.tenants.iter().map(|t| (t.name.as_str(), &t.providers)));
    for (tenant, providers) in tenants {
        for registration in crate::providers::REGISTERED {
            if let Some(section) = registration.section(providers) {
                let section = section.describe();
                tracing::info!(tenant, provider = registration.provider().as_str(), %section, "provider configured");
            }
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

/// What bounds `callLogStats`: `stats.max_items`, and the upstream calls reading that
/// many items at the smallest page size can need (plus a count and a last page per
/// stream, on top of the request's own budget).
fn stats_limits(config: &Config) -> crate::graphql::StatsLimits {
    let max_items = config.stats.max_items;
    let pages = max_items.div_ceil(u64::from(config.smallest_page_size().max(1)));
    let extra = pages + 2 * crate::graphql::timeline_streams();
    crate::graphql::StatsLimits {
        max_items,
        max_calls: u32::try_from(extra)
            .unwrap_or(u32::MAX)
            .saturating_add(config.graphql.max_upstream_calls),
        scan_bound: config.graphql.timeline_scan_bound.max(1),
    }
}

/// `[limits]`' budgets (in `[cache.redis]` when it is set) and the cost model pricing
/// documents; `None` when no budget is set.
fn demand(config: &Config) -> Result<Option<crate::http::demand::Demand>, StartupError> {
    let Some(budgets) = crate::demand::Budgets::new(&config.limits) else {
        return Ok(None);
    };
    let budgets = match &config.cache.redis {
        Some(redis) => budgets
            .shared(redis.url.expose(), &redis.key_prefix, redis.timeout)
            .map_err(|e| StartupError::Budgets(format!("cache.redis.url is not usable for the budgets: {e}")))?,
        None => budgets,
    };
    let g = &config.graphql;
    let page_size = config.smallest_page_size();
    let model = crate::graphql::cost::CostModel {
        page_size: u64::from(page_size),
        default_first: g.default_page_size as u64,
        max_first: g.max_page_size as u64,
        streams: crate::graphql::timeline_streams(),
        scan_bound: g.timeline_scan_bound as u64,
        max_calls: u64::from(g.max_upstream_calls),
    };
    Ok(Some(crate::http::demand::Demand { budgets, model }))
}
