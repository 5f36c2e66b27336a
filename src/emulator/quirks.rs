//! Ways the real providers may differ from the emulator's default reading of them, as
//! switches: each imitates one behaviour no public source settles (or one a provider is
//! known to show sometimes), so `switchboard doctor` can be shown to notice it and the
//! gateway's clients can be tested against it. Set them in `EmulatorConfig::quirks`,
//! with `Emulator::set_quirks`, or over HTTP (`POST /__emulator/quirks`, JSON).

use std::sync::{Arc, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

/// The switches; all off by default (the emulator as DESIGN.md §6 describes it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quirks {
    /// SignalWire lists oldest first.
    pub signalwire_ascending: bool,
    /// OneUptime ignores the `sort` it is sent and lists oldest first.
    pub oneuptime_ascending: bool,
    /// SignalWire's `links.next` names this origin (e.g. `https://api.elsewhere.test`)
    /// instead of the one asked.
    pub signalwire_link_origin: Option<String>,
    /// SignalWire's `created_after` keeps logs created at its very instant.
    pub signalwire_created_after_inclusive: bool,
    /// SignalWire reads only the date of a `created_*` date-time.
    pub signalwire_created_dates_only: bool,
    /// SignalWire keeps this many days of history (counted back from the data set's
    /// "now"): older logs are not listed, a `created_before` before that is a 422
    /// `exceeds_history_logs_limit` naming `created_before`, a by-id read of one a 422
    /// naming `created_at`.
    pub signalwire_retention_days: Option<u32>,
    /// Voximplant answers in this time zone when the request names none (an account
    /// setting).
    pub voximplant_default_timezone: Option<String>,
    /// Voximplant answers in this time zone whatever the request names.
    pub voximplant_forced_timezone: Option<String>,
    /// Voximplant's report CSV names its columns otherwise than the API's JSON fields.
    pub voximplant_other_csv_header: bool,
    /// Voximplant's `to_date` leaves out records at its very instant.
    pub voximplant_to_date_exclusive: bool,
}

/// The quirks in force, shared by the emulated providers and changed at run time.
#[derive(Debug, Clone, Default)]
pub(super) struct Shared(Arc<RwLock<Quirks>>);

impl Shared {
    pub(super) fn new(quirks: Quirks) -> Self {
        Shared(Arc::new(RwLock::new(quirks)))
    }

    pub(super) fn get(&self) -> Quirks {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(super) fn set(&self, quirks: Quirks) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = quirks;
    }
}

/// Hours east of UTC of the time zones the emulated Voximplant knows (fixed offsets:
/// these zones keep no daylight saving time).
pub(super) fn zone_offset_hours(zone: &str) -> Option<i64> {
    match zone {
        "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" => Some(0),
        "Europe/Moscow" => Some(3),
        "Asia/Tokyo" => Some(9),
        _ => None,
    }
}
