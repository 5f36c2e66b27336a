//! Demo mode: with no provider credentials configured, the gateway starts the built-in
//! emulator on a loopback port and points every provider at it.
//!
//! The emulator is the cargo feature `emulator` (on by default). A production build
//! without it (`--no-default-features`) has no emulator code or demo keys, and refuses to
//! start without credentials instead.

use crate::config::Config;

/// Keeps the demo's emulator running for as long as the gateway runs.
pub struct Demo {
    #[cfg(feature = "emulator")]
    _emulator: Option<crate::emulator::Emulator>,
    /// The emulator's live traffic, stopped with the demo.
    #[cfg(feature = "emulator")]
    traffic: Option<tokio::task::JoinHandle<()>>,
}

#[cfg(feature = "emulator")]
impl Drop for Demo {
    fn drop(&mut self) {
        if let Some(traffic) = self.traffic.take() {
            traffic.abort();
        }
    }
}

impl Demo {
    /// Starts the emulator and points `config` at it when `config` names no provider;
    /// otherwise does nothing.
    pub async fn start_if_needed(config: &mut Config) -> std::io::Result<Demo> {
        #[cfg(feature = "emulator")]
        {
            use crate::emulator::{Emulator, EmulatorConfig};
            if !config.has_no_providers() {
                return Ok(Demo {
                    _emulator: None,
                    traffic: None,
                });
            }
            let emulator = Emulator::start(EmulatorConfig::default()).await?;
            use_emulator(config, &emulator.base_url());
            // The demo shows fair use too: the budgets README "Fair use" suggests.
            if !config.limits.enabled() {
                config.limits.tenant_cost_per_minute = 60_000;
                config.limits.user_cost_per_minute = 6_000;
            }
            tracing::info!(base_url = %emulator.base_url(), "demo mode: no provider credentials configured; every provider points at the built-in emulator");
            Ok(Demo {
                _emulator: Some(emulator),
                traffic: None,
            })
        }
        #[cfg(not(feature = "emulator"))]
        {
            if config.has_no_providers() {
                return Err(std::io::Error::other(
                    "no provider credentials configured: give [providers] or [[tenants]] (this build has no emulator, so no demo mode)",
                ));
            }
            Ok(Demo {})
        }
    }
}

impl Demo {
    /// With live updates on and `live.demo_traffic`: the emulator starts a call or moves
    /// one on every few seconds and sends its signed callbacks to the gateway at `gateway`.
    pub fn go_live(&mut self, gateway: std::net::SocketAddr, live: &crate::live::LiveConfig) {
        #[cfg(feature = "emulator")]
        if let Some(emulator) = &self._emulator
            && live.enabled
            && live.demo_traffic
        {
            let tenant = crate::tenancy::SINGLE_TENANT;
            emulator.set_callbacks(crate::emulator::Callbacks::to_gateway(
                &format!("http://{gateway}"),
                tenant,
            ));
            self.traffic = Some(emulator.start_traffic(DEMO_TRAFFIC_EVERY));
            tracing::info!(every = ?DEMO_TRAFFIC_EVERY, "demo mode: the emulator makes live calls and sends signed callbacks");
        }
        #[cfg(not(feature = "emulator"))]
        let _ = (gateway, live);
    }
}

/// How often the demo's emulator starts a call or moves one on.
#[cfg(feature = "emulator")]
const DEMO_TRAFFIC_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

/// Points every provider of `config` at the built-in emulator at `base`, with the
/// emulator's demo credentials (demo mode, benchmarks).
#[cfg(feature = "emulator")]
pub fn use_emulator(config: &mut Config, base: &url::Url) {
    config.providers = crate::emulator::demo_providers(base);
}
