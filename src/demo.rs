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
}

impl Demo {
    /// Starts the emulator and points `config` at it when `config` names no provider;
    /// otherwise does nothing.
    pub async fn start_if_needed(config: &mut Config) -> std::io::Result<Demo> {
        #[cfg(feature = "emulator")]
        {
            use crate::emulator::{Emulator, EmulatorConfig};
            if !config.has_no_providers() {
                return Ok(Demo { _emulator: None });
            }
            let emulator = Emulator::start(EmulatorConfig::default()).await?;
            use_emulator(config, &emulator.base_url());
            tracing::info!(base_url = %emulator.base_url(), "demo mode: no provider credentials configured; every provider points at the built-in emulator");
            Ok(Demo {
                _emulator: Some(emulator),
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

/// Points every provider of `config` at the built-in emulator at `base`, with the
/// emulator's demo credentials (demo mode, benchmarks).
#[cfg(feature = "emulator")]
pub fn use_emulator(config: &mut Config, base: &url::Url) {
    config.providers = crate::emulator::demo_providers(base);
}
