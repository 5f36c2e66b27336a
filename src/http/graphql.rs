//! The `/graphql` handlers: decode the request by hand (see `hygiene`), resolve the
//! tenant, attach per-request loaders, execute.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use async_graphql::http::GraphiQLSource;
use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::hygiene;
use crate::graphql::ResponseNotes;
use crate::graphql::error::ErrorCode;
use crate::graphql::scope::RequestScope;
use crate::tenancy::AuthError;

/// The JSON body of a POST (GraphQL over HTTP); `query` is required, batches are not
/// supported, and a JSON array is refused rather than read as a struct.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    query: String,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: Option<serde_json::Value>,
}

impl PostBody {
    fn into_request(self) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(self.query);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = self.variables.filter(|v| !v.is_null()) {
            request = request.variables(async_graphql::Variables::from_json(variables));
        }
        request
    }
}

fn is_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Errors from the gateway's own resolvers always carry a code; one without is
/// async-graphql's verdict on the request itself (syntax, validation, depth and
/// complexity limits, a variable of the wrong type), so it is the caller's bad input.
fn code_request_error(error: &mut async_graphql::ServerError) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", ErrorCode::BadUserInput.as_str());
    }
}

/// A request refused before execution, as a GraphQL error body.
fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": code.as_str()}}]});
    (status, Json(body)).into_response()
}

pub async fn post(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    if !hygiene::is_json(&headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "POST /graphql takes Content-Type: application/json",
        );
    }
    let Ok(bytes) = to_bytes(body, state.max_body_bytes).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BadUserInput,
            "request body too large",
        );
    };
    let parsed = is_object(&bytes).then(|| serde_json::from_slice::<PostBody>(&bytes));
    let request = match parsed {
        Some(Ok(body)) => body.into_request(),
        _ => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the body is not a GraphQL request ({\"query\": ..., \"variables\": ...})",
            );
        }
    };
    execute(&state, &headers, request, false).await
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(query) = params.get("query") else {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .title("switchboard")
                .finish(),
        )
        .into_response();
    };
    let mut request = async_graphql::Request::new(query.as_str());
    if let Some(name) = params.get("operationName") {
        request = request.operation_name(name.as_str());
    }
    if let Some(raw) = params.get("variables") {
        match serde_json::from_str(raw) {
            Ok(vars) => request = request.variables(async_graphql::Variables::from_json(vars)),
            Err(_) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    "`variables` is not JSON",
                );
            }
        }
    }
    execute(&state, &headers, request, true).await
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    mut request: async_graphql::Request,
    via_get: bool,
) -> Response {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let tenant = match state.tenants.resolve(authorization) {
        Ok(t) => t,
        Err(AuthError::MissingKey) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                "send `Authorization: Bearer <api key>`",
            );
        }
        Err(AuthError::UnknownKey) => {
            return refuse(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, "unknown API key");
        }
    };
    // The document is parsed (or taken from the document cache) here and kept in the
    // request, so execution does not parse again.
    state.documents.attach(&mut request);
    let operation_name = request.operation_name.clone();
    if let Ok(doc) = request.parsed_query() {
        if via_get && hygiene::selects_non_query(doc, operation_name.as_deref()) {
            return refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::BadUserInput,
                "mutations must be sent with POST",
            );
        }
        let fields = hygiene::field_count(doc);
        if fields > state.max_fields {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!(
                    "the query selects {fields} fields; at most {} are allowed",
                    state.max_fields
                ),
            );
        }
    }
    let notes = std::sync::Arc::new(ResponseNotes::default());
    let request = request.data(RequestScope::new(tenant)).data(notes.clone());
    let mut response = state.schema.execute(request).await;
    for error in &mut response.errors {
        code_request_error(error);
    }
    if notes.scan_cut.load(Ordering::Relaxed) {
        response
            .extensions
            .insert("timelineScanCut".into(), async_graphql::Value::Boolean(true));
    }
    Json(response).into_response()
}
