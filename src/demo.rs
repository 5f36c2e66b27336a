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
    use std::time::Duration;

    use crate::config::{OneUptimeConfig, Secret, SignalWireConfig, VoximplantConfig};
    use crate::emulator::{DEMO_ONEUPTIME_KEY, EmulatorConfig, demo_credentials};

    let credential = &EmulatorConfig::default().signalwire_credentials[0];
    config.providers.signalwire = Some(SignalWireConfig {
        space_url: base.clone(),
        project_id: credential.project_id.clone(),
        api_token: Secret::new(credential.api_token.clone()),
        page_size: 100,
        concurrency: 16,
    });
    config.providers.oneuptime = Some(OneUptimeConfig {
        base_url: base.clone(),
        api_key: Secret::new(DEMO_ONEUPTIME_KEY),
        page_size: 100,
        concurrency: 8,
    });
    config.providers.voximplant = Some(VoximplantConfig {
        base_url: base.clone(),
        credentials_file: None,
        credentials_json: Some(Secret::new(demo_credentials())),
        currency: "USD".into(),
        // The seeded data ends on a fixed date; look far enough back to show it.
        lookback: Duration::from_secs(3650 * 24 * 3600),
        page_size: 100,
        token_lifetime: Duration::from_secs(300),
        concurrency: 8,
    });
}
