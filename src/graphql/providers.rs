//! Everything the GraphQL layer knows of the providers, one list each.

use crate::timeline::TimelineStream;

use super::timeline::CallLogs;

/// Every `callLogs` stream, in a fixed order (the merge's tie order and the cursor's).
pub(super) const STREAMS: [&dyn TimelineStream<CallLogs>; 4] = [
    &super::signalwire::VOICE_STREAM,
    &super::signalwire::VIDEO_STREAM,
    &super::oneuptime::STREAM,
    &super::voximplant::STREAM,
];
