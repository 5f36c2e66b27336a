//! The audit trail: one record per answer that showed a guarded field unmasked, saying who
//! (tenant, `sub`, `azp`), which request and operation, which rules granted access and how
//! many records each showed; never the values. Written to the log under its own target
//! (`switchboard::audit`, always at info; JSON with `log.format = "json"`) and counted per
//! rule on `/metrics`. Masked answers write none.

use super::Tally;
use crate::telemetry::metrics::Metrics;

/// The target audit records are logged under.
pub const TARGET: &str = "switchboard::audit";

/// Who was shown the values.
pub struct Viewer<'a> {
    pub tenant: &'a str,
    pub subject: Option<&'a str>,
    pub party: Option<&'a str>,
}

/// Writes the audit record of one answer that showed `tally` (nothing when it showed no
/// guarded value unmasked).
pub fn record(tally: &Tally, viewer: &Viewer<'_>, operation: Option<&str>, metrics: &Metrics) {
    if tally.is_empty() {
        return;
    }
    let rules = tally
        .0
        .iter()
        .map(|(rule, n)| format!("{rule}={n}"))
        .collect::<Vec<_>>()
        .join(" ");
    let request_id = crate::telemetry::request_id::current();
    tracing::info!(
        target: "switchboard::audit",
        tenant = viewer.tenant,
        sub = viewer.subject.unwrap_or(""),
        azp = viewer.party.unwrap_or(""),
        request_id = request_id.as_deref().unwrap_or(""),
        operation = operation.unwrap_or(""),
        rules = %rules,
        records = tally.records(),
        "guarded fields shown unmasked"
    );
    for (rule, n) in &tally.0 {
        metrics.audited(rule, *n);
    }
}
