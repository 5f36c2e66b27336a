//! What a provider client assumes about its provider that no public source settles, when
//! an answer shows the assumption wrong at run time: logged once per provider and
//! assumption, with the evidence, at error level (the request that met it fails with a
//! coded error). `switchboard doctor` checks the same assumptions on purpose.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::domain::Provider;

/// Records that `assumption` of `provider` did not hold; logs it the first time.
pub fn broken(provider: Provider, assumption: &'static str, evidence: &str) {
    static SEEN: OnceLock<Mutex<HashSet<(Provider, &'static str)>>> = OnceLock::new();
    let first = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert((provider, assumption));
    if first {
        tracing::error!(
            provider = provider.as_str(),
            assumption,
            evidence,
            "a provider answered against what the gateway assumes of it (logged once; run `switchboard doctor`)"
        );
    }
}
