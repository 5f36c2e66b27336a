//! The budgets a request is charged to: its tenant's and its user's, admitted together
//! (a request is refused when either lacks its estimate, and then neither is charged).
//!
//! A request reserves its estimate before it runs and settles the difference to what it
//! really cost after (refunding an over-estimate, charging an under-estimate without
//! refusing: the request already ran). Each budget is kept in this process, or in Redis
//! when `[cache.redis]` is set (`shared`); while Redis does not answer, each replica keeps
//! `1 / replicas` of each budget locally.

use rustc_hash::FxHashMap;
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
    local: Mutex<Local>,
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
            local: Mutex::new(Local::default()),
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

    /// The budgets `payer` is charged to, as `[tenant, user]` (either may be absent).
    fn budgets(&self, payer: &Payer<'_>) -> [Option<Rate>; 2] {
        [self.tenant, self.user.filter(|_| payer.user.is_some())]
    }

    /// Reserves `estimate` from `payer`'s budgets, or says when it would fit.
    pub async fn admit(&self, payer: Payer<'_>, estimate: Cost) -> Admission {
        let charged = self.charge(&payer, estimate.0 as i64, true).await;
        let standing = charged.standing();
        if charged.wait > 0 {
            return Admission::Refused {
                retry_after_secs: charged.wait.div_ceil(1_000_000).max(1),
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
        self.charge(&payer, delta, false).await.standing()
    }

    /// One charge, in Redis when it answers, else here (with this replica's share).
    async fn charge(&self, payer: &Payer<'_>, cost: i64, reserve: bool) -> Charged {
        let rates = self.budgets(payer);
        let Some(shared) = &self.shared else {
            return self.charge_here(payer, rates, cost, reserve);
        };
        let keys: Vec<(String, Rate)> = rates
            .iter()
            .zip([payer_key(payer, true), payer_key(payer, false)])
            .filter_map(|(rate, key)| Some((shared.key(&key), (*rate)?)))
            .collect();
        if let Some(reply) = shared.charge(&keys, cost, reserve).await {
            let mut tats = reply.tats.into_iter();
            return Charged {
                now: reply.now,
                wait: reply.wait,
                levels: rates.map(|rate| Some((rate?, tats.next()?))),
            };
        }
        let replicas = shared.replicas();
        self.charge_here(payer, rates.map(|r| r.map(|r| r.share(replicas))), cost, reserve)
    }

    /// A charge of the budgets kept in this process.
    fn charge_here(&self, payer: &Payer<'_>, rates: [Option<Rate>; 2], cost: i64, reserve: bool) -> Charged {
        let now = now_us();
        let mut local = self.local.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if local.len >= local.prune_at {
            local.prune(now);
        }
        let [tenant, user] = local.slots(payer, rates);
        let mut slots = [tenant, user];
        let outcome: [Option<(Rate, Result<u64, u64>)>; 2] = std::array::from_fn(|i| {
            let rate = rates[i]?;
            let tat = slots[i].as_deref().copied().unwrap_or(0);
            Some((
                rate,
                match reserve {
                    true => gcra::reserve(rate, tat, now, cost.max(0) as u64),
                    false => Ok(gcra::settle(rate, tat, now, cost)),
                },
            ))
        });
        let wait = outcome.iter().flatten().filter_map(|(_, o)| o.err()).max().unwrap_or(0);
        let levels = std::array::from_fn(|i| {
            let (rate, result) = outcome[i]?;
            let current = slots[i].as_deref().copied().unwrap_or(0).max(now);
            let tat = match (wait, result) {
                (0, Ok(tat)) => {
                    if let Some(slot) = slots[i].as_deref_mut() {
                        *slot = tat;
                    }
                    tat
                }
                _ => current,
            };
            Some((rate, tat))
        });
        Charged { now, wait, levels }
    }
}

/// A budget's key in Redis: the tenant's (`tenant` true) or its user's.
fn payer_key(payer: &Payer<'_>, tenant: bool) -> String {
    match (tenant, payer.user) {
        (true, _) | (false, None) => format!("t:{}", payer.tenant),
        (false, Some(User::Subject(sub))) => format!("u:{}:s:{sub}", payer.tenant),
        (false, Some(User::ApiKey)) => format!("u:{}:k", payer.tenant),
    }
}

/// What a charge found: the clock, the wait (0: charged), and each budget's rate and
/// arrival time after it.
struct Charged {
    now: u64,
    wait: u64,
    levels: [Option<(Rate, u64)>; 2],
}

impl Charged {
    /// The standing of the budget with the least left (the one that refuses first).
    fn standing(&self) -> Standing {
        let now = self.now;
        self.levels
            .iter()
            .flatten()
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
}

/// Arrival times of the budgets kept here: a tenant's by its name, a user's by tenant
/// and user, looked up by `&str` (no allocation but a budget's first).
struct Local {
    tenants: FxHashMap<Box<str>, u64>,
    users: FxHashMap<Box<str>, Users>,
    len: usize,
    /// `len` at which idle budgets are dropped next: twice what a pruning kept (at least
    /// `LOCAL_PRUNE_AT`), so many active budgets are not scanned on every charge.
    prune_at: usize,
}

impl Default for Local {
    fn default() -> Self {
        Local {
            tenants: FxHashMap::default(),
            users: FxHashMap::default(),
            len: 0,
            prune_at: LOCAL_PRUNE_AT,
        }
    }
}

/// One tenant's user budgets.
#[derive(Default)]
struct Users {
    api_key: Option<u64>,
    subjects: FxHashMap<Box<str>, u64>,
}

impl Local {
    /// Drops the budgets that are full again (the same as absent).
    fn prune(&mut self, now: u64) {
        self.tenants.retain(|_, tat| *tat > now);
        for users in self.users.values_mut() {
            users.subjects.retain(|_, tat| *tat > now);
            users.api_key = users.api_key.filter(|tat| *tat > now);
        }
        self.users.retain(|_, u| u.api_key.is_some() || !u.subjects.is_empty());
        self.len = self.tenants.len() + self.users.values().map(|u| u.subjects.len() + 1).sum::<usize>();
        self.prune_at = (self.len * 2).max(LOCAL_PRUNE_AT);
    }

    /// The arrival-time slots of `payer`'s budgets that `rates` sets, created when absent.
    fn slots<'a>(&'a mut self, payer: &Payer<'_>, rates: [Option<Rate>; 2]) -> [Option<&'a mut u64>; 2] {
        let tenant = match rates[0] {
            None => None,
            Some(_) => {
                if !self.tenants.contains_key(payer.tenant) {
                    self.tenants.insert(payer.tenant.into(), 0);
                    self.len += 1;
                }
                self.tenants.get_mut(payer.tenant)
            }
        };
        let user = match (rates[1], payer.user) {
            (Some(_), Some(user)) => {
                if !self.users.contains_key(payer.tenant) {
                    self.users.insert(payer.tenant.into(), Users::default());
                }
                let users = self.users.get_mut(payer.tenant).expect("just inserted");
                match user {
                    User::ApiKey => Some(users.api_key.get_or_insert(0)),
                    User::Subject(sub) => {
                        if !users.subjects.contains_key(sub) {
                            users.subjects.insert(sub.into(), 0);
                            self.len += 1;
                        }
                        users.subjects.get_mut(sub)
                    }
                }
            }
            _ => None,
        };
        [tenant, user]
    }
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
