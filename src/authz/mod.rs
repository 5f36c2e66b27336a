//! Field-level authorization: which fields a caller sees as they are, masked, or not at
//! all, decided by the scopes of its token against `[authorization.fields]`, and an audit
//! record of every answer that showed a guarded field unmasked.
//!
//! A caller's outcome of every rule is its `View` (a bit per rule). Masking happens at
//! rendering (`graphql::authorize`); the record cache is the same for every caller, and
//! what depends on the view (kept answers, cursors) is keyed by it, never by the token.
//!
//! Kept apart from `auth` (who is calling) and from `graphql` (where fields are
//! rendered): both read it, it reads neither.

pub mod audit;
pub mod config;
pub mod mask;
pub mod rules;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use self::config::{AuthorizationConfig, Otherwise};
pub use self::mask::Masking;
use self::rules::{Guard, Rules};
use crate::settings::ConfigError;
use crate::telemetry::metrics::{AuditSeries, Metrics};

/// The compiled `[authorization]` section.
#[derive(Debug)]
pub struct Authorization {
    rules: Rules,
    scopes_claim: String,
    /// Each rule's audit series (`observed`); none before.
    series: Vec<AuditSeries>,
}

impl Authorization {
    /// Compiles `config` against the schema of `sdl` (errors name the key at fault).
    pub fn new(config: &AuthorizationConfig, sdl: &str) -> Result<Authorization, ConfigError> {
        Ok(Authorization {
            rules: Rules::compile(config, sdl)?,
            scopes_claim: config.scopes_claim.trim().to_string(),
            series: Vec::new(),
        })
    }

    /// The same, counting its audit records on `metrics` (each rule's series registered
    /// once, here).
    pub fn observed(mut self, metrics: &Metrics) -> Authorization {
        self.series = self.rules.rules.iter().map(|r| metrics.audit_series(&r.key)).collect();
        self
    }

    /// The token claim that holds granted scopes.
    pub fn scopes_claim(&self) -> &str {
        &self.scopes_claim
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The view of a caller granted `granted`.
    pub fn view(&self, granted: &Granted) -> View {
        let scopes = match granted {
            Granted::Everything => return View::default(),
            Granted::Scopes(scopes) => scopes,
        };
        let denied = self
            .rules
            .rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| !rule.requires.iter().all(|s| scopes.iter().any(|g| g == s)))
            .fold(0u64, |bits, (i, _)| bits | 1 << i);
        View { denied }
    }
}

/// The scopes a caller holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Granted {
    /// A trusted service (a gateway API key whose tenant lists no `scopes`), or any caller
    /// when no `[authorization]` is configured.
    Everything,
    Scopes(Arc<[String]>),
}

impl Granted {
    /// The scopes of a token's claim: a space-separated string (OAuth 2 `scope`) or an
    /// array of strings; `None` when the claim is something else.
    pub fn from_claim(claim: Option<&serde_json::Value>) -> Option<Granted> {
        let scopes = match claim {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()?,
            Some(_) => return None,
        };
        Some(Granted::Scopes(scopes.into()))
    }
}

/// A caller's outcome of every rule: bit `i` set when rule `i` is denied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct View {
    denied: u64,
}

impl View {
    /// The view as a number (for keys: two callers with one view share answers).
    pub fn bits(self) -> u64 {
        self.denied
    }

    fn denies(self, rule: u8) -> bool {
        self.denied & (1 << rule) != 0
    }
}

/// What a caller gets of a guarded field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The value as it is (the audit counts it).
    Show,
    /// The value masked in place.
    Mask(Masking),
    /// `null` with a `FORBIDDEN` error.
    Forbid,
}

/// A filter argument the caller may not use (it selects by a field it cannot see).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForbiddenFilter {
    /// The rule that denies it.
    pub rule: String,
}

/// One request's authorization: the rules, the caller's view, who the caller is, and
/// how many records it was shown unmasked under each rule (for the audit record).
pub struct Access {
    authz: Option<Arc<Authorization>>,
    view: View,
    pub subject: Option<Arc<str>>,
    pub party: Option<Arc<str>>,
    shown: Box<[AtomicU32]>,
}

impl Access {
    /// A request under `authz` by a caller granted `granted`, signed in as `subject`
    /// (`sub`) through `party` (`azp`); without `[authorization]`, the one shared access
    /// that shows every field and audits nothing.
    pub fn new(
        authz: Option<&Arc<Authorization>>,
        granted: &Granted,
        subject: Option<Arc<str>>,
        party: Option<Arc<str>>,
    ) -> Arc<Access> {
        static OPEN: std::sync::LazyLock<Arc<Access>> = std::sync::LazyLock::new(|| {
            Arc::new(Access {
                authz: None,
                view: View::default(),
                subject: None,
                party: None,
                shown: Box::new([]),
            })
        });
        let Some(authz) = authz else { return OPEN.clone() };
        Arc::new(Access {
            view: authz.view(granted),
            shown: authz.rules.rules.iter().map(|_| AtomicU32::new(0)).collect(),
            authz: Some(authz.clone()),
            subject,
            party,
        })
    }

    /// Whether `[authorization]` is configured.
    pub fn governed(&self) -> bool {
        self.authz.is_some()
    }

    pub fn view(&self) -> View {
        self.view
    }

    /// What guards field `field` of concrete type `ty`, and the caller's outcome of it.
    pub fn outcome(&self, ty: &str, field: &str) -> Option<(Outcome, &Guard)> {
        let guard = self.authz.as_ref()?.rules.guard(ty, field)?;
        Some((self.outcome_of(guard), guard))
    }

    /// The caller's outcome of a field guarded by `guard`.
    pub fn outcome_of(&self, guard: &Guard) -> Outcome {
        let Some(authz) = &self.authz else { return Outcome::Show };
        let mut outcome = Outcome::Show;
        for &rule in &guard.rules {
            if self.view.denies(rule) {
                match authz.rules.rules[usize::from(rule)].otherwise {
                    Otherwise::Forbid => return Outcome::Forbid,
                    Otherwise::Mask => outcome = Outcome::Mask(guard.masking),
                }
            }
        }
        outcome
    }

    /// What the description of field `field` of type `ty` adds (the scopes it needs).
    pub fn describe(&self, ty: &str, field: &str) -> Option<String> {
        self.authz.as_ref()?.rules.describe(ty, field)
    }

    /// Counts one record shown unmasked under `guard`'s rules.
    pub fn shown(&self, guard: &Guard) {
        for &rule in &guard.rules {
            if let Some(count) = self.shown.get(usize::from(rule)) {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Refuses filter field `field` of input type `input` when the caller may not see a
    /// field it selects by.
    pub fn check_filter(&self, input: &str, field: &str) -> Result<(), ForbiddenFilter> {
        let Some(authz) = &self.authz else { return Ok(()) };
        let Some(rules) = authz.rules.filter(input, field) else {
            return Ok(());
        };
        match rules.iter().find(|&&rule| self.view.denies(rule)) {
            Some(&rule) => Err(ForbiddenFilter {
                rule: authz.rules.rules[usize::from(rule)].key.clone(),
            }),
            None => Ok(()),
        }
    }

    /// The rules that granted unmasked values, each with how many records it showed.
    /// The records shown so far, and the counts start again from zero (a subscription
    /// audits each event on its own).
    pub fn take_tally(&self) -> Tally {
        Tally(
            self.shown
                .iter()
                .enumerate()
                .filter_map(|(i, n)| {
                    let n = n.swap(0, Ordering::Relaxed);
                    (n > 0).then(|| (u8::try_from(i).unwrap_or(u8::MAX), n))
                })
                .collect(),
        )
    }

    pub fn tally(&self) -> Tally {
        Tally(
            self.shown
                .iter()
                .enumerate()
                .filter_map(|(i, n)| {
                    let n = n.load(Ordering::Relaxed);
                    (n > 0).then(|| (u8::try_from(i).unwrap_or(u8::MAX), n))
                })
                .collect(),
        )
    }

    /// The compiled rules, when `[authorization]` is configured.
    pub fn authorization(&self) -> Option<&Authorization> {
        self.authz.as_deref()
    }
}

/// What one answer showed unmasked: each granting rule (its index) and how many records
/// it showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(pub Vec<(u8, u32)>);

impl Tally {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Records shown unmasked: the most any one rule showed (each record has one value
    /// per field).
    pub fn records(&self) -> u32 {
        self.0.iter().map(|(_, n)| *n).max().unwrap_or(0)
    }
}
