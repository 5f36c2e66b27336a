//! The merged cross-provider timeline (`callLogs`): each provider collection is a stream
//! that reads ahead from its own cursor; `merge` interleaves the streams newest first and
//! works out where each stream resumes. The composite cursor is the per-stream positions.

pub mod merge;

pub use merge::{Merged, StreamBatch, StreamItem, merge};
