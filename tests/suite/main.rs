//! The gateway's behaviour tests, as one test binary: each module is one concern, and all
//! share the harness in `tests/common` (an emulator and a gateway on loopback port 0).
//! One binary links the crate once instead of once per file. What needs a process of its
//! own stays apart: `config` and `logs` (process environment, global subscriber), `otlp`
//! (global exporter), `clients` (browsers and Node.js), `shared_cache` (a real
//! redis-server), `deploy` (the deployment files), `fake_provider` (a cargo feature).

#[path = "../common/mod.rs"]
mod common;

mod authorization;
mod batching;
mod cors;
mod doctor;
mod emulator;
mod errors;
mod export;
mod fair_use;
mod flat;
mod hostile;
mod http;
mod http_cache;
mod jwt;
mod layering;
mod live;
mod observability;
mod oneuptime;
mod paging;
mod persisted;
mod plan;
mod properties;
mod readiness;
mod real_providers;
mod resilience;
mod response_reuse;
mod schema;
mod spec;
mod stats;
mod timeline;
mod validation_reuse;
mod voximplant;
