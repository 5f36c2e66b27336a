//! A circuit breaker per provider and tenant: after `failures` consecutive failed
//! attempts (the provider unreachable, 5xx, timeouts) it opens, and calls fail fast with
//! `UPSTREAM_UNAVAILABLE` without reaching the provider for `cool_down`; then one probe
//! goes through (half-open): its success closes the breaker, its failure opens it again.
//!
//! So a dead provider costs neither latency nor upstream quota, and `callLogs` answers
//! with the other providers at once. Answers that show the provider alive (2xx, 4xx, 429,
//! a refused credential) count as successes here.
//!
//! Failures count only against the state they were sent in (a generation that every
//! opening and closing advances): under load, the attempts sent during a fault fail after
//! the probe already closed the circuit, and must not open it again, so the circuit
//! closes with the first success after the fault and stays closed.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::domain::{Provider, TenantId};

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    /// Failing fast until the instant; then one probe is let through.
    Open,
    /// One probe is out; everything else fails fast until it answers.
    HalfOpen,
}

impl BreakerState {
    /// The value of the `circuit` gauge for this state: 0 closed, 1 half-open, 2 open.
    pub fn gauge(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }
}

#[derive(Debug)]
struct Inner {
    /// Advances each time the breaker opens or closes.
    generation: u64,
    consecutive_failures: u32,
    open_until: Option<Instant>,
    probe_out: bool,
}

/// One provider's breaker for one tenant.
#[derive(Debug)]
pub struct Breaker {
    failures: u32,
    cool_down: Duration,
    inner: Mutex<Inner>,
    /// Whose breaker this is, for its log lines: calls run in no span that would say it
    /// (the providers' spans are debug-level, too costly to format on every lookup).
    owner: Option<(Provider, TenantId)>,
}

/// Whether an attempt may go out, and as what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Closed: send.
    Send,
    /// Half-open: send as the one probe.
    Probe,
    /// Open (or a probe is out): fail fast.
    Refuse,
}

impl Breaker {
    /// Opens after `failures` consecutive failures (0 disables it) for `cool_down`.
    pub fn new(failures: u32, cool_down: Duration) -> Self {
        Breaker {
            failures,
            cool_down,
            inner: Mutex::new(Inner {
                generation: 0,
                consecutive_failures: 0,
                open_until: None,
                probe_out: false,
            }),
            owner: None,
        }
    }

    /// This breaker, naming `provider` and `tenant` in what it logs.
    pub fn named(mut self, provider: Provider, tenant: TenantId) -> Self {
        self.owner = Some((provider, tenant));
        self
    }

    fn provider(&self) -> &str {
        self.owner.as_ref().map_or("", |(provider, _)| provider.as_str())
    }

    fn tenant(&self) -> &str {
        self.owner.as_ref().map_or("", |(_, tenant)| tenant.as_str())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn state(&self) -> BreakerState {
        let inner = self.lock();
        match inner.open_until {
            None => BreakerState::Closed,
            Some(_) if inner.probe_out => BreakerState::HalfOpen,
            Some(until) if Instant::now() >= until => BreakerState::HalfOpen,
            Some(_) => BreakerState::Open,
        }
    }

    /// The state's generation, read before an attempt (see `failed`).
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Asks to send one attempt.
    pub fn admit(&self) -> Admission {
        let mut inner = self.lock();
        match inner.open_until {
            None => Admission::Send,
            Some(until) if Instant::now() >= until && !inner.probe_out => {
                inner.probe_out = true;
                Admission::Probe
            }
            Some(_) => Admission::Refuse,
        }
    }

    /// The attempt reached a live provider.
    pub fn succeeded(&self) {
        let mut inner = self.lock();
        let mut generation = inner.generation;
        if inner.open_until.is_some() {
            tracing::info!(
                provider = self.provider(),
                tenant = self.tenant(),
                "upstream circuit closed: the probe succeeded"
            );
            generation += 1;
        }
        *inner = Inner {
            generation,
            consecutive_failures: 0,
            open_until: None,
            probe_out: false,
        };
    }

    /// An attempt sent in state `generation` failed in a way that says the provider is
    /// down; one sent before the breaker last opened or closed says nothing about now.
    pub fn failed(&self, generation: u64) {
        if self.failures == 0 {
            return;
        }
        let mut inner = self.lock();
        if generation != inner.generation {
            return;
        }
        inner.consecutive_failures = inner.consecutive_failures.saturating_add(1);
        let probe_failed = inner.probe_out;
        if probe_failed || (inner.open_until.is_none() && inner.consecutive_failures >= self.failures) {
            tracing::warn!(
                provider = self.provider(),
                tenant = self.tenant(),
                cool_down = ?self.cool_down,
                "upstream circuit open: failing fast"
            );
            inner.open_until = Some(Instant::now() + self.cool_down);
            inner.probe_out = false;
            inner.generation += 1;
        }
    }

    /// A probe ended without an answer either way (e.g. the request was dropped): let
    /// the next caller probe.
    pub fn probe_abandoned(&self) {
        self.lock().probe_out = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_probes_after_the_cool_down_and_closes_on_success() {
        let breaker = Breaker::new(3, Duration::from_secs(10));
        for _ in 0..2 {
            assert_eq!(breaker.admit(), Admission::Send);
            breaker.failed(breaker.generation());
        }
        assert_eq!(breaker.state(), BreakerState::Closed);
        breaker.failed(breaker.generation());
        assert_eq!(breaker.state(), BreakerState::Open);
        assert_eq!(breaker.admit(), Admission::Refuse);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(breaker.admit(), Admission::Probe);
        assert_eq!(breaker.admit(), Admission::Refuse, "one probe at a time");
        breaker.succeeded();
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(breaker.admit(), Admission::Send);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_opens_it_for_another_cool_down() {
        let breaker = Breaker::new(1, Duration::from_secs(5));
        breaker.failed(breaker.generation());
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(breaker.admit(), Admission::Probe);
        breaker.failed(breaker.generation());
        assert_eq!(breaker.admit(), Admission::Refuse);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(breaker.admit(), Admission::Refuse);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(breaker.admit(), Admission::Probe);
    }

    #[tokio::test]
    async fn a_success_resets_the_count_and_zero_failures_disables_it() {
        let breaker = Breaker::new(2, Duration::from_secs(5));
        breaker.failed(breaker.generation());
        breaker.succeeded();
        breaker.failed(breaker.generation());
        assert_eq!(breaker.state(), BreakerState::Closed);
        let off = Breaker::new(0, Duration::from_secs(5));
        for _ in 0..100 {
            off.failed(off.generation());
        }
        assert_eq!(off.admit(), Admission::Send);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_of_attempts_sent_before_the_circuit_closed_do_not_open_it_again() {
        let breaker = Breaker::new(2, Duration::from_secs(1));
        // Attempts sent while the provider was down; they will fail late.
        let during_fault: Vec<u64> = (0..10).map(|_| breaker.generation()).collect();
        breaker.failed(during_fault[0]);
        breaker.failed(during_fault[1]);
        assert_eq!(breaker.state(), BreakerState::Open);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(breaker.admit(), Admission::Probe);
        breaker.succeeded();
        for late in &during_fault[2..] {
            breaker.failed(*late);
        }
        assert_eq!(
            breaker.state(),
            BreakerState::Closed,
            "the late failures are of an older state"
        );
        breaker.failed(breaker.generation());
        breaker.failed(breaker.generation());
        assert_eq!(breaker.state(), BreakerState::Open, "new failures still count");
    }
}
