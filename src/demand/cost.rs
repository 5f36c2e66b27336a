//! What a request costs, in one unit for estimates, charges and budgets.
//!
//! The unit is a tenth of an upstream call: an upstream call (retries included) costs
//! `PER_CALL`, and a request that reads data but needs no upstream call (answered from
//! the cache) costs `FLOOR`, so cached answers cost little but not nothing. A request that
//! selects only free fields (`rateLimit`, `__typename`) costs 0 and is never refused.

/// The cost of one upstream call.
pub const PER_CALL: u64 = 10;
/// The least a request that reads data costs.
pub const FLOOR: u64 = 1;

/// A cost in budget units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cost(pub u64);

impl Cost {
    /// The cost of a request that made (or may make) `calls` upstream calls; `reads` says
    /// whether it reads any data at all.
    pub fn of_calls(calls: u64, reads: bool) -> Cost {
        match (calls, reads) {
            (0, false) => Cost(0),
            (0, true) => Cost(FLOOR),
            (n, _) => Cost(n.saturating_mul(PER_CALL)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_costs_ten_a_cached_read_one_and_a_free_field_nothing() {
        assert_eq!(Cost::of_calls(3, true), Cost(30));
        assert_eq!(Cost::of_calls(0, true), Cost(1));
        assert_eq!(Cost::of_calls(0, false), Cost(0));
    }
}
