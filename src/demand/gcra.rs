//! GCRA, the generic cell rate algorithm, as a budget that refills continuously: a budget
//! of `limit` per minute is one unit every `interval = 60 s / limit`, with a burst of the
//! whole `limit`. Its only state is the theoretical arrival time `tat` (an instant in
//! microseconds since the Unix epoch): the budget is full when `tat <= now`, and
//! `(tat - now) / interval` units of it are spent.
//!
//! Pure arithmetic, shared by the in-process store and (line for line) the Redis script
//! in `shared`, so both admit exactly the same requests.

/// One budget's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Units per minute (at least 1).
    pub limit: u64,
}

/// A minute in microseconds: a budget refills wholly in this time.
pub const PERIOD_US: u64 = 60_000_000;

impl Rate {
    /// The time one unit takes to refill, in microseconds.
    pub fn interval_us(self) -> u64 {
        (PERIOD_US / self.limit.max(1)).max(1)
    }

    /// How far `tat` may run ahead of now: the whole budget.
    pub fn burst_us(self) -> u64 {
        self.interval_us().saturating_mul(self.limit.max(1))
    }

    /// This rate divided among `replicas` (each keeps its share while they cannot share
    /// one budget); never below 1.
    pub fn share(self, replicas: u64) -> Rate {
        Rate {
            limit: (self.limit / replicas.max(1)).max(1),
        }
    }
}

/// Where a budget stands after a charge (or a refusal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub limit: u64,
    /// Units left now.
    pub remaining: u64,
    /// Microseconds until the budget is full again.
    pub full_in_us: u64,
}

impl Level {
    /// The level of a budget whose arrival time is `tat`.
    pub fn at(rate: Rate, tat: u64, now: u64) -> Level {
        let ahead = tat.saturating_sub(now);
        Level {
            limit: rate.limit,
            remaining: rate.burst_us().saturating_sub(ahead) / rate.interval_us(),
            full_in_us: ahead,
        }
    }
}

/// Takes `cost` units if they are all there: the new `tat`, or how long (microseconds)
/// until they would be.
pub fn reserve(rate: Rate, tat: u64, now: u64, cost: u64) -> Result<u64, u64> {
    let base = tat.max(now);
    let after = base.saturating_add(cost.saturating_mul(rate.interval_us()));
    let ahead = after - now;
    if ahead > rate.burst_us() {
        return Err(ahead - rate.burst_us());
    }
    Ok(after)
}

/// Charges `delta` more units (or refunds them when negative) without refusing: the
/// settlement of an estimate against what a request really cost.
pub fn settle(rate: Rate, tat: u64, now: u64, delta: i64) -> u64 {
    let base = tat.max(now);
    let step = delta.unsigned_abs().saturating_mul(rate.interval_us());
    if delta >= 0 {
        base.saturating_add(step)
    } else {
        base.saturating_sub(step).max(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000_000;

    #[test]
    fn a_full_budget_admits_its_limit_at_once_then_refills_one_unit_per_interval() {
        let rate = Rate { limit: 600 };
        assert_eq!(rate.interval_us(), 100_000);
        let mut tat = 0;
        for _ in 0..600 {
            tat = reserve(rate, tat, NOW, 1).expect("within the burst");
        }
        assert_eq!(Level::at(rate, tat, NOW).remaining, 0);
        assert_eq!(reserve(rate, tat, NOW, 1), Err(100_000), "one interval to wait");
        let later = NOW + 250_000;
        assert_eq!(Level::at(rate, tat, later).remaining, 2);
        assert_eq!(Level::at(rate, tat, later).full_in_us, 60_000_000 - 250_000);
    }

    #[test]
    fn a_cost_larger_than_what_is_left_is_refused_whole_and_changes_nothing() {
        let rate = Rate { limit: 100 };
        let tat = reserve(rate, 0, NOW, 90).unwrap();
        let wait = reserve(rate, tat, NOW, 20).unwrap_err();
        assert_eq!(wait, 10 * rate.interval_us());
        assert_eq!(Level::at(rate, tat, NOW).remaining, 10);
        assert!(reserve(rate, tat, NOW, 10).is_ok());
    }

    #[test]
    fn settling_refunds_down_to_a_full_budget_and_charges_past_the_burst() {
        let rate = Rate { limit: 100 };
        let tat = reserve(rate, 0, NOW, 50).unwrap();
        assert_eq!(Level::at(rate, settle(rate, tat, NOW, -45), NOW).remaining, 95);
        assert_eq!(settle(rate, tat, NOW, -500), NOW, "never more than full");
        let over = settle(rate, tat, NOW, 80);
        assert_eq!(Level::at(rate, over, NOW).remaining, 0);
        assert_eq!(reserve(rate, over, NOW, 1), Err(31 * rate.interval_us()));
    }

    #[test]
    fn a_share_divides_the_limit_and_never_reaches_zero() {
        assert_eq!(Rate { limit: 60_000 }.share(2), Rate { limit: 30_000 });
        assert_eq!(Rate { limit: 1 }.share(3), Rate { limit: 1 });
    }
}
