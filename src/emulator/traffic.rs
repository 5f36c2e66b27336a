//! Live traffic: calls that start now and move through their statuses, each change sent
//! to the gateway as the provider's own callback, signed as the provider signs it.
//!
//! - SignalWire: a LaML (cXML) call starts `ringing`, then goes `in-progress`, then
//!   `completed` with a duration; each step is a form-encoded status callback
//!   (`CallSid`, `CallStatus`, ...) with `X-SignalWire-Signature`: base64 HMAC-SHA1, keyed
//!   with the project's signing key, of the URL followed by every parameter name and value
//!   sorted by name (the scheme SignalWire's SDKs validate, inherited from Twilio).
//! - OneUptime: a notification call is logged once it was placed (its call logs have no
//!   in-progress status); the workflow webhook posts `{"callLogId": ...}` with the shared
//!   secret in `X-Webhook-Secret`.
//! - Voximplant: a session is added to the call history (Voximplant has no push: the
//!   gateway's poller finds it).
//!
//! Written apart from the gateway's verifier (`providers::signalwire::webhook`), so a
//! mistake in one is caught by the other. Tests drive it step by step; demo mode runs it
//! on a timer (`Traffic::run`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use sha1::Sha1;
use url::Url;
use uuid::Uuid;

use super::data::{self, Record};
use super::oneuptime::OneUptimeState;
use super::signalwire::SignalWireState;
use super::voximplant::VoximplantState;

/// Where a provider's callbacks go, and the secret they are signed or sent with.
#[derive(Debug, Clone)]
pub struct Callback {
    pub url: Url,
    pub secret: String,
}

/// Every provider's callback target (none: changes happen without callbacks, as with a
/// provider nobody configured to call back).
#[derive(Debug, Clone, Default)]
pub struct Callbacks {
    pub signalwire: Option<Callback>,
    pub oneuptime: Option<Callback>,
}

impl Callbacks {
    /// Both providers calling back the gateway at `gateway` (its base URL, e.g.
    /// `http://127.0.0.1:4000`) for `tenant`, with the demo signing key and secret.
    pub fn to_gateway(gateway: &str, tenant: &str) -> Callbacks {
        let url = |provider: &str| {
            let base = gateway.trim_end_matches('/');
            Url::parse(&format!("{base}/webhooks/{tenant}/{provider}")).expect("a gateway base URL")
        };
        Callbacks {
            signalwire: Some(Callback {
                url: url("signalwire"),
                secret: DEMO_SIGNALWIRE_SIGNING_KEY.into(),
            }),
            oneuptime: Some(Callback {
                url: url("oneuptime"),
                secret: DEMO_ONEUPTIME_WEBHOOK_SECRET.into(),
            }),
        }
    }
}

/// The signing key of the emulated SignalWire project (demo mode).
pub const DEMO_SIGNALWIRE_SIGNING_KEY: &str = "PSK_demo_signing_key_0123456789abcdef";
/// The shared secret of the emulated OneUptime workflow webhook (demo mode).
pub const DEMO_ONEUPTIME_WEBHOOK_SECRET: &str = "demo-oneuptime-webhook-secret";

/// The statuses a SignalWire call goes through, in order.
const SIGNALWIRE_STEPS: [&str; 3] = ["ringing", "in-progress", "completed"];

pub(super) struct Traffic {
    signalwire: Arc<SignalWireState>,
    oneuptime: Arc<OneUptimeState>,
    voximplant: Arc<VoximplantState>,
    rng: Mutex<ChaCha8Rng>,
    callbacks: RwLock<Callbacks>,
    /// SignalWire calls not yet completed, oldest first, with their step.
    live: Mutex<Vec<(Uuid, usize)>>,
    http: reqwest::Client,
}

impl Traffic {
    pub(super) fn new(
        seed: u64,
        signalwire: Arc<SignalWireState>,
        oneuptime: Arc<OneUptimeState>,
        voximplant: Arc<VoximplantState>,
    ) -> Self {
        Traffic {
            signalwire,
            oneuptime,
            voximplant,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x11fe)),
            callbacks: RwLock::default(),
            live: Mutex::default(),
            http: reqwest::Client::new(),
        }
    }

    pub(super) fn set_callbacks(&self, callbacks: Callbacks) {
        *self.callbacks.write().unwrap_or_else(PoisonError::into_inner) = callbacks;
    }

    fn callbacks(&self) -> Callbacks {
        self.callbacks.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Starts a SignalWire call (`ringing`, created now) and sends its callback; its id.
    pub(super) async fn start_signalwire_call(&self) -> String {
        let (id, from, to) = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            (data::uuid(&mut rng), data::number(&mut rng), data::number(&mut rng))
        };
        let created = Utc::now();
        let project = data::PROJECT_ID;
        let log = json!({
            "id": id, "from": from, "to": to, "source": "laml", "charge": 0.0, "charge_details": [],
            "created_at": data::stamp(created), "type": "laml_call",
            "url": format!("https://example.signalwire.com/api/laml/2010-04-01/Accounts/{project}/Calls/{id}"),
            "direction": "inbound", "status": SIGNALWIRE_STEPS[0], "duration": null, "duration_ms": null,
            "billing_ms": null, "parent_id": null,
        });
        self.signalwire.insert_voice_log(Record {
            id,
            created_at: created,
            discarded: false,
            json: log.clone(),
        });
        self.live.lock().unwrap_or_else(PoisonError::into_inner).push((id, 0));
        self.signalwire_callback(&log, 0).await;
        id.to_string()
    }

    /// Moves SignalWire call `id` to its next status and sends the callback; the new
    /// status, or `None` when it is not a live call of the traffic.
    pub(super) async fn advance_signalwire_call(&self, id: &str) -> Option<&'static str> {
        let id = Uuid::parse_str(id).ok()?;
        let step = {
            let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
            let at = live.iter().position(|(call, _)| *call == id)?;
            live[at].1 += 1;
            let step = live[at].1;
            if step + 1 >= SIGNALWIRE_STEPS.len() {
                live.remove(at);
            }
            step
        };
        let status = SIGNALWIRE_STEPS[step];
        let seconds = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .random_range(5..600i64);
        let log = self.signalwire.update_voice_log(id, |log| {
            log["status"] = json!(status);
            if status == "completed" {
                log["duration"] = json!(seconds);
                log["duration_ms"] = json!(seconds * 1000);
                log["billing_ms"] = json!((seconds / 60 + 1) * 60_000);
                log["charge"] = json!(0.0085 * ((seconds / 60 + 1) as f64));
            }
        })?;
        self.signalwire_callback(&log, step).await;
        Some(status)
    }

    /// The live SignalWire calls, oldest first.
    pub(super) fn live_signalwire_calls(&self) -> Vec<String> {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.iter().map(|(id, _)| id.to_string()).collect()
    }

    /// Sends the status callback of `log` (form-encoded, signed) to the gateway.
    async fn signalwire_callback(&self, log: &serde_json::Value, sequence: usize) {
        let Some(callback) = self.callbacks().signalwire else {
            return;
        };
        let text = |key: &str| log[key].as_str().unwrap_or_default().to_string();
        let mut params = BTreeMap::from([
            ("AccountSid".to_string(), data::PROJECT_ID.to_string()),
            ("ApiVersion".to_string(), "2010-04-01".to_string()),
            ("CallSid".to_string(), text("id")),
            ("CallStatus".to_string(), text("status")),
            ("Direction".to_string(), text("direction")),
            ("From".to_string(), text("from")),
            ("To".to_string(), text("to")),
            ("SequenceNumber".to_string(), sequence.to_string()),
            ("Timestamp".to_string(), Utc::now().to_rfc2822()),
        ]);
        if let Some(duration) = log["duration"].as_i64() {
            params.insert("CallDuration".to_string(), duration.to_string());
        }
        let signature = sign_form(&callback.secret, callback.url.as_str(), &params);
        let sent = self
            .http
            .post(callback.url.clone())
            .header("X-SignalWire-Signature", signature)
            .form(&params)
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if let Err(e) = sent {
            tracing::debug!(error = %e, "emulator: the SignalWire callback could not be delivered");
        }
    }

    /// Logs a OneUptime notification call placed now and sends the workflow webhook; its id.
    pub(super) async fn start_oneuptime_call(&self) -> String {
        let record = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            data::oneuptime_record(&mut rng, Utc::now())
        };
        let id = record.id.clone();
        self.oneuptime.insert(record);
        if let Some(callback) = self.callbacks().oneuptime {
            let sent = self
                .http
                .post(callback.url.clone())
                .header("X-Webhook-Secret", &callback.secret)
                .json(&json!({ "callLogId": id }))
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            if let Err(e) = sent {
                tracing::debug!(error = %e, "emulator: the OneUptime webhook could not be delivered");
            }
        }
        id
    }

    /// Adds a Voximplant session that started now to the call history; its id.
    pub(super) fn start_voximplant_session(&self) -> u64 {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        self.voximplant
            .insert_session(|id| data::voximplant_session(&mut rng, id, Utc::now(), |_| false))
    }

    /// Demo traffic: every `every`, a new SignalWire call or a step of a live one, and now
    /// and then a OneUptime call or a Voximplant session; until dropped.
    pub(super) async fn run(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            let (roll, oldest) = {
                let roll = self
                    .rng
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .random_range(0..10u8);
                (roll, self.live_signalwire_calls().into_iter().next())
            };
            match (roll, oldest) {
                (0, _) => {
                    self.start_oneuptime_call().await;
                }
                (9, _) => {
                    self.start_voximplant_session();
                }
                (1..=5, Some(id)) => {
                    self.advance_signalwire_call(&id).await;
                }
                _ => {
                    self.start_signalwire_call().await;
                }
            }
        }
    }
}

/// The control routes of live traffic: `POST /__emulator/live/signalwire/calls` starts a
/// call (`{"id": ...}`), `POST /__emulator/live/signalwire/calls/{id}/advance` moves it on
/// (`{"status": ...}`, 404 when it is not a live call), `POST /__emulator/live/oneuptime/calls`
/// logs a OneUptime call, `POST /__emulator/live/voximplant/sessions` adds a Voximplant
/// session; each sends its callback (if any) before answering.
pub(super) fn routes(traffic: Arc<Traffic>) -> axum::Router {
    use axum::extract::{Path, State};
    use axum::routing::post;
    type Shared = State<Arc<Traffic>>;
    axum::Router::new()
        .route(
            "/__emulator/live/signalwire/calls",
            post(|State(t): Shared| async move { axum::Json(json!({"id": t.start_signalwire_call().await})) }),
        )
        .route(
            "/__emulator/live/signalwire/calls/{id}/advance",
            post(|State(t): Shared, Path(id): Path<String>| async move {
                match t.advance_signalwire_call(&id).await {
                    Some(status) => Ok(axum::Json(json!({ "status": status }))),
                    None => Err(axum::http::StatusCode::NOT_FOUND),
                }
            }),
        )
        .route(
            "/__emulator/live/voximplant/sessions",
            post(|State(t): Shared| async move { axum::Json(json!({"id": t.start_voximplant_session()})) }),
        )
        .route(
            "/__emulator/live/oneuptime/calls",
            post(|State(t): Shared| async move { axum::Json(json!({"id": t.start_oneuptime_call().await})) }),
        )
        .with_state(traffic)
}

/// SignalWire's form-callback signature: base64 HMAC-SHA1 of the URL followed by each
/// parameter's name and value, sorted by name.
fn sign_form(key: &str, url: &str, params: &BTreeMap<String, String>) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}
