//! Deterministic seeded data for the emulated providers, rendered straight to JSON.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use uuid::Uuid;

/// One emulated log: its sort key and its rendered JSON.
pub(super) struct Record {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub discarded: bool,
    pub json: Value,
}

/// The fixed "now" of the data set, so runs are reproducible.
pub(super) fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("valid constant date")
}

const SPREAD_SECONDS: i64 = 180 * 24 * 3600;
pub(super) const PROJECT_ID: &str = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

pub(super) fn uuid(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

pub(super) fn number(rng: &mut ChaCha8Rng) -> String {
    format!("+1{}{:07}", rng.random_range(200..999), rng.random_range(0..10_000_000))
}

pub(super) fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Cents-precise dollar charges, as SignalWire reports them.
fn charge(rng: &mut ChaCha8Rng) -> f64 {
    f64::from(rng.random_range(0..500u32)) / 10_000.0
}

fn sort_newest_first(records: &mut [Record]) {
    records.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
}

fn created_at(rng: &mut ChaCha8Rng) -> DateTime<Utc> {
    anchor() - Duration::seconds(rng.random_range(0..SPREAD_SECONDS))
}

fn discarded(id: Uuid, created: DateTime<Utc>, rng: &mut ChaCha8Rng) -> Record {
    let at = created + Duration::seconds(rng.random_range(60..86_400));
    Record {
        id,
        created_at: created,
        discarded: true,
        json: json!({"id": id, "discarded_at": stamp(at), "created_at": stamp(created)}),
    }
}

/// `n` voice logs covering every documented variant, plus unknown type/status values.
pub(super) fn voice_logs(seed: u64, n: usize) -> Vec<Record> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut records: Vec<Record> = Vec::with_capacity(n);
    for i in 0..n {
        let id = uuid(&mut rng);
        let created = created_at(&mut rng);
        let roll = rng.random_range(0..100);
        if roll < 5 {
            records.push(discarded(id, created, &mut rng));
            continue;
        }
        let (log_type, source) = match roll {
            5..=34 => ("laml_call", "laml"),
            35..=49 => ("relay_pstn_call", "realtime_api"),
            50..=59 => ("relay_sip_call", "realtime_api"),
            60..=67 => ("relay_webrtc_call", "realtime_api"),
            68..=75 => ("video_room_pstn_leg", "realtime_api"),
            76..=80 => ("video_room_sip_leg", "realtime_api"),
            81..=89 => ("dialogflow_call", "dialogflow"),
            90..=97 => ("fabric_subscriber_device_leg", "realtime_api"),
            _ => ("hologram_call", "realtime_api"),
        };
        let live = anchor() - created < Duration::hours(6) && rng.random_bool(0.5);
        let status = if live {
            *["queued", "ringing", "in-progress", "answered"]
                .choose(&mut rng)
                .unwrap_or(&"ringing")
        } else {
            *[
                "completed",
                "completed",
                "completed",
                "completed",
                "ended",
                "busy",
                "failed",
                "no-answer",
                "canceled",
                "initiated",
                "created",
                "ending",
                "joined",
                "teleporting",
            ]
            .choose(&mut rng)
            .unwrap_or(&"completed")
        };
        let direction = *["inbound", "outbound", "outbound-api", "outbound-dial"]
            .choose(&mut rng)
            .unwrap_or(&"inbound");
        let duration_ms: Option<i64> = (!live && rng.random_bool(0.9)).then(|| rng.random_range(0..1_800_000));
        let amount = charge(&mut rng);
        let mut log = json!({
            "id": id, "from": number(&mut rng), "to": number(&mut rng), "source": source,
            "charge": amount,
            "charge_details": if amount > 0.0 { json!([{"description": "Voice minutes", "charge": amount}]) } else { json!([]) },
            "created_at": stamp(created), "type": log_type, "url": Value::Null,
        });
        let fields = log.as_object_mut().expect("json! object");
        let duration = duration_ms.map(|ms| ms / 1000);
        match log_type {
            "dialogflow_call" => {
                fields.insert("status".into(), json!(status));
                fields.insert("duration".into(), json!(duration));
            }
            "fabric_subscriber_device_leg" => {
                fields.insert("direction".into(), json!(direction));
                fields.insert("status".into(), Value::Null);
            }
            "video_room_pstn_leg" | "video_room_sip_leg" => {
                fields.insert("direction".into(), json!(direction));
                fields.insert("status".into(), json!(status));
                fields.insert("duration".into(), json!(duration));
                fields.insert("duration_ms".into(), json!(duration_ms));
            }
            _ => {
                if log_type == "laml_call" {
                    fields.insert(
                        "url".into(),
                        json!(format!(
                            "https://example.signalwire.com/api/laml/2010-04-01/Accounts/{PROJECT_ID}/Calls/{id}"
                        )),
                    );
                }
                // Child legs point at an older log, as SignalWire's parent_id does.
                let parent = (i > 0 && rng.random_bool(0.12)).then(|| records[rng.random_range(0..i)].id.to_string());
                fields.insert("direction".into(), json!(direction));
                fields.insert("status".into(), json!(status));
                fields.insert("duration".into(), json!(duration));
                fields.insert("duration_ms".into(), json!(duration_ms));
                fields.insert(
                    "billing_ms".into(),
                    json!(duration_ms.map(|ms| (ms / 60_000 + 1) * 60_000)),
                );
                fields.insert("parent_id".into(), json!(parent));
            }
        }
        records.push(Record {
            id,
            created_at: created,
            discarded: false,
            json: log,
        });
    }
    sort_newest_first(&mut records);
    records
}

/// `n` video logs: room and conference sessions, null statuses and room names, deletions.
pub(super) fn video_logs(seed: u64, n: usize) -> Vec<Record> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x05ee_d0f7_1de0);
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        let id = uuid(&mut rng);
        let created = created_at(&mut rng);
        if rng.random_bool(0.05) {
            records.push(discarded(id, created, &mut rng));
            continue;
        }
        let live = anchor() - created < Duration::hours(12) && rng.random_bool(0.5);
        let ended = (!live).then(|| created + Duration::seconds(rng.random_range(30..7_200)));
        let status = if live {
            json!("in-progress")
        } else if rng.random_bool(0.1) {
            Value::Null
        } else {
            json!("completed")
        };
        let amount = charge(&mut rng);
        let log = json!({
            "id": id, "source": "realtime_api",
            "type": if rng.random_bool(0.6) { "video_room_session" } else { "video_conference_session" },
            "url": format!("https://example.signalwire.com/api/video/room_sessions/{id}"),
            "room_name": if rng.random_bool(0.1) { Value::Null } else { json!(format!("room-{}", rng.random_range(1..60))) },
            "status": status, "locked": rng.random_bool(0.2),
            "started_at": stamp(created), "ended_at": ended.map(stamp),
            "charge": amount, "created_at": stamp(created),
            "charge_details": [{"description": "Video room minutes", "charge": amount}],
        });
        records.push(Record {
            id,
            created_at: created,
            discarded: false,
            json: log,
        });
    }
    sort_newest_first(&mut records);
    records
}

/// The events of a voice log, derived from its id (so they never change between calls).
pub(super) fn voice_events(log: &Record) -> Value {
    let mut rng = ChaCha8Rng::seed_from_u64(log.id.as_u64_pair().0);
    let steps = [
        ("calling_call_initiated", "info"),
        ("calling_call_ringing", "debug"),
        ("calling_call_answered", "info"),
        ("calling_call_quality", "warn"),
        ("calling_call_media_timeout", "warning"),
        ("calling_call_ended", "info"),
    ];
    let count = rng.random_range(2..=steps.len());
    let mut at = log.created_at;
    let events: Vec<Value> = steps[..count]
        .iter()
        .map(|(name, level)| {
            at += Duration::milliseconds(rng.random_range(50..5_000));
            json!({
                "event_at": stamp(at), "level": level, "name": name,
                "details": {"sequence": rng.random_range(0..1000), "node": format!("node-{}", rng.random_range(1..9))},
                "project_id": PROJECT_ID, "log_id": log.id,
            })
        })
        .collect();
    json!({ "data": events })
}

/// One emulated OneUptime call log, typed for query evaluation.
#[derive(Debug, Clone)]
pub(super) struct OneUptimeRecord {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status: String,
    pub cost_cents: i64,
    pub call_data: Value,
    /// Text columns: numbers, ids, status message (absent = null).
    pub texts: Vec<(&'static str, String)>,
}

impl OneUptimeRecord {
    pub(super) fn text(&self, column: &str) -> Option<&str> {
        self.texts.iter().find(|(c, _)| *c == column).map(|(_, v)| v.as_str())
    }

    /// The record as OneUptime serializes it: typed wrappers for ids, phones and dates.
    pub(super) fn render(&self, columns: &[&str]) -> Value {
        let stamp = |t: DateTime<Utc>| json!({"_type": "DateTime", "value": t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)});
        let mut out = serde_json::Map::new();
        for column in columns {
            let value = match *column {
                "_id" => json!(self.id),
                "createdAt" => stamp(self.created_at),
                "updatedAt" => stamp(self.updated_at),
                "status" => json!(self.status),
                "callCostInUSDCents" => json!(self.cost_cents),
                "callData" => self.call_data.clone(),
                "statusMessage" => json!(self.text("statusMessage")),
                "toNumber" | "fromNumber" => match self.text(column) {
                    Some(n) => json!({"_type": "Phone", "value": n}),
                    None => Value::Null,
                },
                other => match self.text(other) {
                    Some(id) => json!({"_type": "ObjectID", "value": id}),
                    None => Value::Null,
                },
            };
            out.insert(column.to_string(), value);
        }
        Value::Object(out)
    }
}

const OU_PROJECT: &str = "5f8b9c0d-e1a2-4b3c-8d5e-6f7a8b9c0d1e";

fn pool(seed: u64, n: usize) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| uuid(&mut rng).to_string()).collect()
}

pub(super) fn oneuptime_record(rng: &mut ChaCha8Rng, created: DateTime<Utc>) -> OneUptimeRecord {
    let users = pool(11, 20);
    let teams = pool(12, 5);
    let monitors = pool(13, 30);
    // What OneUptime's worker writes (App/FeatureSet/Notification/Services/CallService.ts):
    // `Success` once Twilio accepted the call, `Error`, `Low Balance`; never `Missed
    // Call` or `Busy`, although its CallStatus enum has them.
    let status = *[
        "Success",
        "Success",
        "Success",
        "Success",
        "Success",
        "Success",
        "Success",
        "Success",
        "Error",
        "Error",
        "Error",
        "Low Balance",
    ]
    .choose(rng)
    .unwrap_or(&"Success");
    let mut texts: Vec<(&'static str, String)> = vec![
        ("projectId", OU_PROJECT.to_string()),
        ("fromNumber", format!("+1415555{:04}", rng.random_range(0..50))),
        ("toNumber", number(rng)),
    ];
    let message = match status {
        "Success" => format!("Call ID: CA{:032x}", rng.random::<u128>()),
        "Low Balance" => "Project does not have enough balance to make this call.".to_string(),
        _ => "Twilio Config not found".to_string(),
    };
    texts.push(("statusMessage", message));
    let optional: [(&'static str, f64, Option<&Vec<String>>); 11] = [
        ("incidentId", 0.4, None),
        ("userId", 0.5, Some(&users)),
        ("alertId", 0.1, None),
        ("monitorId", 0.3, Some(&monitors)),
        ("scheduledMaintenanceId", 0.05, None),
        ("statusPageId", 0.05, None),
        ("statusPageAnnouncementId", 0.03, None),
        ("onCallDutyPolicyId", 0.2, None),
        ("onCallDutyPolicyEscalationRuleId", 0.15, None),
        ("onCallDutyPolicyScheduleId", 0.1, None),
        ("teamId", 0.3, Some(&teams)),
    ];
    for (column, p, from) in optional {
        if rng.random_bool(p) {
            let id = match from {
                Some(pool) => pool[rng.random_range(0..pool.len())].clone(),
                None => uuid(rng).to_string(),
            };
            texts.push((column, id));
        }
    }
    OneUptimeRecord {
        id: uuid(rng).to_string(),
        created_at: created,
        updated_at: created + Duration::seconds(rng.random_range(1..120)),
        status: status.to_string(),
        cost_cents: rng.random_range(0..500),
        call_data: json!({"message": format!("Incident #{} needs attention", rng.random_range(1..999)), "attempt": rng.random_range(1..4)}),
        texts,
    }
}

fn sort_oneuptime(records: &mut [OneUptimeRecord]) {
    records.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
}

/// `n` OneUptime call logs over six months, newest first. Times have microseconds, as
/// OneUptime's Postgres `timestamptz` does (they are printed in milliseconds, see
/// `OneUptimeRecord::render`): about a third of the logs share the printed millisecond of
/// the log before them (several notification calls placed at once), so page boundaries
/// fall inside such groups, and every 25th shares its predecessor's exact instant, so
/// ties are broken by id.
pub(super) fn oneuptime_call_logs(seed: u64, n: usize) -> Vec<OneUptimeRecord> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0ee_7111e);
    let mut records: Vec<OneUptimeRecord> = Vec::with_capacity(n);
    for i in 0..n {
        let created = match records.last() {
            Some(prev) if i % 25 == 0 => prev.created_at,
            _ => anchor() - Duration::microseconds(rng.random_range(0..SPREAD_SECONDS * 1_000_000)),
        };
        records.push(oneuptime_record(&mut rng, created));
    }
    sort_oneuptime(&mut records);
    for i in 1..records.len() {
        let prev = records[i - 1].created_at;
        let micros = i64::from(prev.timestamp_subsec_micros() % 1000);
        if micros > 0 && records[i].created_at < prev && rng.random_bool(0.35) {
            // Same printed millisecond as the log before, a little older.
            let created = prev - Duration::microseconds(rng.random_range(1..=micros));
            let moved = created - records[i].created_at;
            records[i].updated_at += moved;
            records[i].created_at = created;
        }
    }
    sort_oneuptime(&mut records);
    records
}

/// `n` logs created after `newest`, newest first.
pub(super) fn oneuptime_newer_than(seed: u64, newest: DateTime<Utc>, n: usize) -> Vec<OneUptimeRecord> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut records: Vec<OneUptimeRecord> = (1..=n)
        .map(|i| oneuptime_record(&mut rng, newest + Duration::milliseconds(i as i64 * 1500)))
        .collect();
    sort_oneuptime(&mut records);
    records
}

/// One emulated Voximplant session: sort/filter keys and its JSON parts.
#[derive(Debug, Clone)]
pub(super) struct VoxSession {
    pub id: u64,
    pub start: DateTime<Utc>,
    pub application_id: u64,
    pub application_name: String,
    pub user_id: u64,
    pub local_numbers: Vec<String>,
    pub remote_numbers: Vec<String>,
    pub base: Value,
    pub calls: Value,
    pub records: Value,
    pub other: Value,
}

fn vox_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `n` sessions spread over `span_seconds` before the data set's "now", one to four
/// calls each, some recordings and other resource usage, every finish reason.
const VOX_APPS: [(u64, &str); 3] = [
    (10001, "support.acme.voximplant.com"),
    (10002, "dialer.acme.voximplant.com"),
    (10003, "ivr.acme.voximplant.com"),
];
const VOX_LOCALS: [&str; 5] = [
    "+15559990000",
    "+15559990001",
    "+15559990002",
    "+15559990003",
    "+15559990004",
];

pub(super) fn voximplant_sessions(seed: u64, n: usize, span_seconds: i64) -> Vec<VoxSession> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0000_0b0c_5e55);
    let mut sessions: Vec<VoxSession> = (0..n)
        .map(|i| {
            let id = 3_000_000_000 + i as u64;
            let start = anchor() - Duration::seconds(rng.random_range(0..span_seconds.max(1)));
            let recent = anchor() - start < Duration::minutes(30);
            voximplant_session(&mut rng, id, start, |rng| recent && rng.random_bool(0.5))
        })
        .collect();
    sessions.sort_by(|a, b| b.start.cmp(&a.start).then(b.id.cmp(&a.id)));
    sessions
}

/// One session `id` started at `start`, still running when `live` says so (no duration,
/// no finish reason); `live` draws from `rng` where the seeded data always did, so the
/// seeded sessions stay what they were.
pub(super) fn voximplant_session(
    rng: &mut ChaCha8Rng,
    id: u64,
    start: DateTime<Utc>,
    live: impl FnOnce(&mut ChaCha8Rng) -> bool,
) -> VoxSession {
    let (apps, locals) = (VOX_APPS, VOX_LOCALS);
    let (application_id, application_name) = apps[rng.random_range(0..apps.len())];
    let user_id = 501 + rng.random_range(0..10);
    let live = live(rng);
    let finish_reason = if live {
        Value::Null
    } else {
        json!(
            *[
                "Normal termination",
                "Normal termination",
                "Normal termination",
                "Normal termination",
                "Insufficient funds",
                "Internal error (billing timeout)",
                "Terminated administratively",
                "JS session error",
                "Timeout"
            ]
            .choose(rng)
            .unwrap_or(&"Normal termination")
        )
    };
    let call_count = rng.random_range(1..=4);
    let incoming = rng.random_bool(0.5);
    let mut locals_used = Vec::new();
    let mut remotes_used = Vec::new();
    let mut offset = 0;
    let calls: Vec<Value> = (0..call_count)
        .map(|c| {
            let local = locals[rng.random_range(0..locals.len())].to_string();
            let remote = number(rng);
            locals_used.push(local.clone());
            remotes_used.push(remote.clone());
            offset += rng.random_range(0..5);
            let successful = rng.random_bool(0.8);
            let duration = successful.then(|| rng.random_range(1..900));
            json!({
                "call_id": id * 10 + c as u64, "start_time": vox_stamp(start + Duration::seconds(offset)),
                "duration": duration, "local_number": local, "remote_number": remote,
                "remote_number_type": *["pstn", "mobile", "user", "sip"].choose(rng).unwrap_or(&"pstn"),
                "incoming": c == 0 && incoming, "successful": successful,
                "transaction_id": id * 100 + c as u64, "media_server_address": "198.51.100.4",
                "cost": duration.map(|d| f64::from(d as u32) / 10_000.0),
                "end_reason": {"code": if successful { 200 } else { 486 }, "description": if successful { "Normal call clearing" } else { "Busy here" }},
            })
        })
        .collect();
    let records: Vec<Value> = if rng.random_bool(0.3) {
        vec![
            json!({"record_id": id, "record_name": format!("session-{id}"), "cost": 0.01,
            "start_time": vox_stamp(start + Duration::seconds(2)), "duration": rng.random_range(5..600),
            "record_url": format!("https://storage.example.voximplant.com/records/{id}.mp3"), "transaction_id": id * 100 + 50,
            "file_size": 0.5, "transcription_status": "Not required"}),
        ]
    } else {
        Vec::new()
    };
    let other: Vec<Value> = if rng.random_bool(0.2) {
        vec![
            json!({"resource_usage_id": id, "resource_type": "ASR", "cost": 0.005, "description": "Speech recognition",
            "used_at": vox_stamp(start + Duration::seconds(3)), "transaction_id": id * 100 + 60,
            "resource_quantity": 1, "unit": "request", "ref_call_id": id * 10}),
        ]
    } else {
        Vec::new()
    };
    let duration = if live {
        Value::Null
    } else {
        json!(offset + rng.random_range(1..900))
    };
    VoxSession {
        id,
        start,
        application_id,
        application_name: application_name.to_string(),
        user_id,
        local_numbers: locals_used,
        remote_numbers: remotes_used,
        base: json!({
            "call_session_history_id": id, "account_id": 1234567, "application_id": application_id,
            "application_name": application_name, "user_id": user_id,
            "rule_name": if incoming { "inbound" } else { "outbound" },
            "start_date": vox_stamp(start), "duration": duration,
            "initiator_address": "203.0.113.7", "media_server_address": "198.51.100.4",
            "log_file_url": format!("https://storage.example.voximplant.com/logs/{id}.log"),
            "finish_reason": finish_reason, "audio_quality": "HD",
        }),
        calls: Value::Array(calls),
        records: Value::Array(records),
        other: Value::Array(other),
    }
}

/// One emulated Voximplant audit log entry.
#[derive(Debug, Clone)]
pub(super) struct VoxAuditEntry {
    pub id: u64,
    pub requested: DateTime<Utc>,
    pub ip: String,
    pub cmd_name: String,
    pub admin_user_id: Option<String>,
    pub related: Vec<String>,
    pub json: Value,
}

/// `n` audit entries over `span_seconds`, newest first.
pub(super) fn voximplant_audit_log(seed: u64, n: usize, span_seconds: i64) -> Vec<VoxAuditEntry> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x000a_0d17);
    let commands = [
        "AddSkill",
        "SetUserInfo",
        "AttachPhoneNumber",
        "DelUser",
        "AddUser",
        "SetApplicationInfo",
        "GetCallHistory",
    ];
    let ips = ["192.168.0.12", "203.0.113.5", "198.51.100.23", "192.0.2.44"];
    let mut entries: Vec<VoxAuditEntry> = (0..n)
        .map(|i| {
            let id = 700_000 + i as u64;
            let requested = anchor() - Duration::seconds(rng.random_range(0..span_seconds.max(1)));
            let cmd = commands[rng.random_range(0..commands.len())];
            let ip = ips[rng.random_range(0..ips.len())];
            let subuser = rng.random_bool(0.4).then(|| rng.random_range(1..6u64));
            let user_id = 501 + rng.random_range(0..10u64);
            let app_id = 10001 + rng.random_range(0..3u64);
            let mut json = json!({
                "audit_log_id": id, "account_id": 1234567, "requested": vox_stamp(requested), "ip": ip,
                "cmd_name": cmd, "cmd_args": {"user_id": user_id, "application_id": app_id, "skill_name": "manager"},
                "cmd_result": {"result": 1},
            });
            if let Some(sub) = subuser {
                json["subuser_id"] = json!(sub);
                json["subuser_name"] = json!(format!("admin{sub}"));
            }
            VoxAuditEntry {
                id,
                requested,
                ip: ip.to_string(),
                cmd_name: cmd.to_string(),
                admin_user_id: subuser.map(|s| format!("admin{s}")),
                related: vec![user_id.to_string(), app_id.to_string()],
                json,
            }
        })
        .collect();
    entries.sort_by(|a, b| b.requested.cmp(&a.requested).then(b.id.cmp(&a.id)));
    entries
}
