//! One module per upstream provider. Each owns its HTTP client, private wire types,
//! wire -> domain mapping, paging and DataLoaders, and exposes a service API of domain
//! types only: nothing of reqwest or a wire format leaves a provider module.

pub mod oneuptime;
pub mod signalwire;
pub mod voximplant;

use std::sync::Arc;

use crate::upstream::UpstreamError;

/// A DataLoader's answer for one id: found, not found, or that id's upstream failure
/// (per id, so one failing id does not fail its neighbours).
pub type Lookup<T> = Result<Option<Arc<T>>, UpstreamError>;
