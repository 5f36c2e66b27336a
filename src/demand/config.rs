//! `[limits]`: the cost budgets per tenant and per user.

use serde::{Deserialize, Serialize};

use crate::settings::ConfigError;

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Cost a tenant may spend per minute, across every replica sharing `[cache.redis]`;
    /// 0 (the default): no tenant budget. An upstream call costs 10, a request served
    /// without one costs 1.
    pub tenant_cost_per_minute: u64,
    /// Cost one user (a JWT's `sub`, or the tenant's API key) may spend per minute within
    /// its tenant; 0 (the default): no user budget.
    pub user_cost_per_minute: u64,
}

/// Most cost per minute a budget may have (a refill interval of at least 1 us).
pub const MAX_COST_PER_MINUTE: u64 = 60_000_000;

impl LimitsConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("limits.tenant_cost_per_minute", self.tenant_cost_per_minute),
            ("limits.user_cost_per_minute", self.user_cost_per_minute),
        ] {
            if value > MAX_COST_PER_MINUTE {
                return Err(ConfigError::invalid(
                    name,
                    format!("must be at most {MAX_COST_PER_MINUTE}"),
                ));
            }
        }
        Ok(())
    }

    /// Whether any budget is set.
    pub fn enabled(&self) -> bool {
        self.tenant_cost_per_minute > 0 || self.user_cost_per_minute > 0
    }
}
