//! Aggregations of the merged timeline (`callLogStats`, rendered by `graphql::stats`):
//! calls grouped by provider, status, direction and period, with counts, summed durations
//! and cost sums per currency as exact decimals.
//!
//! Pure and provider-neutral: a `Grouping` says which dimensions a bucket's key keeps
//! (the others stay `None`) and how periods are cut; `Stats` takes the timeline's calls one
//! by one, so it holds one bucket per key, never the calls; stats of separate streams
//! `merge`, and serialize for the shared cache. Periods start at the hour,
//! midnight, Monday midnight or the first of the month in an IANA time zone; a local start
//! that a daylight-saving change skips is taken at the first instant that exists after
//! it, and an ambiguous one at its earlier instant.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{CallDirection, CallLogCore, CallStatus, Money, Provider};

/// What calls can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Provider,
    Status,
    Direction,
    Period,
}

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Hour,
    Day,
    /// Starting on Monday (ISO 8601).
    Week,
    Month,
}

/// Why a grouping cannot be made; the message is safe to show to a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    #[error("grouping by PERIOD needs an `interval`")]
    PeriodWithoutInterval,
    #[error("`interval` is only used when grouping by PERIOD")]
    IntervalWithoutPeriod,
    #[error("{0:?} is not an IANA time zone name (e.g. \"Europe/Berlin\")")]
    UnknownTimeZone(String),
}

/// Which dimensions a bucket's key keeps, and how periods are cut.
#[derive(Debug, Clone, Copy)]
pub struct Grouping {
    provider: bool,
    status: bool,
    direction: bool,
    period: Option<(Interval, chrono_tz::Tz)>,
}

impl Grouping {
    /// A grouping by `dimensions`; `interval` must be given exactly when `Period` is, and
    /// `time_zone` (default UTC) must be an IANA name.
    pub fn new(
        dimensions: &[Dimension],
        interval: Option<Interval>,
        time_zone: Option<&str>,
    ) -> Result<Self, StatsError> {
        let zone = match time_zone {
            None => chrono_tz::UTC,
            Some(name) => name
                .parse::<chrono_tz::Tz>()
                .map_err(|_| StatsError::UnknownTimeZone(name.chars().take(64).collect()))?,
        };
        let has = |d: Dimension| dimensions.contains(&d);
        let period = match (has(Dimension::Period), interval) {
            (true, Some(interval)) => Some((interval, zone)),
            (true, None) => return Err(StatsError::PeriodWithoutInterval),
            (false, Some(_)) => return Err(StatsError::IntervalWithoutPeriod),
            (false, None) => None,
        };
        Ok(Grouping {
            provider: has(Dimension::Provider),
            status: has(Dimension::Status),
            direction: has(Dimension::Direction),
            period,
        })
    }

    /// Whether a bucket's key can come from a provider's own count: grouped by nothing
    /// but (at most) the provider.
    pub fn needs_only_provider(&self) -> bool {
        !self.status && !self.direction && self.period.is_none()
    }

    /// A stable text of the grouping (part of cache keys): its dimensions, interval and
    /// time zone.
    pub fn describe(&self) -> String {
        let flag = |on: bool, c: char| if on { c } else { '-' };
        let period = match self.period {
            Some((interval, zone)) => format!("{interval:?}@{}", zone.name()),
            None => "-".into(),
        };
        format!(
            "{}{}{}:{period}",
            flag(self.provider, 'p'),
            flag(self.status, 's'),
            flag(self.direction, 'd')
        )
    }

    /// The key of `call`'s bucket.
    pub fn key(&self, call: &CallLogCore) -> Key {
        Key {
            period_start: self
                .period
                .map(|(interval, zone)| period_start(call.created_at, interval, zone)),
            provider: self.provider.then_some(call.provider),
            status: self.status.then_some(call.status),
            direction: self.direction.then_some(call.direction),
        }
    }
}

/// A bucket's key: the grouped dimensions' values, `None` for the others. Ordered by
/// period, then provider, status and direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub period_start: Option<DateTime<Utc>>,
    pub provider: Option<Provider>,
    pub status: Option<CallStatus>,
    pub direction: Option<CallDirection>,
}

/// What a bucket (or the total) sums.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    /// Summed over the calls that have a duration.
    pub duration_seconds: i64,
    /// Summed per currency code, exactly.
    pub cost: BTreeMap<&'static str, Decimal>,
}

impl Tally {
    fn add(&mut self, call: &CallLogCore) {
        self.count += 1;
        self.duration_seconds = self.duration_seconds.saturating_add(call.duration_seconds.unwrap_or(0));
        if let Some(cost) = &call.cost {
            self.add_cost(cost.currency, cost.amount);
        }
    }

    fn add_cost(&mut self, currency: &'static str, amount: Decimal) {
        let sum = self.cost.entry(currency).or_default();
        *sum = sum.checked_add(amount).unwrap_or(*sum);
    }

    fn merge(&mut self, other: &Tally) {
        self.count += other.count;
        self.duration_seconds = self.duration_seconds.saturating_add(other.duration_seconds);
        for (currency, amount) in &other.cost {
            self.add_cost(currency, *amount);
        }
    }
}

/// As the shared cache stores it: count, seconds, then the sums as `Money` (whose
/// currency reads back through `domain::currency`).
impl Serialize for Tally {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cost: Vec<Money> = self.cost.iter().map(|(c, a)| Money::new(*a, c)).collect();
        (self.count, self.duration_seconds, cost).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Tally {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (count, duration_seconds, cost) = <(u64, i64, Vec<Money>)>::deserialize(d)?;
        Ok(Tally {
            count,
            duration_seconds,
            cost: cost.into_iter().map(|m| (m.currency, m.amount)).collect(),
        })
    }
}

/// Buckets and totals of the calls added so far (one bucket per key, never the calls),
/// and how many of those calls could still change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    #[serde(with = "bucket_list")]
    buckets: BTreeMap<Key, Tally>,
    totals: Tally,
    /// Calls not in a final status (`CallStatus::is_final`).
    unfinished: u64,
}

impl Stats {
    /// Counts `call` in its bucket under `grouping` and in the totals.
    pub fn add(&mut self, grouping: &Grouping, call: &CallLogCore) {
        self.buckets.entry(grouping.key(call)).or_default().add(call);
        self.totals.add(call);
        if !call.is_final() {
            self.unfinished += 1;
        }
    }

    /// Adds `count` calls of which nothing but the key's provider is known (a provider's
    /// own count), under a grouping by nothing or by provider.
    pub fn add_count(&mut self, grouping: &Grouping, provider: Provider, count: u64) {
        if count == 0 {
            return;
        }
        let key = Key {
            provider: grouping.provider.then_some(provider),
            ..Key::default()
        };
        self.buckets.entry(key).or_default().count += count;
        self.totals.count += count;
        // What a count holds may still change.
        self.unfinished += count;
    }

    /// Adds everything `other` counted (another stream's stats under the same grouping).
    pub fn merge(&mut self, other: &Stats) {
        for (key, tally) in &other.buckets {
            self.buckets.entry(*key).or_default().merge(tally);
        }
        self.totals.merge(&other.totals);
        self.unfinished += other.unfinished;
    }

    /// The buckets in key order.
    pub fn buckets(&self) -> impl Iterator<Item = (&Key, &Tally)> {
        self.buckets.iter()
    }

    pub fn totals(&self) -> &Tally {
        &self.totals
    }

    /// Whether every call counted is in a final status (none of them can change).
    pub fn is_final(&self) -> bool {
        self.unfinished == 0
    }

    /// Buckets held (for the cache's weight).
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

/// The buckets as a list of pairs (formats such as JSON take only text as map keys).
mod bucket_list {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Key, Tally};

    pub(super) fn serialize<S: Serializer>(buckets: &BTreeMap<Key, Tally>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(buckets.iter())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Key, Tally>, D::Error> {
        let pairs = Vec::<(Key, Tally)>::deserialize(d)?;
        Ok(pairs.into_iter().collect())
    }
}

/// The start of the period of `interval` in `zone` that holds `at`.
pub fn period_start(at: DateTime<Utc>, interval: Interval, zone: chrono_tz::Tz) -> DateTime<Utc> {
    let local = at.with_timezone(&zone).naive_local();
    let date = local.date();
    let start: NaiveDateTime = match interval {
        Interval::Hour => date.and_hms_opt(local.hour(), 0, 0).unwrap_or(local),
        Interval::Day => date.and_hms_opt(0, 0, 0).unwrap_or(local),
        Interval::Week => {
            let monday = date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
            monday.and_hms_opt(0, 0, 0).unwrap_or(local)
        }
        Interval::Month => NaiveDate::from_ymd_opt(date.year(), date.month(), 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or(local),
    };
    first_instant(zone, start).min(at)
}

/// The first instant at or after local time `start` in `zone` (a daylight-saving gap moves
/// it forward; an ambiguous time is its earlier instant).
fn first_instant(zone: chrono_tz::Tz, start: NaiveDateTime) -> DateTime<Utc> {
    let mut local = start;
    // Gaps are at most a few hours; step by minutes past them.
    for _ in 0..(24 * 60) {
        if let Some(instant) = zone.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
        local += Duration::minutes(1);
    }
    Utc.from_utc_datetime(&start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 instant")
    }

    fn call(
        provider: Provider,
        status: CallStatus,
        created: &str,
        seconds: i64,
        cost: Option<(&str, &str)>,
    ) -> CallLogCore {
        CallLogCore {
            provider,
            native_id: created.into(),
            from: None,
            to: None,
            direction: CallDirection::Outbound,
            status,
            provider_status: None,
            created_at: at(created),
            started_at: None,
            ended_at: None,
            duration_seconds: Some(seconds),
            cost: cost.map(|(amount, currency)| Money {
                amount: amount.parse().unwrap(),
                currency: crate::domain::currency(currency).unwrap(),
            }),
        }
    }

    #[test]
    fn periods_start_at_local_midnight_monday_and_the_first_of_the_month() {
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        // 2026-03-10 03:30 UTC is still March 9th in New York (EDT, UTC-4).
        let t = at("2026-03-10T03:30:00Z");
        assert_eq!(period_start(t, Interval::Day, ny), at("2026-03-09T04:00:00Z"));
        assert_eq!(period_start(t, Interval::Hour, ny), at("2026-03-10T03:00:00Z"));
        // Monday March 9th; the Sunday before it changed to daylight time.
        assert_eq!(period_start(t, Interval::Week, ny), at("2026-03-09T04:00:00Z"));
        // March 1st was still on standard time (UTC-5).
        assert_eq!(period_start(t, Interval::Month, ny), at("2026-03-01T05:00:00Z"));
        assert_eq!(
            period_start(t, Interval::Day, chrono_tz::UTC),
            at("2026-03-10T00:00:00Z")
        );
    }

    #[test]
    fn a_midnight_that_daylight_saving_skips_starts_the_day_at_its_first_instant() {
        // Santiago de Chile moved its clocks from 00:00 to 01:00 on 2026-09-06.
        let santiago: chrono_tz::Tz = "America/Santiago".parse().unwrap();
        let t = at("2026-09-06T12:00:00Z");
        assert_eq!(period_start(t, Interval::Day, santiago), at("2026-09-06T04:00:00Z"));
    }

    #[test]
    fn buckets_keep_only_the_grouped_dimensions_and_sum_costs_per_currency_exactly() {
        let grouping = Grouping::new(
            &[Dimension::Provider, Dimension::Period],
            Some(Interval::Day),
            Some("UTC"),
        )
        .unwrap();
        let mut stats = Stats::default();
        for c in [
            call(
                Provider::SignalWire,
                CallStatus::Completed,
                "2026-12-01T10:00:00Z",
                60,
                Some(("0.1", "USD")),
            ),
            call(
                Provider::SignalWire,
                CallStatus::NoAnswer,
                "2026-12-01T11:00:00Z",
                0,
                Some(("0.2", "USD")),
            ),
            call(
                Provider::Voximplant,
                CallStatus::Completed,
                "2026-12-01T12:00:00Z",
                30,
                Some(("0.3333", "EUR")),
            ),
            call(
                Provider::SignalWire,
                CallStatus::Completed,
                "2026-12-02T00:00:00Z",
                5,
                None,
            ),
        ] {
            stats.add(&grouping, &c);
        }
        let buckets: Vec<_> = stats.buckets().collect();
        assert_eq!(buckets.len(), 3);
        let (key, tally) = buckets[0];
        assert_eq!(key.period_start, Some(at("2026-12-01T00:00:00Z")));
        assert_eq!(key.provider, Some(Provider::SignalWire));
        assert_eq!((key.status, key.direction), (None, None), "not grouped: null");
        assert_eq!(tally.count, 2);
        assert_eq!(tally.duration_seconds, 60);
        assert_eq!(tally.cost["USD"].to_string(), "0.3", "0.1 + 0.2 exactly");
        let totals = stats.totals();
        assert_eq!(totals.count, 4);
        assert_eq!(totals.cost["EUR"].to_string(), "0.3333");
        assert_eq!(buckets[2].0.period_start, Some(at("2026-12-02T00:00:00Z")));
    }

    #[test]
    fn merged_stats_equal_stats_of_every_call_and_survive_the_shared_cache_format() {
        let grouping = Grouping::new(&[Dimension::Status], None, None).unwrap();
        let calls = [
            call(
                Provider::SignalWire,
                CallStatus::Completed,
                "2026-12-01T10:00:00Z",
                60,
                Some(("0.1", "USD")),
            ),
            call(
                Provider::OneUptime,
                CallStatus::Completed,
                "2026-12-01T11:00:00Z",
                7,
                Some(("0.2", "USD")),
            ),
            call(
                Provider::Voximplant,
                CallStatus::InProgress,
                "2026-12-01T12:00:00Z",
                0,
                None,
            ),
        ];
        let mut whole = Stats::default();
        let (mut a, mut b) = (Stats::default(), Stats::default());
        for (i, c) in calls.iter().enumerate() {
            whole.add(&grouping, c);
            if i == 0 {
                a.add(&grouping, c)
            } else {
                b.add(&grouping, c)
            }
        }
        assert!(a.is_final() && !b.is_final(), "IN_PROGRESS can still change");
        a.merge(&b);
        assert_eq!(a, whole);
        let text = serde_json::to_string(&whole).unwrap();
        let back: Stats = serde_json::from_str(&text).unwrap();
        assert_eq!(back, whole, "{text}");
        assert_eq!(back.totals().cost["USD"].to_string(), "0.3");
    }

    #[test]
    fn a_providers_own_count_fills_the_provider_bucket() {
        let grouping = Grouping::new(&[Dimension::Provider], None, None).unwrap();
        let mut stats = Stats::default();
        stats.add_count(&grouping, Provider::OneUptime, 41);
        stats.add(
            &grouping,
            &call(
                Provider::OneUptime,
                CallStatus::Completed,
                "2026-12-01T10:00:00Z",
                1,
                None,
            ),
        );
        let (key, tally) = stats.buckets().next().unwrap();
        assert_eq!((key.provider, tally.count), (Some(Provider::OneUptime), 42));
        assert!(grouping.needs_only_provider());
        assert!(
            !Grouping::new(&[Dimension::Direction], None, None)
                .unwrap()
                .needs_only_provider()
        );
    }

    #[test]
    fn a_period_needs_an_interval_and_a_zone_must_be_an_iana_name() {
        assert_eq!(
            Grouping::new(&[Dimension::Period], None, None).unwrap_err(),
            StatsError::PeriodWithoutInterval
        );
        assert_eq!(
            Grouping::new(&[Dimension::Status], Some(Interval::Day), None).unwrap_err(),
            StatsError::IntervalWithoutPeriod
        );
        assert!(matches!(
            Grouping::new(&[Dimension::Period], Some(Interval::Day), Some("Mars/Olympus")),
            Err(StatsError::UnknownTimeZone(_))
        ));
    }
}
