//! The audit trail: one record per answer that showed a guarded field unmasked, saying who
//! (tenant, `sub`, `azp`), which request and operation, which rules granted access and how
//! many records each showed; never the values. Written to the log under its own target
//! (`switchboard::audit`, always at info; JSON with `log.format = "json"`) and counted per
//! rule on `/metrics`. Masked answers write none.

use std::fmt::Write;

use super::{Authorization, Tally};

/// The target audit records are logged under.
pub const TARGET: &str = "switchboard::audit";

/// Who was shown the values.
pub struct Viewer<'a> {
    pub tenant: &'a str,
    pub subject: Option<&'a str>,
    pub party: Option<&'a str>,
}

/// Writes the audit record of one answer that showed `tally` under `authz`'s rules
/// (nothing when it showed no guarded value unmasked).
pub fn record(authz: &Authorization, tally: &Tally, viewer: &Viewer<'_>, operation: Option<&str>) {
    if tally.is_empty() {
        return;
    }
    let mut rules = String::with_capacity(32 * tally.0.len());
    for (i, (rule, n)) in tally.0.iter().enumerate() {
        if i > 0 {
            rules.push(' ');
        }
        let _ = write!(rules, "{}={n}", authz.rules.rules[usize::from(*rule)].key);
    }
    let request_id = crate::telemetry::request_id::current();
    tracing::info!(
        target: "switchboard::audit",
        tenant = viewer.tenant,
        sub = viewer.subject.unwrap_or(""),
        azp = viewer.party.unwrap_or(""),
        request_id = request_id.as_deref().unwrap_or(""),
        operation = operation.unwrap_or(""),
        rules = rules.as_str(),
        records = tally.records(),
        "guarded fields shown unmasked"
    );
    for (rule, n) in &tally.0 {
        if let Some(series) = authz.series.get(usize::from(*rule)) {
            series.records.increment(1);
            series.unmasked.increment(u64::from(*n));
        }
    }
}
