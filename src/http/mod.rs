//! The axum router: `/graphql` (POST JSON, GET queries or GraphiQL), `/healthz`,
//! `/readyz`, `/metrics`.

mod documents;
mod graphql;
mod hygiene;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

pub use documents::Documents;

use crate::cache::Cache;
use crate::graphql::AppSchema;
use crate::tenancy::Tenants;

/// Everything a request handler needs, shared.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub tenants: Arc<Tenants>,
    pub cache: Cache,
    pub max_body_bytes: usize,
    pub max_fields: usize,
    pub requests: Arc<AtomicU64>,
    pub documents: documents::Documents,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ready" }))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Prometheus text format: requests served, upstream calls per tenant, cache entries.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    out.push_str("# TYPE switchboard_graphql_requests_total counter\n");
    out.push_str(&format!(
        "switchboard_graphql_requests_total {}\n",
        state.requests.load(Ordering::Relaxed)
    ));
    out.push_str("# TYPE switchboard_upstream_requests_total counter\n");
    for tenant in state.tenants.all() {
        if let Some(sw) = &tenant.signalwire {
            out.push_str(&format!(
                "switchboard_upstream_requests_total{{provider=\"signalwire\",tenant=\"{}\"}} {}\n",
                tenant.id.as_str(),
                sw.upstream_requests()
            ));
        }
        if let Some(vx) = &tenant.voximplant {
            out.push_str(&format!(
                "switchboard_upstream_requests_total{{provider=\"voximplant\",tenant=\"{}\"}} {}\n",
                tenant.id.as_str(),
                vx.upstream_requests()
            ));
        }
        if let Some(ou) = &tenant.oneuptime {
            out.push_str(&format!(
                "switchboard_upstream_requests_total{{provider=\"oneuptime\",tenant=\"{}\"}} {}\n",
                tenant.id.as_str(),
                ou.upstream_requests()
            ));
        }
    }
    out.push_str("# TYPE switchboard_cache_entries gauge\n");
    out.push_str(&format!("switchboard_cache_entries {}\n", state.cache.entry_count()));
    out.push_str("# TYPE switchboard_parsed_documents gauge\n");
    out.push_str(&format!(
        "switchboard_parsed_documents {}\n",
        state.documents.entry_count()
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
