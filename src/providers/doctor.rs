//! What `switchboard doctor` asks of each provider: a few read-only requests that check,
//! against a real account, what the provider client assumes but no public source settles
//! (list order, bound semantics, time zones, report columns, link origins). Each provider
//! writes its own checks next to its client (`providers/<name>/doctor.rs`); the runner
//! (`crate::doctor`) only iterates over tenants and services.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

use crate::domain::Provider;
use crate::upstream::UpstreamError;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// The provider behaves as the client assumes.
    Pass,
    /// It does not: the client would misread this account.
    Fail,
    /// The check could not decide (no data to test with, a request failed, skipped).
    Unknown,
}

/// One checked assumption: what was asked, what the provider answered, the verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub provider: Provider,
    /// A stable name, e.g. `list-order`.
    pub check: &'static str,
    /// What was checked and how (the requests sent).
    pub checked: String,
    /// What the provider answered (the evidence).
    pub answered: String,
    pub verdict: Verdict,
}

impl Check {
    pub fn new(
        provider: Provider,
        check: &'static str,
        checked: impl Into<String>,
        verdict: Verdict,
        answered: impl Into<String>,
    ) -> Self {
        Check {
            provider,
            check,
            checked: checked.into(),
            answered: answered.into(),
            verdict,
        }
    }

    /// The `credentials` check when its request failed: FAIL when the provider refused
    /// the credentials, UNKNOWN for any other failure.
    pub fn credentials_refused(provider: Provider, checked: impl Into<String>, e: &UpstreamError) -> Self {
        let verdict = match e.kind {
            crate::upstream::UpstreamErrorKind::Unauthorized => Verdict::Fail,
            _ => Verdict::Unknown,
        };
        Check::new(provider, "credentials", checked, verdict, describe(e))
    }

    /// A check that could not run because a request failed.
    pub fn failed_request(
        provider: Provider,
        check: &'static str,
        checked: impl Into<String>,
        e: &UpstreamError,
    ) -> Self {
        Check::new(provider, check, checked, Verdict::Unknown, describe(e))
    }
}

/// An upstream error as the doctor prints it: its class and the detail operators need.
pub fn describe(e: &UpstreamError) -> String {
    format!("{:?}: {}", e.kind, e.detail)
}

/// What the user allowed the checks to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whether a check may request one report (the only request that creates
    /// something upstream); the runner names it before it is sent.
    pub report: bool,
    /// How long to wait for a requested report to complete.
    pub report_wait: std::time::Duration,
    /// Called with a line to show the user before a request that creates something.
    pub announce: fn(&str),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            report: true,
            report_wait: std::time::Duration::from_secs(120),
            announce: |line| eprintln!("{line}"),
        }
    }
}

/// The checks of one provider for one tenant, run in order.
pub type Checks<'a> = Pin<Box<dyn Future<Output = Vec<Check>> + Send + 'a>>;
