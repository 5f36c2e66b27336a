//! Everything the GraphQL layer knows of the providers, one list each: each provider's
//! GraphQL module (a child of this one), its root fields merged into `Query` and
//! `Mutation`, its types in the `Node` and `CallLog` interfaces, its part of a request's
//! scope, the node kinds it resolves and its `callLogs` streams.
//!
//! Adding a provider adds one line to each list (README, "Adding a provider"); the code
//! that reads these lists (`scope`, `node`, `timeline`, `call_log`) names no provider.

#[cfg(feature = "fake-provider")]
pub(super) mod fake;
pub(super) mod oneuptime;
pub(super) mod signalwire;
pub(super) mod voximplant;

use async_graphql::MergedObject;

use super::node::NodeSource;
use super::query::ByIdQuery;
use super::scope::BuildPart;
use super::timeline::{CallLogs, TimelineQuery};
use crate::timeline::TimelineStream;

/// The root query type.
#[derive(MergedObject, Default)]
pub struct Query(
    ByIdQuery,
    super::rate_limit::RateLimitQuery,
    TimelineQuery,
    super::stats::StatsQuery,
    signalwire::SignalWireQuery,
    oneuptime::OneUptimeQuery,
    voximplant::VoximplantQuery,
    voximplant::audit::VoximplantAuditQuery,
    #[cfg(feature = "fake-provider")] fake::FakeQuery,
);

// The root mutation type (no description: the checked-in schema has none).
#[derive(MergedObject, Default)]
pub struct Mutation(voximplant::reports::VoximplantReportsMutation);

super::call_log::interfaces! {
    call_logs {
        SignalWireVoiceLog: signalwire::SignalWireVoiceLog,
        SignalWireVideoLog: signalwire::SignalWireVideoLog,
        DiscardedCallLog: signalwire::DiscardedCallLog,
        OneUptimeCallLog: oneuptime::OneUptimeCallLog,
        VoximplantCallSession: voximplant::VoximplantCallSession,
        #[cfg(feature = "fake-provider")]
        FakeCallLog: fake::FakeCallLog,
    }
    other_nodes {
        VoximplantAuditLogEntry: voximplant::audit::VoximplantAuditLogEntry,
        VoximplantHistoryReport: voximplant::reports::VoximplantHistoryReport,
    }
}

/// Every provider's part of a request's scope.
pub(super) const PARTS: &[BuildPart] = &[
    signalwire::request_part,
    oneuptime::request_part,
    voximplant::request_part,
    #[cfg(feature = "fake-provider")]
    fake::request_part,
];

/// Every node source: one per node kind, or per provider GraphQL module whose kinds share
/// one.
pub(super) const SOURCES: &[&dyn NodeSource] = &[
    &signalwire::VOICE_NODES,
    &signalwire::VIDEO_NODES,
    &oneuptime::NODES,
    &voximplant::NODES,
    &voximplant::audit::NODES,
    &voximplant::reports::NODES,
    #[cfg(feature = "fake-provider")]
    &fake::NODES,
];

/// Every provider's connection fields as compiled plans read them (`graphql::plan`).
pub(super) const PLANNED: &[&[crate::graphql::plan::PlannedField]] = &[
    signalwire::SignalWireQuery::PLANNED,
    oneuptime::OneUptimeQuery::PLANNED,
    voximplant::VoximplantQuery::PLANNED,
    voximplant::audit::VoximplantAuditQuery::PLANNED,
    #[cfg(feature = "fake-provider")]
    fake::FakeQuery::PLANNED,
];

/// Every provider's own fields that compiled plans draw (`graphql::plan::OwnField`).
pub(super) const OWN_FIELDS: &[&[crate::graphql::plan::OwnField]] =
    &[signalwire::OWN_FIELDS, oneuptime::OWN_FIELDS, voximplant::OWN_FIELDS];

/// Every `callLogs` stream, in a fixed order (the merge's tie order and the cursor's).
pub(super) const STREAMS: &[&dyn TimelineStream<CallLogs>] = &[
    &signalwire::VOICE_STREAM,
    &signalwire::VIDEO_STREAM,
    &oneuptime::STREAM,
    &voximplant::STREAM,
    #[cfg(feature = "fake-provider")]
    &fake::STREAM,
];
