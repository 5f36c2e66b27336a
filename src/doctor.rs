//! `switchboard doctor`: checks, against the accounts a config names, what the provider
//! clients assume but no public source settles (README, "Against real providers").
//!
//! For each tenant and each of its providers it runs that provider's checks
//! (`providers::doctor`) and reports every one as PASS, FAIL or UNKNOWN, with what was
//! asked and what came back, as text or as one JSON document. The checks are read-only
//! but for one report request, which is named before it is sent and skipped with
//! `--no-report`. With no provider configured it checks the demo emulator, where every
//! check passes.

use std::fmt::Write as _;

use serde::Serialize;

use crate::app::StartupError;
use crate::cache::Cache;
use crate::config::Config;
use crate::demo::Demo;
use crate::providers::doctor::{Check, Options, Verdict};
use crate::telemetry::metrics::Metrics;
use crate::tenancy::Tenants;
use crate::upstream::Http;

/// One tenant's check.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub tenant: String,
    #[serde(flatten)]
    pub check: Check,
}

/// Everything the doctor found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub unknown: usize,
}

impl Report {
    /// Nothing failed (UNKNOWN is no failure: it says what could not be decided).
    pub fn passed(&self) -> bool {
        self.summary.fail == 0
    }

    /// The report as lines for a terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let verdict = match f.check.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
                Verdict::Unknown => "UNKNOWN",
            };
            let _ = writeln!(
                out,
                "{verdict:<7} {} {} {}\n        checked:  {}\n        answered: {}",
                f.tenant,
                f.check.provider.as_str(),
                f.check.check,
                f.check.checked,
                f.check.answered
            );
        }
        let s = self.summary;
        let _ = writeln!(out, "{} passed, {} failed, {} unknown", s.pass, s.fail, s.unknown);
        out
    }
}

/// Runs every provider's checks for every tenant of `config` (the demo emulator when it
/// names no provider).
pub async fn run(mut config: Config, options: &Options) -> Result<Report, StartupError> {
    config.validate()?;
    let _demo = Demo::start_if_needed(&mut config).await.map_err(StartupError::Demo)?;
    let metrics = Metrics::default();
    let http = Http::new(&config.upstream, &metrics);
    let cache = Cache::new(&config.cache);
    let tenants = Tenants::from_config(&config.providers, &config.tenants, &config.upstream, &http, &cache)?;
    let mut all = tenants.all();
    all.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let mut findings = Vec::new();
    for tenant in all {
        for service in tenant.services() {
            for check in service.doctor(options).await {
                findings.push(Finding {
                    tenant: tenant.id.as_str().to_string(),
                    check,
                });
            }
        }
    }
    let mut summary = Summary::default();
    for f in &findings {
        match f.check.verdict {
            Verdict::Pass => summary.pass += 1,
            Verdict::Fail => summary.fail += 1,
            Verdict::Unknown => summary.unknown += 1,
        }
    }
    Ok(Report { findings, summary })
}
