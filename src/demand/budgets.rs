//! The budgets a request is charged to: its tenant's and its user's, admitted together
//! (a request is refused when either lacks its estimate, and then neither is charged).
//!
//! A request reserves its estimate before it runs and settles the difference to what it
//! really cost after (refunding an over-estimate, charging an under-estimate without
//! refusing: the request already ran). Each budget is kept in this process, or in Redis
//! when `[cache.redis]` is set (`shared`); while Redis does not answer, each replica keeps
//! `1 / replicas` of each budget locally.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::config::LimitsConfig;
use super::cost::Cost;
use super::gcra::{self, Level, Rate};
use super::shared::Shared;

/// Who pays for a request.
#[derive(Debug, Clone, Copy)]
pub struct Payer<'a> {
    pub tenant: &'a str,
    /// A JWT's `sub`, or the tenant's API key; `None` for a caller known by neither.
    pub user: Option<User<'a>>,
}

/// Who a user budget is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User<'a> {
    /// A token's `sub`.
    Subject(&'a str),
    /// Callers with the tenant's API key (one user: whoever holds it).
    ApiKey,
}

/// Where the tighter of a request's budgets stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub limit: u64,
    pub remaining: u64,
    /// When it is full again, in microseconds since the Unix epoch.
    pub full_at_us: u64,
    /// When this was computed, in microseconds since the Unix epoch.
    pub now_us: u64,
}

impl Standing {
    /// Whole seconds until the budget is full again (rounded up): `RateLimit-Reset`.
    pub fn reset_in_secs(&self) -> u64 {
        self.full_at_us.saturating_sub(self.now_us).div_ceil(1_000_000)
    }

    /// When the budget is full again, as a time.
    pub fn reset_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.full_at_us.max(self.now_us))
    }
}

/// An admitted request's reservation.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    pub reserved: Cost,
    /// The budget after the reservation.
    pub standing: Standing,
}

/// Whether a request may run.
#[derive(Debug, Clone, Copy)]
pub enum Admission {
    Admitted(Ticket),
    /// Its estimate is more than is left: retry after this many seconds (rounded up).
    Refused {
        retry_after_secs: u64,
        standing: Standing,
    },
}

/// Every tenant's and user's budget.
pub struct Budgets {
    tenant: Option<Rate>,
    user: Option<Rate>,
    /// Arrival times by budget key, when Redis is not set or not answering.
    local: Mutex<HashMap<Box<str>, u64>>,
    shared: Option<Arc<Shared>>,
}

/// Local budgets kept before idle ones (full again) are dropped.
const LOCAL_PRUNE_AT: usize = 100_000;

impl Budgets {
    /// The budgets `[limits]` sets; `None` when it sets none.
    pub fn new(config: &LimitsConfig) -> Option<Budgets> {
        let rate = |limit: u64| (limit > 0).then_some(Rate { limit });
        config.enabled().then(|| Budgets {
            tenant: rate(config.tenant_cost_per_minute),
            user: rate(config.user_cost_per_minute),
            local: Mutex::new(HashMap::new()),
            shared: None,
        })
    }

    /// These budgets kept in the Redis at `url` (keys under `prefix`), shared by every
    /// replica using it; starts the replica's heartbeat.
    pub fn shared(mut self, url: &str, prefix: &str, timeout: Duration) -> Result<Budgets, String> {
        let shared = Arc::new(Shared::connect(url, prefix, timeout)?);
        let beating = Arc::downgrade(&shared);
        tokio::spawn(async move {
            // Ends when the budgets are dropped.
            let mut ticks = tokio::time::interval(super::shared::BEAT);
            loop {
                ticks.tick().await;
                let Some(shared) = beating.upgrade() else { return };
                shared.beat_once().await;
            }
        });
        self.shared = Some(shared);
        Ok(self)
    }

    /// The budgets `payer` is charged to, with their keys.
    fn keys(&self, payer: &Payer<'_>) -> Vec<(String, Rate)> {
        let mut keys = Vec::with_capacity(2);
        if let Some(rate) = self.tenant {
            keys.push((format!("t:{}", payer.tenant), rate));
        }
        match (self.user, payer.user) {
            (Some(rate), Some(User::Subject(sub))) => keys.push((format!("u:{}:s:{sub}", payer.tenant), rate)),
            (Some(rate), Some(User::ApiKey)) => keys.push((format!("u:{}:k", payer.tenant), rate)),
            _ => {}
        }
        keys
    }

    /// Reserves `estimate` from `payer`'s budgets, or says when it would fit.
    pub async fn admit(&self, payer: Payer<'_>, estimate: Cost) -> Admission {
        let keys = self.keys(&payer);
        let (now, wait, tats, rates) = self.charge(&keys, estimate.0 as i64, true).await;
        let standing = tighter(&rates, &tats, now);
        if wait > 0 {
            return Admission::Refused {
                retry_after_secs: wait.div_ceil(1_000_000).max(1),
                standing,
            };
        }
        Admission::Admitted(Ticket {
            reserved: estimate,
            standing,
        })
    }

    /// Charges the difference between what a request cost and what it reserved.
    pub async fn settle(&self, payer: Payer<'_>, ticket: &Ticket, actual: Cost) -> Standing {
        let delta = actual.0 as i64 - ticket.reserved.0 as i64;
        if delta == 0 {
            return ticket.standing;
        }
        let keys = self.keys(&payer);
        let (now, _, tats, rates) = self.charge(&keys, delta, false).await;
        tighter(&rates, &tats, now)
    }

    /// One charge, in Redis when it answers, else here (with this replica's share).
    async fn charge(&self, keys: &[(String, Rate)], cost: i64, reserve: bool) -> (u64, u64, Vec<u64>, Vec<Rate>) {
        if let Some(shared) = &self.shared {
            let remote: Vec<(String, Rate)> = keys.iter().map(|(k, r)| (shared.key(k), *r)).collect();
            if let Some(reply) = shared.charge(&remote, cost, reserve).await {
                let rates = keys.iter().map(|(_, r)| *r).collect();
                return (reply.now, reply.wait, reply.tats, rates);
            }
            let replicas = shared.replicas();
            let shares: Vec<(String, Rate)> = keys.iter().map(|(k, r)| (k.clone(), r.share(replicas))).collect();
            return self.charge_here(&shares, cost, reserve);
        }
        self.charge_here(keys, cost, reserve)
    }

    fn charge_here(&self, keys: &[(String, Rate)], cost: i64, reserve: bool) -> (u64, u64, Vec<u64>, Vec<Rate>) {
        let now = now_us();
        let rates: Vec<Rate> = keys.iter().map(|(_, r)| *r).collect();
        let mut local = self.local.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current: Vec<u64> = keys
            .iter()
            .map(|(k, _)| local.get(k.as_str()).copied().unwrap_or(0))
            .collect();
        let next: Result<Vec<u64>, u64> = if reserve {
            let outcomes: Vec<Result<u64, u64>> = keys
                .iter()
                .zip(&current)
                .map(|((_, rate), tat)| gcra::reserve(*rate, *tat, now, cost.max(0) as u64))
                .collect();
            match outcomes.iter().filter_map(|o| o.err()).max() {
                Some(wait) => Err(wait),
                None => Ok(outcomes.into_iter().flatten().collect()),
            }
        } else {
            Ok(keys
                .iter()
                .zip(&current)
                .map(|((_, rate), tat)| gcra::settle(*rate, *tat, now, cost))
                .collect())
        };
        match next {
            Err(wait) => (now, wait, current.iter().map(|t| (*t).max(now)).collect(), rates),
            Ok(tats) => {
                if local.len() >= LOCAL_PRUNE_AT {
                    local.retain(|_, tat| *tat > now);
                }
                for ((key, _), tat) in keys.iter().zip(&tats) {
                    match local.get_mut(key.as_str()) {
                        Some(slot) => *slot = *tat,
                        None => {
                            local.insert(key.as_str().into(), *tat);
                        }
                    }
                }
                (now, 0, tats, rates)
            }
        }
    }
}

/// The standing of the budget with the least left (the one that refuses first).
fn tighter(rates: &[Rate], tats: &[u64], now: u64) -> Standing {
    rates
        .iter()
        .zip(tats)
        .map(|(rate, tat)| (Level::at(*rate, *tat, now), *tat))
        .min_by_key(|(level, _)| level.remaining)
        .map(|(level, tat)| Standing {
            limit: level.limit,
            remaining: level.remaining,
            full_at_us: tat.max(now),
            now_us: now,
        })
        .unwrap_or(Standing {
            limit: 0,
            remaining: 0,
            full_at_us: now,
            now_us: now,
        })
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets(tenant: u64, user: u64) -> Budgets {
        Budgets::new(&LimitsConfig {
            tenant_cost_per_minute: tenant,
            user_cost_per_minute: user,
        })
        .expect("a budget is set")
    }

    #[tokio::test]
    async fn a_user_who_spent_their_budget_is_refused_while_another_user_of_the_tenant_is_not() {
        let budgets = budgets(1_000, 100);
        let alice = Payer {
            tenant: "acme",
            user: Some(User::Subject("alice")),
        };
        let bob = Payer {
            tenant: "acme",
            user: Some(User::Subject("bob")),
        };
        let Admission::Admitted(ticket) = budgets.admit(alice, Cost(100)).await else {
            panic!("the first request fits")
        };
        assert_eq!(ticket.standing.remaining, 0, "alice's budget is the tighter");
        let Admission::Refused {
            retry_after_secs,
            standing,
        } = budgets.admit(alice, Cost(10)).await
        else {
            panic!("alice has nothing left")
        };
        assert!((6..=7).contains(&retry_after_secs), "{retry_after_secs}");
        assert_eq!(standing.remaining, 0);
        let Admission::Admitted(ticket) = budgets.admit(bob, Cost(10)).await else {
            panic!("bob is not alice")
        };
        assert_eq!(ticket.standing.remaining, 90);
    }

    #[tokio::test]
    async fn the_tenant_budget_binds_every_user_and_a_refusal_charges_nothing() {
        let budgets = budgets(100, 0);
        let payer = |user| Payer {
            tenant: "acme",
            user: Some(User::Subject(user)),
        };
        assert!(matches!(
            budgets.admit(payer("a"), Cost(60)).await,
            Admission::Admitted(_)
        ));
        assert!(matches!(
            budgets.admit(payer("b"), Cost(60)).await,
            Admission::Refused { .. }
        ));
        let Admission::Admitted(ticket) = budgets.admit(payer("b"), Cost(40)).await else {
            panic!("the refusal charged nothing")
        };
        assert_eq!(ticket.standing.remaining, 0);
        let other = Payer {
            tenant: "globex",
            user: Some(User::Subject("a")),
        };
        assert!(matches!(budgets.admit(other, Cost(100)).await, Admission::Admitted(_)));
    }

    #[tokio::test]
    async fn settling_refunds_an_over_estimate() {
        let budgets = budgets(1_000, 0);
        let payer = Payer {
            tenant: "acme",
            user: None,
        };
        let Admission::Admitted(ticket) = budgets.admit(payer, Cost(500)).await else {
            panic!("fits")
        };
        assert_eq!(ticket.standing.remaining, 500);
        let after = budgets.settle(payer, &ticket, Cost(1)).await;
        assert_eq!(after.remaining, 999);
        assert!(after.reset_in_secs() >= 1);
    }
}
