//! One module per upstream provider. Each owns its HTTP client, private wire types,
//! wire -> domain mapping, paging and DataLoaders, and exposes a service API of domain
//! types only: nothing of reqwest or a wire format leaves a provider module.
//!
//! This file is also the providers' registry: their config sections (`ProvidersConfig`)
//! and their registrations (`REGISTERED`). Adding a provider adds its module and one
//! line to each (README, "Adding a provider").

pub mod assumptions;
pub mod doctor;
pub mod exact;
#[cfg(feature = "fake-provider")]
pub mod fake;
pub mod oneuptime;
pub mod registry;
pub mod signalwire;
pub mod voximplant;
pub mod webhooks;
pub mod window;

pub use registry::{BuildContext, Registration, Section, Service};
pub use window::Window;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::cache::{Cache, Key, Weigh};
use crate::domain::Provider;
use crate::settings::ConfigError;
use crate::upstream::UpstreamError;

/// The `[providers]` section (or a tenant's): one optional section per provider.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidersConfig {
    pub signalwire: Option<signalwire::SignalWireConfig>,
    pub oneuptime: Option<oneuptime::OneUptimeConfig>,
    pub voximplant: Option<voximplant::VoximplantConfig>,
    #[cfg(feature = "fake-provider")]
    pub fake: Option<fake::FakeConfig>,
}

impl ProvidersConfig {
    /// The smallest upstream page size of the configured providers (what a page of a
    /// connection costs in upstream calls is priced with).
    pub fn smallest_page_size(&self) -> Option<u32> {
        [
            self.signalwire.as_ref().map(|c| c.page_size),
            self.oneuptime.as_ref().map(|c| c.page_size),
            self.voximplant.as_ref().map(|c| c.page_size),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// No provider is configured.
    pub fn is_empty(&self) -> bool {
        REGISTERED.iter().all(|r| r.section(self).is_none())
    }

    /// Checks each configured section; errors name the key under `prefix`.
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        for registration in REGISTERED {
            if let Some(section) = registration.section(self) {
                section.validate(&format!("{prefix}.{}", registration.provider().as_str()))?;
            }
        }
        Ok(())
    }
}

/// Every provider this build knows, in the order they are listed and logged.
pub const REGISTERED: &[&dyn Registration] = &[
    &signalwire::REGISTRATION,
    &oneuptime::REGISTRATION,
    &voximplant::REGISTRATION,
    #[cfg(feature = "fake-provider")]
    &fake::REGISTRATION,
];

/// A DataLoader's answer for one id: found, not found, or that id's upstream failure
/// (per id, so one failing id does not fail its neighbours).
pub type Lookup<T> = Result<Option<Arc<T>>, UpstreamError>;

/// The cached by-id answer (found, or found not to exist) under `key`; `None` on a miss.
pub(crate) async fn cached_lookup<T: Weigh>(cache: &Cache, key: &Key<Option<Arc<T>>>) -> Option<Lookup<T>> {
    let hit = cache.get(key).await?;
    Some(Ok((*hit).clone()))
}

/// Answers by-id cache misses so that concurrent misses of one id, in this request or
/// another, make one upstream call: each id's entry is filled through `get_or_fetch`,
/// whose fill awaits one shared `fetch` of every id in `misses`. An id already being
/// filled elsewhere waits for that fill instead, and a batch no id ends up needing is
/// never sent. A fetch answering with a record that is not one of the ids asked is
/// `provider`'s bad response. Answers come in the order of `misses`; errors are not cached.
pub(crate) async fn fetch_coalesced<I, T, F>(
    cache: &Cache,
    provider: Provider,
    misses: Vec<(I, Key<Option<Arc<T>>>)>,
    fetch: impl FnOnce(Vec<I>) -> F,
    is_final: impl Fn(&T) -> bool + Copy,
) -> Vec<Lookup<T>>
where
    I: Clone + Eq + std::hash::Hash + std::fmt::Display + Send + Sync,
    T: crate::cache::Cacheable,
    F: Future<Output = Result<HashMap<I, Arc<T>>, UpstreamError>> + Send,
{
    use futures::FutureExt;
    let ids: Vec<I> = misses.iter().map(|(id, _)| id.clone()).collect();
    let batch = fetch(ids.clone())
        .map(move |found| {
            let found = found?;
            match found.keys().find(|id| !ids.contains(id)) {
                Some(stray) => Err(UpstreamError::bad_response(
                    provider,
                    format!("asked for {} records, got the record {stray}", ids.len()),
                )),
                None => Ok(Arc::new(found)),
            }
        })
        .boxed()
        .shared();
    let fills = misses.into_iter().map(|(id, key)| {
        let batch = batch.clone();
        async move {
            let answer = cache
                .get_or_fetch(key, async move {
                    let record = batch.await?.get(&id).cloned();
                    let ttl = cache.ttls().for_record(record.as_deref().map(is_final));
                    Ok::<_, UpstreamError>((record, ttl))
                })
                .await?;
            Ok((*answer).clone())
        }
    });
    futures::future::join_all(fills).await
}

/// The rows of one list page, each read on its own: one that cannot be read is skipped
/// (logged here, and reported by the windows that pass it) instead of failing the page.
pub(crate) struct Rows<T> {
    /// The readable records, each with its index among the rows sent.
    pub read: Vec<(u32, Arc<T>)>,
    /// Rows that could not be read: their index among the rows sent, and their id as sent.
    pub unreadable: Vec<(u32, String)>,
}

/// A list's rows as sent: read into their wire type `W` in one pass when every row fits
/// it (the usual case), the list's JSON text kept to name a row its mapping refuses;
/// else each row's JSON text, for `read_rows` to read one by one, so a bad row is skipped
/// instead of failing its page. Reading every row on its own cost a raw pass and an
/// allocation per row.
pub(crate) enum SentRows<W> {
    Typed { rows: Vec<W>, text: Box<RawValue> },
    Raw(Vec<Box<RawValue>>),
}

impl<W> Default for SentRows<W> {
    fn default() -> Self {
        SentRows::Raw(Vec::new())
    }
}

impl<'de, W: serde::de::DeserializeOwned> serde::Deserialize<'de> for SentRows<W> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Box::<RawValue>::deserialize(deserializer)?;
        match serde_json::from_str::<Vec<W>>(text.get()) {
            Ok(rows) => Ok(SentRows::Typed { rows, text }),
            // Not every row fits: still a list, or the page itself is malformed.
            Err(_) => serde_json::from_str(text.get())
                .map(SentRows::Raw)
                .map_err(serde::de::Error::custom),
        }
    }
}

impl<W> SentRows<W> {
    /// How many rows were sent.
    pub(crate) fn len(&self) -> usize {
        match self {
            SentRows::Typed { rows, .. } => rows.len(),
            SentRows::Raw(rows) => rows.len(),
        }
    }
}

/// Reads `rows` as `W` mapped by `map`; a row's id (to name it when it cannot be read) is
/// the first of `id_fields` it has.
pub(crate) fn read_rows<W: serde::de::DeserializeOwned, T, E: std::fmt::Display>(
    provider: Provider,
    rows: SentRows<W>,
    id_fields: &[&str],
    map: impl Fn(W) -> Result<T, E>,
) -> Rows<T> {
    let mut read = Vec::with_capacity(rows.len());
    let mut unreadable = Vec::new();
    let mut skip = |i: u32, row: Option<&RawValue>, detail: String| {
        let id = row.map_or_else(|| "?".to_string(), |row| row_id(row, id_fields));
        tracing::warn!(provider = provider.as_str(), id, detail, "unreadable record skipped");
        unreadable.push((i, id));
    };
    match rows {
        SentRows::Typed { rows, text } => {
            // Split into rows only if a mapping refuses one, and then once.
            let mut sent: Option<Vec<&RawValue>> = None;
            for (i, wire) in (0u32..).zip(rows) {
                match map(wire) {
                    Ok(record) => read.push((i, Arc::new(record))),
                    Err(e) => {
                        let sent = sent.get_or_insert_with(|| serde_json::from_str(text.get()).unwrap_or_default());
                        skip(i, sent.get(i as usize).copied(), e.to_string());
                    }
                }
            }
        }
        SentRows::Raw(rows) => {
            for (i, row) in (0u32..).zip(rows) {
                let record = serde_json::from_str::<W>(row.get())
                    .map_err(|e| e.to_string())
                    .and_then(|wire| map(wire).map_err(|e| e.to_string()));
                match record {
                    Ok(record) => read.push((i, Arc::new(record))),
                    Err(detail) => skip(i, Some(&row), detail),
                }
            }
        }
    }
    Rows { read, unreadable }
}

/// The id of a row that could not be read: the first of `id_fields` it has, or "?".
fn row_id(row: &RawValue, id_fields: &[&str]) -> String {
    let row: serde_json::Value = serde_json::from_str(row.get()).unwrap_or_default();
    id_fields
        .iter()
        .find_map(|k| row.get(*k))
        .map_or_else(|| "?".to_string(), |id| id.to_string().trim_matches('"').to_string())
}

impl<T> Rows<T> {
    /// The readable records, and each unreadable row's place among them (the index the
    /// row would have had in the records).
    pub(crate) fn into_places(self) -> (Vec<Arc<T>>, Vec<(usize, String)>) {
        let places = (0usize..)
            .zip(self.unreadable)
            .map(|(before, (i, id))| (i as usize - before, id))
            .collect();
        (self.read.into_iter().map(|(_, r)| r).collect(), places)
    }
}

/// A by-id loader that can answer from the cache alone. A DataLoader waits a moment to
/// collect a batch; asking `cached` first lets a cache hit skip that wait (and the
/// batching machinery) entirely, so only misses are batched.
pub trait CachedLoader: Loader<String, Value = Lookup<Self::Record>, Error = Infallible> {
    type Record: Send + Sync + 'static;

    /// Whether the provider reads many ids in one upstream call. Only then does waiting
    /// for a batch save upstream calls; a loader without a batch read (one GET per id)
    /// loads a miss at once, in the request's own task, and concurrent misses of one id
    /// still share one upstream call through the cache's single flight.
    const BATCHES: bool = true;

    /// The answer for `key` when it needs no upstream call (cached, or an id that cannot
    /// exist); `None` when it must be loaded.
    fn cached(&self, key: &str) -> impl Future<Output = Option<Lookup<Self::Record>>> + Send;

    /// Loads `key` alone, outside any batch (what a loader that does not batch does with
    /// a miss). A provider with a per-id read overrides it to skip the batch's map and
    /// join (a few microseconds on every cold by-id request).
    fn load_alone(&self, key: &str) -> impl Future<Output = Lookup<Self::Record>> + Send
    where
        Self: Sync,
    {
        async move {
            let key = key.to_owned();
            let Ok(mut answers) = self.load(std::slice::from_ref(&key)).await;
            answers.remove(&key).unwrap_or(Ok(None))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Wire {
        id: String,
        n: i64,
    }

    /// Rows by their place among those sent.
    type Placed = Vec<(u32, String)>;

    fn read(json: &str) -> (Placed, Placed) {
        let rows: SentRows<Wire> = serde_json::from_str(json).unwrap();
        let rows = read_rows(Provider::SignalWire, rows, &["id"], |w: Wire| match w.n {
            n if n < 0 => Err(format!("negative n {n}")),
            _ => Ok(w.id),
        });
        let read = rows.read.into_iter().map(|(i, id)| (i, (*id).clone())).collect();
        (read, rows.unreadable)
    }

    #[test]
    fn rows_that_all_fit_are_read_in_order_with_their_places() {
        let (read, unreadable) = read(r#"[{"id":"a","n":1},{"id":"b","n":2}]"#);
        assert_eq!(read, vec![(0, "a".into()), (1, "b".into())]);
        assert!(unreadable.is_empty());
    }

    #[test]
    fn a_row_that_does_not_fit_its_wire_type_is_skipped_by_id_and_its_neighbours_kept() {
        let (read, unreadable) = read(r#"[{"id":"a","n":1},{"id":"b","n":"two"},{"id":"c","n":3}]"#);
        assert_eq!(read, vec![(0, "a".into()), (2, "c".into())]);
        assert_eq!(unreadable, vec![(1, "b".into())]);
    }

    #[test]
    fn a_row_that_fits_but_does_not_map_is_skipped_by_id() {
        let (read, unreadable) = read(r#"[{"id":"a","n":-1},{"id":"b","n":2}]"#);
        assert_eq!(read, vec![(1, "b".into())]);
        assert_eq!(unreadable, vec![(0, "a".into())]);
    }

    #[test]
    fn rows_that_are_not_a_list_fail_the_page() {
        assert!(serde_json::from_str::<SentRows<Wire>>(r#"{"id":"a"}"#).is_err());
        assert_eq!(SentRows::<Wire>::default().len(), 0);
    }
}
