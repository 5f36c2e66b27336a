//! One module per upstream provider. Each owns its HTTP client, private wire types,
//! wire -> domain mapping, paging and DataLoaders, and exposes a service API of domain
//! types only: nothing of reqwest or a wire format leaves a provider module.

pub mod signalwire;
