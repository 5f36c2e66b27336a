//! Fake providers for demo mode, tests and benchmarks.
//!
//! Serves each provider's wire API as documented, on its own loopback port: same paths,
//! auth checks, paging, limits and error bodies, over deterministic seeded data. It builds
//! its JSON on its own (never with the gateway's wire structs, which would hide serde
//! mistakes), counts requests per route and credential, and injects faults on demand.
//! Control routes live under `/__emulator/` on the same port.
//!
//! Each emulated provider is a child module registered here twice: its routes in
//! `Emulator::start_on`, its demo config section in `demo_providers`.

mod control;
mod data;
#[cfg(feature = "fake-provider")]
mod fake;
mod oneuptime;
mod quirks;
mod recent;
mod signalwire;
mod traffic;
mod voximplant;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

use control::Control;
pub use control::{Fault, FaultKind, Stats};
pub use oneuptime::{COLUMNS as ONEUPTIME_COLUMNS, OneUptimeKey};
pub use quirks::Quirks;
pub use traffic::{Callback, Callbacks, DEMO_ONEUPTIME_WEBHOOK_SECRET, DEMO_SIGNALWIRE_SIGNING_KEY};
pub use voximplant::{DEMO_ACCOUNT_ID, DEMO_KEY_ID, DEMO_PRIVATE_KEY, OTHER_PRIVATE_KEY, demo_credentials};

/// One SignalWire project credential the emulator accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicCredential {
    pub project_id: String,
    pub api_token: String,
}

/// Size and shape of the emulated data.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    pub seed: u64,
    pub signalwire_voice_logs: usize,
    pub signalwire_video_logs: usize,
    pub signalwire_credentials: Vec<BasicCredential>,
    pub oneuptime_call_logs: usize,
    pub oneuptime_api_keys: Vec<OneUptimeKey>,
    pub voximplant_sessions: usize,
    /// Sessions start within this many seconds before the data set's "now".
    pub voximplant_span_seconds: i64,
    /// Added to the emulator's clock when it checks JWT expiry (to test expired tokens).
    pub voximplant_clock_skew_seconds: i64,
    pub voximplant_audit_entries: usize,
    /// How long an asynchronous report takes to complete.
    pub voximplant_report_delay_seconds: i64,
    /// Where the emulated providers differ from their default behaviour (all off).
    pub quirks: Quirks,
}

/// The OneUptime API key of demo mode and of `switchboard emulate`.
pub const DEMO_ONEUPTIME_KEY: &str = "0c6a0a56-8d4c-4d52-9a3e-4b7d3c2a1f00";

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: 7,
            signalwire_voice_logs: 5_000,
            signalwire_video_logs: 600,
            signalwire_credentials: vec![BasicCredential {
                project_id: "demo-project".into(),
                api_token: "demo-token".into(),
            }],
            oneuptime_call_logs: 3_000,
            oneuptime_api_keys: vec![OneUptimeKey {
                key: DEMO_ONEUPTIME_KEY.into(),
                can_read: true,
            }],
            voximplant_sessions: 4_000,
            voximplant_span_seconds: 180 * 24 * 3600,
            voximplant_clock_skew_seconds: 0,
            voximplant_audit_entries: 2_000,
            voximplant_report_delay_seconds: 3,
            quirks: Quirks::default(),
        }
    }
}

/// Every emulated provider's config section pointing at the emulator at `base`, with
/// the emulator's demo credentials (demo mode, benchmarks, `switchboard emulate`).
pub fn demo_providers(base: &Url) -> crate::providers::ProvidersConfig {
    crate::providers::ProvidersConfig {
        signalwire: Some(signalwire::demo_config(base)),
        oneuptime: Some(oneuptime::demo_config(base)),
        voximplant: Some(voximplant::demo_config(base)),
        #[cfg(feature = "fake-provider")]
        fake: Some(fake::demo_config(base)),
    }
}

/// A running emulator; stops when dropped.
pub struct Emulator {
    addr: SocketAddr,
    control: Arc<Control>,
    quirks: quirks::Shared,
    signalwire: Arc<signalwire::SignalWireState>,
    oneuptime: Arc<oneuptime::OneUptimeState>,
    voximplant: Arc<voximplant::VoximplantState>,
    traffic: Arc<traffic::Traffic>,
    _stop: oneshot::Sender<()>,
}

impl Emulator {
    /// Starts on a free loopback port.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config).await
    }

    pub async fn start_on(addr: SocketAddr, config: EmulatorConfig) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let control = Arc::new(Control::default());
        let quirks = quirks::Shared::new(config.quirks.clone());
        let signalwire = Arc::new(signalwire::SignalWireState::new(&config, quirks.clone()));
        let oneuptime = Arc::new(oneuptime::OneUptimeState::new(&config, quirks.clone()));
        let voximplant = Arc::new(voximplant::VoximplantState::new(&config, quirks.clone()));
        // Every emulated provider's routes (the paths do not clash).
        let app = Router::new()
            .merge(signalwire::routes(signalwire.clone()))
            .merge(oneuptime::routes(oneuptime.clone()))
            .merge(voximplant::routes(voximplant.clone()));
        #[cfg(feature = "fake-provider")]
        let app = app.merge(fake::routes());
        let traffic = Arc::new(traffic::Traffic::new(
            config.seed,
            signalwire.clone(),
            oneuptime.clone(),
            voximplant.clone(),
        ));
        let app = app
            .layer(axum::middleware::from_fn_with_state(
                control.clone(),
                control::count_and_inject,
            ))
            .merge(control::routes(control.clone(), quirks.clone()))
            .merge(traffic::routes(traffic.clone()));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                tracing::error!(error = %e, "emulator stopped");
            }
        });
        Ok(Emulator {
            addr,
            control,
            quirks,
            signalwire,
            oneuptime,
            voximplant,
            traffic,
            _stop: stop,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of every emulated provider (they share the port, as paths do not clash).
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).expect("socket addresses form valid URLs")
    }

    /// Request counts since start or the last reset.
    pub fn stats(&self) -> Stats {
        self.control.stats()
    }

    /// The W3C `traceparent` headers of the latest requests that carried one.
    pub fn traceparents(&self) -> Vec<String> {
        self.control.traceparents()
    }

    /// Clears counters and faults.
    pub fn reset(&self) {
        self.control.reset();
    }

    /// Adds a fault; it applies to matching requests until it has fired `times` times.
    pub fn inject(&self, fault: Fault) {
        self.control.inject(fault);
    }

    pub fn clear_faults(&self) {
        self.control.clear_faults();
    }

    /// Replaces the quirks in force (see `Quirks`).
    pub fn set_quirks(&self, quirks: Quirks) {
        self.quirks.set(quirks);
    }

    /// The quirks in force.
    pub fn quirks(&self) -> Quirks {
        self.quirks.get()
    }

    /// The `page_size` of every SignalWire list request received, oldest first.
    pub fn signalwire_page_sizes(&self) -> Vec<usize> {
        self.signalwire.page_sizes()
    }

    /// Ids of the seeded SignalWire voice logs, newest first (discarded ones included).
    pub fn signalwire_voice_log_ids(&self) -> Vec<String> {
        self.signalwire.voice_ids()
    }

    /// Ids of the OneUptime call logs, newest first (`createdAt` desc, `_id` desc).
    pub fn oneuptime_call_log_ids(&self) -> Vec<String> {
        self.oneuptime.ids()
    }

    /// `(call_session_history_id, start)` of the Voximplant sessions, newest first.
    pub fn voximplant_sessions(&self) -> Vec<(u64, chrono::DateTime<chrono::Utc>)> {
        self.voximplant.session_keys()
    }

    /// `(audit_log_id, requested)` of the Voximplant audit log, newest first.
    pub fn voximplant_audit_entries(&self) -> Vec<(u64, chrono::DateTime<chrono::Utc>)> {
        self.voximplant.audit_keys()
    }

    /// Completes every pending Voximplant report now.
    pub fn complete_voximplant_reports(&self) {
        self.voximplant.complete_reports();
    }

    /// Sets OneUptime call log `id`'s raw status (e.g. a live call ending); false when no
    /// log has that id.
    pub fn set_oneuptime_status(&self, id: &str, status: &str) -> bool {
        self.oneuptime.set_status(id, status)
    }

    /// Adds `n` OneUptime call logs newer than all others, as if calls arrived now.
    pub fn insert_oneuptime_call_logs(&self, n: usize) {
        self.oneuptime.insert_newest(n);
    }

    /// Where the providers' callbacks go (live traffic).
    pub fn set_callbacks(&self, callbacks: Callbacks) {
        self.traffic.set_callbacks(callbacks);
    }

    /// Starts a SignalWire call now (`ringing`) and sends its signed callback; its id.
    pub async fn start_signalwire_call(&self) -> String {
        self.traffic.start_signalwire_call().await
    }

    /// Moves a live SignalWire call to its next status (`in-progress`, then `completed`)
    /// and sends its signed callback; the new status, `None` for no such live call.
    pub async fn advance_signalwire_call(&self, id: &str) -> Option<&'static str> {
        self.traffic.advance_signalwire_call(id).await
    }

    /// Logs a OneUptime notification call placed now and sends the workflow webhook; its id.
    pub async fn start_oneuptime_call(&self) -> String {
        self.traffic.start_oneuptime_call().await
    }

    /// Adds a Voximplant session that started now (found by polling: Voximplant has no
    /// push); its id.
    pub fn start_voximplant_session(&self) -> u64 {
        self.traffic.start_voximplant_session()
    }

    /// Demo traffic: a call starts or moves on every `every` until the emulator stops.
    pub fn start_traffic(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.traffic.clone().run(every))
    }

    /// The `get-list`/`count` request bodies OneUptime received, oldest first, each as
    /// `{"route": ..., "body": ...}`.
    pub fn oneuptime_requests(&self) -> Vec<serde_json::Value> {
        self.oneuptime.requests()
    }
}
