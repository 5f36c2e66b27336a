//! The configuration's sources and their merge: defaults, a TOML file, `SWITCHBOARD__...`
//! environment overrides (`__` separates levels), into the top-level `Config`.
//!
//! Each layer owns its section, its defaults and its validation (`http::ServerConfig`,
//! `graphql::GraphqlConfig`, `cache::CacheConfig`, `upstream::UpstreamConfig`,
//! `auth::AuthConfig`, `telemetry::TelemetryConfig`, the providers' sections,
//! `tenancy::TenantConfig`); this module assembles them and checks only what spans
//! sections. Unknown keys are errors (a typo must not silently fall back to a default),
//! and every error names the key it is about. Secrets and the error type live in
//! `settings`, which every layer may import.

use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use crate::auth::config::{AuthConfig, JWT_ALGORITHMS, JwtConfig};
pub use crate::authz::config::{AuthorizationConfig, FieldRuleConfig, Otherwise, Requires};
pub use crate::cache::config::{CacheConfig, RedisConfig};
pub use crate::graphql::config::{GraphqlConfig, StatsConfig, TrustedDocumentsConfig, TrustedDocumentsMode};
pub use crate::http::config::{CorsConfig, ServerConfig};
pub use crate::live::LiveConfig;
use crate::providers::REGISTERED;
pub use crate::settings::{ConfigError, Secret};
pub use crate::telemetry::config::{LogConfig, LogFormat, MetricsConfig, OtlpConfig, TelemetryConfig};
pub use crate::tenancy::TenantConfig;
pub use crate::upstream::config::UpstreamConfig;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub graphql: GraphqlConfig,
    pub cache: CacheConfig,
    pub upstream: UpstreamConfig,
    /// Credentials of the implicit single tenant (used when `tenants` is empty).
    pub providers: ProvidersConfig,
    /// Multi-tenant mode: gateway API keys (or JWT tenant claims) mapped to credential sets.
    pub tenants: Vec<TenantConfig>,
    /// End-user sign-in (OIDC JWTs) besides gateway API keys.
    pub auth: AuthConfig,
    /// `[log]`: log format and the per-request access line.
    pub log: LogConfig,
    /// `[telemetry]`: metrics labels and OpenTelemetry traces.
    pub telemetry: TelemetryConfig,
    /// `[authorization]`: field rules by token scope; unset, every caller sees every field.
    pub authorization: Option<AuthorizationConfig>,
    /// `[live]`: subscriptions, webhooks and polling.
    pub live: LiveConfig,
    /// `[limits]`: cost budgets per tenant and per user.
    pub limits: crate::demand::LimitsConfig,
    /// `[stats]`: how much one `callLogStats` answer may read.
    pub stats: StatsConfig,
}

pub use crate::providers::ProvidersConfig;
pub use crate::providers::oneuptime::OneUptimeConfig;
pub use crate::providers::signalwire::SignalWireConfig;
pub use crate::providers::voximplant::VoximplantConfig;

impl Config {
    /// Loads defaults, then the TOML file (if any), then `SWITCHBOARD__` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile(path.display().to_string()));
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("SWITCHBOARD__").split("__"));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// The smallest upstream page size of any configured provider (100 without one): what
    /// reading a number of items is priced by.
    pub fn smallest_page_size(&self) -> u32 {
        std::iter::once(&self.providers)
            .chain(self.tenants.iter().map(|t| &t.providers))
            .filter_map(|p| p.smallest_page_size())
            .min()
            .unwrap_or(100)
    }

    /// True when no provider credentials are configured at all: demo mode.
    pub fn has_no_providers(&self) -> bool {
        self.providers.is_empty() && self.tenants.is_empty()
    }

    /// Checks every section (each layer checks its own) and what spans sections.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.graphql.validate()?;
        self.server.validate()?;
        self.telemetry.validate()?;
        self.cache.validate()?;
        self.live.validate()?;
        self.limits.validate()?;
        self.stats.validate()?;

        let providers: Vec<&str> = REGISTERED.iter().map(|r| r.provider().as_str()).collect();
        self.upstream.validate(&providers)?;
        if !self.tenants.is_empty() && !self.providers.is_empty() {
            return Err(ConfigError::invalid(
                "providers",
                "cannot be combined with `tenants`: give each tenant its own providers",
            ));
        }
        self.providers.validate("providers")?;
        crate::tenancy::validate_tenants(&self.tenants, self.auth.jwt.is_some())?;
        if let Some(jwt) = &self.auth.jwt {
            jwt.validate(!self.tenants.is_empty())?;
        }
        if let Some(rules) = &self.authorization {
            // Rules name the schema's types and fields: checked against it.
            crate::authz::Authorization::new(rules, &crate::graphql::sdl())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        let sw = SignalWireConfig {
            space_url: Url::parse("https://x.signalwire.com").unwrap(),
            project_id: "p".into(),
            api_token: s,
            page_size: 100,
            concurrency: 1,
            max_requests_per_second: None,
            signing_key: None,
        };
        assert!(!format!("{sw:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let err = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string("[server]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n"))
            .extract::<Config>()
            .unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
    }

    #[test]
    fn missing_credentials_name_the_key() {
        let err = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(
                "[providers.signalwire]\nspace_url = \"https://x.signalwire.com\"\nproject_id = \"p\"\n",
            ))
            .extract::<Config>()
            .unwrap_err();
        assert!(err.to_string().contains("api_token"), "{err}");
    }

    #[test]
    fn two_tenants_with_one_key_hash_are_a_startup_error() {
        let mut config = Config::default();
        let hash = "ab".repeat(32);
        for name in ["a", "b"] {
            config.tenants.push(TenantConfig {
                scopes: None,
                name: name.into(),
                api_key_sha256: Some(hash.clone()),
                providers: ProvidersConfig::default(),
            });
        }
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("tenants[1].api_key_sha256"), "{err}");
    }

    #[test]
    fn a_jwt_section_names_what_is_missing_or_contradictory() {
        let check = |tweak: &dyn Fn(&mut Config), key: &str| {
            let mut config = Config::default();
            let mut jwt = JwtConfig {
                issuer: "https://id.example/".into(),
                audiences: vec!["app".into()],
                jwks_url: Some(Url::parse("https://id.example/jwks").unwrap()),
                ..JwtConfig::default()
            };
            jwt.cookie = Some("session".into());
            config.auth.jwt = Some(jwt);
            config.validate().expect("the base JWT config is valid");
            tweak(&mut config);
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        };
        fn jwt(c: &mut Config) -> &mut JwtConfig {
            c.auth.jwt.as_mut().unwrap()
        }
        check(&|c| jwt(c).issuer.clear(), "auth.jwt.issuer");
        check(&|c| jwt(c).audiences.clear(), "auth.jwt.audiences");
        check(&|c| jwt(c).public_key_pem = Some("pem".into()), "auth.jwt.jwks_url");
        check(&|c| jwt(c).algorithms = vec!["HS256".into()], "auth.jwt.algorithms");
        check(&|c| jwt(c).csrf_header = "bad header".into(), "auth.jwt.csrf_header");
        check(&|c| jwt(c).tenant_claim = Some("t".into()), "auth.jwt.tenant_claim");
        check(
            &|c| {
                c.tenants.push(TenantConfig {
                    scopes: None,
                    name: "a".into(),
                    api_key_sha256: None,
                    providers: ProvidersConfig::default(),
                })
            },
            "auth.jwt.tenant_claim",
        );
        let mut keyless = Config::default();
        keyless.tenants.push(TenantConfig {
            scopes: None,
            name: "a".into(),
            api_key_sha256: None,
            providers: ProvidersConfig::default(),
        });
        let err = keyless.validate().unwrap_err().to_string();
        assert!(err.contains("tenants[0].api_key_sha256"), "{err}");
    }

    #[test]
    fn out_of_range_page_size_is_rejected() {
        let mut config = Config::default();
        config.providers.signalwire = Some(SignalWireConfig {
            space_url: Url::parse("https://x.signalwire.com").unwrap(),
            project_id: "p".into(),
            api_token: Secret::new("t"),
            page_size: 5000,
            concurrency: 1,
            max_requests_per_second: None,
            signing_key: None,
        });
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("providers.signalwire.page_size"), "{err}");
    }

    #[test]
    fn a_relative_credentials_file_is_read_beside_the_config_file_that_names_it() {
        let dir = std::env::temp_dir().join(format!("switchboard-config-credentials-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        std::fs::write(dir.join("credentials.json"), r#"{"account_id": 1}"#).expect("written");
        let file = dir.join("switchboard.toml");
        std::fs::write(
            &file,
            "[providers.voximplant]\ncredentials_file = \"credentials.json\"\n",
        )
        .expect("written");
        let config = Config::load(Some(&file)).expect("loads");
        let voximplant = config.providers.voximplant.expect("configured");
        let credentials = voximplant.credentials().expect("found beside the config file");
        assert_eq!(credentials.expose(), r#"{"account_id": 1}"#);
        std::fs::remove_dir_all(&dir).ok();
    }
}
