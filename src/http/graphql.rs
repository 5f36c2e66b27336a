//! The `/graphql` handlers: decode the request by hand (see `hygiene`), resolve the
//! tenant, attach per-request loaders, execute.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::{Body, to_bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::documents::VerdictKey;
use super::encoding::{self, Encoding};
use super::media::{Media, NotAcceptable};
use super::observe::Facts;
use super::persisted::{PersistedError, QuerySource};
use super::{AppState, caching, demand, error_code, hygiene, limits, refuse};
use crate::auth::{AuthError, Caller};
use crate::authz::{Access, Tally};
use crate::demand::{Cost, cost};
use crate::graphql::cost::{self as pricing};
use crate::graphql::error::{ErrorCode, GatewayError};
use crate::graphql::scope::RequestScope;
use crate::graphql::{ResponseNotes, completion};
use crate::request::CallBudget;
use crate::telemetry::metrics::Rejection;
use crate::tenancy::Tenant;

/// The JSON body of a POST (GraphQL over HTTP); `query` is required unless
/// `extensions.persistedQuery` names a known one; batches (a JSON array) are refused.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PostBody {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    /// Read as text, then into GraphQL values within the request's bounds (`variables`).
    variables: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    extensions: Option<serde_json::Value>,
    /// A trusted document's id (GraphQL over HTTP's `documentId`, Relay's `doc_id`).
    #[serde(default, alias = "doc_id")]
    document_id: Option<String>,
}

/// The request for a query text (given, or found by its persisted hash), or the refusal.
pub(super) fn build_request(state: &AppState, body: PostBody) -> Result<async_graphql::Request, Box<Response>> {
    if body.extensions.as_ref().is_some_and(|e| !e.is_object()) {
        return Err(Box::new(refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "`extensions` must be a JSON object",
        )));
    }
    let source = QuerySource {
        query: body.query,
        document_id: body.document_id.as_deref(),
        extensions: body.extensions.as_ref(),
    };
    let query = match state.persisted.resolve(source) {
        Ok(Some(query)) => query,
        Ok(None) => {
            return Err(Box::new(refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the body is not a GraphQL request ({\"query\": ..., \"variables\": ...})",
            )));
        }
        Err(e) => {
            let (status, code, message) = persisted_refusal(&e);
            return Err(Box::new(refuse(status, code, message)));
        }
    };
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = body.operation_name {
        request = request.operation_name(name);
    }
    if let Some(raw) = &body.variables {
        match super::variables::parse(raw.get(), state.limits.variables) {
            Ok(Some(variables)) => request = request.variables(variables),
            Ok(None) => {}
            Err(e) => {
                state.metrics.rejected(Rejection::DocumentLimits);
                return Err(Box::new(refuse(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    &e.to_string(),
                )));
            }
        }
    }
    Ok(request)
}

/// How a request whose persisted query cannot be had is answered: Apollo's protocol
/// answers the APQ cases with 200, so clients read the error and resend.
pub(super) fn persisted_refusal(error: &PersistedError) -> (StatusCode, ErrorCode, &'static str) {
    match error {
        PersistedError::NotFound => (
            StatusCode::OK,
            ErrorCode::PersistedQueryNotFound,
            "PersistedQueryNotFound",
        ),
        PersistedError::NotSupported => (
            StatusCode::OK,
            ErrorCode::PersistedQueryNotSupported,
            "PersistedQueryNotSupported",
        ),
        PersistedError::NotInList => (
            StatusCode::BAD_REQUEST,
            ErrorCode::PersistedQueryNotInList,
            "PersistedQueryNotInList: no operation of the trusted documents has this id",
        ),
        PersistedError::NotInSafelist => (
            StatusCode::BAD_REQUEST,
            ErrorCode::QueryNotInSafelist,
            "this gateway runs only its trusted documents; send a known operation's id",
        ),
        PersistedError::Invalid(why) => (StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, why),
    }
}

fn first_byte(bytes: &[u8]) -> Option<u8> {
    bytes.iter().find(|b| !b.is_ascii_whitespace()).copied()
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

/// Longest error message sent to a client (longer ones, e.g. a parser quoting a huge
/// query, are cut).
const MAX_ERROR_MESSAGE_BYTES: usize = 1024;
/// Most errors in one response; the rest are summarised in one more.
const MAX_ERRORS: usize = 100;

pub(super) async fn post(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    if super::sse::wants_events(&parts.headers) {
        return super::sse::post(state, parts.headers, body).await;
    }
    let headers = parts.headers;
    let media = match Media::negotiate(&headers) {
        Ok(media) => media,
        Err(NotAcceptable) => return not_acceptable(),
    };
    let mut response = state.guards.run(read_and_execute(&state, &headers, body)).await;
    media.apply(&mut response);
    encoding::compress(&headers, response, state.limits.compress_min_bytes).await
}

/// The answer to a request whose `Accept` allows no type a GraphQL answer is written in.
fn not_acceptable() -> Response {
    refuse(
        StatusCode::NOT_ACCEPTABLE,
        ErrorCode::BadUserInput,
        "`Accept` must allow application/graphql-response+json or application/json",
    )
}

async fn read_and_execute(state: &AppState, headers: &HeaderMap, body: Body) -> Response {
    match read_post(state, headers, body).await {
        Ok(body) => run(state, headers, body, false).await,
        Err(refusal) => *refusal,
    }
}

/// The request of a POST body, or the answer refusing it.
pub(super) async fn read_post(state: &AppState, headers: &HeaderMap, body: Body) -> Result<PostBody, Box<Response>> {
    let refuse = |status, code, message: &str| Err(Box::new(refuse(status, code, message)));
    if !hygiene::is_json(headers) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::BadUserInput,
            "POST /graphql takes Content-Type: application/json",
        );
    }
    let limits = &state.limits;
    // A small body usually came with the request head: read it without arming a timer.
    let mut read = std::pin::pin!(to_bytes(body, limits.max_body_bytes));
    let read = match futures::poll!(read.as_mut()) {
        std::task::Poll::Ready(done) => Ok(done),
        std::task::Poll::Pending => tokio::time::timeout(limits.body_read_timeout, read).await,
    };
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) if is_length_limit(&e) => {
            state.metrics.rejected(Rejection::Body);
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BadUserInput,
                &format!(
                    "request body larger than {} bytes (graphql.max_body_bytes)",
                    limits.max_body_bytes
                ),
            );
        }
        Ok(Err(_)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the request body could not be read",
            );
        }
        Err(_) => {
            state.metrics.rejected(Rejection::Body);
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::BadUserInput,
                "the request body did not arrive in time (server.body_read_timeout)",
            );
        }
    };
    if first_byte(&bytes) == Some(b'[') {
        // Apollo's BatchHttpLink sends a JSON array; batching is refused by name, not as
        // a malformed body, so the client knows what to turn off.
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "batched requests (a JSON array of operations) are not supported: at most 1 operation per request; send each operation on its own (HTTP keep-alive makes that cheap)",
        );
    }
    let parsed = (first_byte(&bytes) == Some(b'{')).then(|| serde_json::from_slice::<PostBody>(&bytes));
    match parsed {
        Some(Ok(body)) => Ok(body),
        _ => refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the body is not a GraphQL request ({\"query\": ..., \"variables\": ...})",
        ),
    }
}

/// Authenticates, finds the query (persisted ones only for an authenticated caller, so
/// strangers cannot fill the cache), and executes it.
async fn run(state: &AppState, headers: &HeaderMap, body: PostBody, via_get: bool) -> Response {
    let caller = match state.auth.authenticate(headers).await {
        Ok(caller) => caller,
        Err(refusal) => return unauthenticated(&refusal),
    };
    let id = caller.tenant.id.clone();
    let mut response = match build_request(state, body) {
        Ok(request) => execute(state, headers, caller, request, via_get).await,
        Err(refusal) => *refusal,
    };
    if let Some(facts) = response.extensions_mut().get_mut::<Facts>() {
        facts.tenant = Some(id);
    }
    response
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// A GET: a WebSocket upgrade (graphql-transport-ws), GraphiQL, or a query.
pub(super) async fn get(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    use axum::extract::FromRequestParts;
    let (mut parts, _) = request.into_parts();
    if super::ws::is_upgrade(&parts.headers) {
        let hold = parts.extensions.get::<super::ConnectionHold>().cloned();
        return match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &state).await {
            Ok(upgrade) => super::ws::upgrade(state, upgrade, hold),
            Err(rejection) => rejection.into_response(),
        };
    }
    let Query(params) = match Query::<HashMap<String, String>>::try_from_uri(&parts.uri) {
        Ok(query) => query,
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                "the query string could not be read",
            );
        }
    };
    let headers = parts.headers;
    let response = get_response(&state, &headers, &params).await;
    encoding::compress(&headers, response, state.limits.compress_min_bytes).await
}

/// The answer to a GET: GraphiQL without a query, else the query's answer.
async fn get_response(state: &AppState, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    if !["query", "extensions", "documentId", "doc_id"]
        .iter()
        .any(|p| params.contains_key(*p))
    {
        return super::graphiql::page();
    }
    let media = match Media::negotiate(headers) {
        Ok(media) => media,
        Err(NotAcceptable) => return not_acceptable(),
    };
    let mut response = get_query(state, headers, params).await;
    media.apply(&mut response);
    response
}

/// The answer to a GET carrying a query (or a persisted one's id).
async fn get_query(state: &AppState, headers: &HeaderMap, params: &HashMap<String, String>) -> Response {
    let json_param = |name: &'static str| -> Result<Option<serde_json::Value>, &'static str> {
        params
            .get(name)
            .map(|raw| serde_json::from_str(raw).map_err(|_| name))
            .transpose()
    };
    let variables = params
        .get("variables")
        .map(|raw| serde_json::value::RawValue::from_string(raw.clone()).map_err(|_| "variables"))
        .transpose();
    let (variables, extensions) = match (variables, json_param("extensions")) {
        (Ok(variables), Ok(extensions)) => (variables, extensions),
        (Err(name), _) | (_, Err(name)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &format!("`{name}` is not JSON"),
            );
        }
    };
    let body = PostBody {
        query: params.get("query").cloned(),
        operation_name: params.get("operationName").cloned(),
        variables,
        extensions,
        document_id: params.get("documentId").or_else(|| params.get("doc_id")).cloned(),
    };
    state.guards.run(run(state, headers, body, true)).await
}

pub(super) fn unauthenticated(refusal: &AuthError) -> Response {
    let mut response = refuse(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, &refusal.message());
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(refusal.challenge()));
    response
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    caller: Caller,
    request: async_graphql::Request,
    via_get: bool,
) -> Response {
    let limits = &state.limits;
    let access = super::access(state, &caller);
    let tenant = caller.tenant.clone();
    let kept = state.responses.key(&tenant.id, access.view(), &request);
    if let Some(hit) = kept.as_ref().and_then(|key| state.responses.get(key)) {
        // A kept answer reads data without an upstream call: the floor of the cost.
        let charge = match &state.demand {
            Some(demand) => match demand.admit(&caller, Cost(cost::FLOOR)).await {
                Ok(charge) => Some(charge),
                Err(refusal) => return refusal.response(),
            },
            None => None,
        };
        state.metrics.reused_response();
        audit(&tenant, &access, &hit.tally, hit.operation.as_deref());
        let facts = Facts {
            operation_type: "query",
            operation_name: hit.operation.clone(),
            has_data: true,
            ..Facts::default()
        };
        let mut response = match charge {
            Some(charge) => {
                let floor = Cost(cost::FLOOR);
                let answer = Answer {
                    body: hit.body.clone(),
                    extended: hit.extended,
                    has_errors: false,
                    fresh_for: Some(hit.fresh_for()),
                };
                respond_costed(headers, answer, (floor, floor, charge.standing()), via_get, limits)
            }
            None => reuse(headers, &hit, via_get, limits),
        };
        response.extensions_mut().insert(facts);
        return response;
    }
    // Boxed: execution's state is large, and a handler's future is moved whole through
    // axum's layers on every request, kept answers included.
    Box::pin(execute_fresh(state, headers, &caller, access, request, kept, via_get)).await
}

/// The audit record of an answer that showed guarded fields unmasked (`authz::audit`).
pub(super) fn audit(tenant: &Tenant, access: &Access, tally: &Tally, operation: Option<&str>) {
    let Some(authz) = access.authorization() else { return };
    let viewer = crate::authz::audit::Viewer {
        tenant: tenant.id.as_str(),
        subject: access.subject.as_deref(),
        party: access.party.as_deref(),
    };
    crate::authz::audit::record(authz, tally, &viewer, operation);
}

/// Executes a request that no kept answer covers, and keeps its answer when it may be
/// reused (`kept` is its key).
async fn execute_fresh(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
    access: Arc<Access>,
    mut request: async_graphql::Request,
    kept: Option<super::responses::ResponseKey>,
    via_get: bool,
) -> Response {
    let limits = &state.limits;
    let tenant = caller.tenant.clone();
    // The document is checked and parsed (or taken from the document cache) here; a plan
    // runs it as it is, async-graphql gets a copy (`Prepared::attach`) and does not parse
    // again.
    let document = match state.documents.prepare(&mut request, &limits.document) {
        Ok(document) => document,
        Err(e) => return refuse_by_limits(state, &e),
    };
    let requested = request.operation_name.clone();
    let wanted = requested.as_deref();
    let parsed = document.as_deref().map(|d| &d.document);
    let operation = parsed.and_then(|doc| hygiene::operation(doc, wanted));
    let is_mutation = parsed.is_some_and(|doc| hygiene::selects_non_query(doc, wanted));
    let (operation_type, operation_name) = match operation {
        Some((ty, name)) => (Some(ty), name.map(Arc::from)),
        None => (None, requested.as_deref().map(Arc::from)),
    };
    if operation_type == Some("subscription") {
        return refuse(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "subscriptions run over a WebSocket (graphql-transport-ws) or as server-sent events (POST with `Accept: text/event-stream`) on this URL",
        );
    }
    if via_get && is_mutation {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::BadUserInput,
            "mutations must be sent with POST",
        );
    }
    // Its estimated cost is reserved before anything runs (`[limits]`).
    let (charge, estimate) = match (
        &state.demand,
        parsed.and_then(|doc| Some((doc, hygiene::definition(doc, wanted)?))),
    ) {
        (Some(demand), Some((doc, definition))) => {
            let estimate = pricing::estimate(&demand.model, doc, definition, &request.variables);
            match demand.admit(caller, estimate.cost()).await {
                Ok(charge) => (Some(charge), estimate),
                Err(refusal) => return refusal.response(),
            }
        }
        _ => (None, pricing::Estimate { calls: 0, reads: false }),
    };
    let notes = Arc::new(ResponseNotes::default());
    let budget = CallBudget::until(
        limits.max_upstream_calls,
        std::time::Instant::now().checked_add(limits.request_timeout),
    );
    let mut scope = RequestScope::new(tenant.clone(), access.clone(), &budget);
    if let Some(charge) = &charge {
        scope.standing = Some(charge.standing());
    }
    let executed = run_operation(state, request, scope, document, &budget, &notes).await;
    let (errors, has_data) = match &executed {
        Executed::Response(response) => (&response.errors, response.data != async_graphql::Value::Null),
        Executed::Planned(answer) => (&answer.errors, answer.has_data()),
    };
    let mut facts = Facts {
        operation_type: operation_type.unwrap_or_default(),
        operation_name,
        error_codes: errors.iter().map(|e| error_code(e).to_string()).collect(),
        has_data,
        upstream_calls: budget.used(),
        cache_hits: budget.cache_hits(),
        tenant: None,
    };
    let has_errors = !errors.is_empty();
    let mut no_data = false;
    let rendered = match executed {
        Executed::Response(mut response) => {
            if notes.scan_cut.load(Ordering::Relaxed) {
                response
                    .extensions
                    .insert("timelineScanCut".into(), async_graphql::Value::Boolean(true));
            }
            // A request error (nothing ran) has no `data` entry under the GraphQL
            // media type, and its answer a 4xx (`media`).
            let request_error = response.data == async_graphql::Value::Null
                && !response.errors.is_empty()
                && response.errors.iter().all(is_request_error);
            let with_data = !(request_error && Media::negotiate(headers) == Ok(Media::GraphqlResponse));
            no_data = request_error;
            render(&response, with_data, limits.max_response_bytes)
        }
        Executed::Planned(answer) => render_planned(answer, limits.max_response_bytes),
    };
    let (body, extended) = match rendered {
        Ok((body, extended)) => (Bytes::from(body), extended),
        Err(too_large) => {
            state.metrics.rejected(Rejection::ResponseSize);
            return *too_large;
        }
    };
    let tally = access.tally();
    audit(&tenant, &access, &tally, facts.operation_name.as_deref());
    if let Some(key) = kept
        && let Some(expires) = budget.fresh_until()
        && !has_errors
        && budget.used() == 0
        && has_data
        && !is_mutation
    {
        state.responses.keep(
            key,
            body.clone(),
            extended,
            expires,
            facts.operation_name.clone(),
            tally,
        );
    }
    let mut answer = match (&state.demand, &charge) {
        (Some(demand), Some(charge)) => {
            let actual = Cost::of_calls(u64::from(budget.used()), estimate.reads);
            let standing = demand.settle(charge, actual).await;
            let answer = Answer {
                body,
                extended,
                has_errors,
                fresh_for: budget.fresh_for(),
            };
            respond_costed(headers, answer, (estimate.cost(), actual, standing), via_get, limits)
        }
        _ => respond(headers, body, via_get, has_errors, budget.fresh_for(), None, limits),
    };
    facts.has_data &= answer.status().is_success();
    answer.extensions_mut().insert(facts);
    if no_data {
        answer.extensions_mut().insert(super::media::NoData);
    }
    answer
}

/// A kept rendered answer: its pre-compressed form when the client takes one.
fn reuse(
    headers: &HeaderMap,
    hit: &super::responses::Rendered,
    via_get: bool,
    limits: &super::RequestLimits,
) -> Response {
    if !via_get
        && hit.body.len() > usize::from(encoding::MIN_BYTES)
        && let Some(encoding) = Encoding::negotiate(headers)
        && let Some(body) = hit.encoded(encoding)
    {
        let headers = [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CONTENT_ENCODING, encoding.header()),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ];
        return (headers, body).into_response();
    }
    respond(
        headers,
        hit.body.clone(),
        via_get,
        false,
        Some(hit.fresh_for()),
        None,
        limits,
    )
}

/// What ran a request: async-graphql, or a compiled plan (`graphql::plan`).
enum Executed {
    /// async-graphql's response, completed and tidied.
    Response(async_graphql::Response),
    /// A plan's answer, its errors tidied.
    Planned(crate::graphql::plan::Answer),
}

/// Executes a prepared request: by its compiled plan when a plan covers the operation and
/// the document and operation passed validation before, with these variables or with
/// others and these fit (`Plan::run` checks); else on the
/// schema that skips validation when it can, then completes and tidies the response.
async fn run_operation(
    state: &AppState,
    request: async_graphql::Request,
    scope: RequestScope,
    document: Option<Arc<super::documents::Prepared>>,
    budget: &Arc<CallBudget>,
    notes: &Arc<ResponseNotes>,
) -> Executed {
    let operation_name = request.operation_name.clone();
    let verdict = VerdictKey::of(&request);
    let known_valid = document.as_ref().is_some_and(|d| d.known_valid(&verdict));
    let planner = &state.schemas.planner;
    if let Some(document) = &document
        && (known_valid || document.operation_valid(operation_name.as_deref()))
        && let Some(plan) = document.plan(operation_name.as_deref(), planner)
        && let Some(mut answer) = budget
            .scope(plan.run(planner, &scope, &request.variables, known_valid))
            .await
    {
        state.metrics.planned();
        tidy_errors(&mut answer.errors);
        return Executed::Planned(answer);
    }
    let variables = request.variables.clone();
    let schema = match known_valid {
        true => &state.schemas.revalidated,
        false => &state.schemas.full,
    };
    let mut request = request.data(scope).data(notes.clone());
    if let Some(document) = &document {
        document.attach(&mut request);
    }
    let mut response = budget.scope(schema.execute(request)).await;
    if let Some(document) = &document
        && !known_valid
        && passed_validation(&response)
    {
        document.mark_valid(operation_name.as_deref(), verdict);
    }
    // async-graphql answers `data: null` when the only root field fails; the field
    // errors (they have a path) say the operation ran, so completion puts the nulls where
    // the spec does (a nullable root field is null in place; `data` is null only when a
    // non-null one failed).
    if response.data == async_graphql::Value::Null && response.errors.iter().any(|e| !e.path.is_empty()) {
        response.data = async_graphql::Value::Object(Default::default());
    }
    if let Some(document) = document
        && !completion::complete(
            &document.document,
            operation_name.as_deref(),
            &variables,
            &state.types,
            &mut response.data,
        )
    {
        response.data = async_graphql::Value::Null;
    }
    tidy_errors(&mut response.errors);
    Executed::Response(response)
}

/// The HTTP response for a rendered answer: plain JSON to a POST; to a GET, with the
/// caching headers of data fresh for `fresh_for` (`caching`).
fn respond(
    headers: &HeaderMap,
    body: Bytes,
    via_get: bool,
    has_errors: bool,
    fresh_for: Option<std::time::Duration>,
    tagged: Option<Bytes>,
    limits: &super::RequestLimits,
) -> Response {
    if !via_get {
        return ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    let freshness = caching::Freshness {
        has_errors,
        fresh_for,
        cap: limits.http_max_age,
        tagged,
    };
    caching::respond(headers, body, &freshness)
}

/// A rendered answer on its way out.
struct Answer {
    body: Bytes,
    /// Whether `body` has `extensions` (its last entry).
    extended: bool,
    has_errors: bool,
    fresh_for: Option<std::time::Duration>,
}

/// `respond` for a request charged to a budget: `extensions.cost` (requested, actual and
/// the budget's standing) added to the body and the `RateLimit-*` header fields; a GET's
/// `ETag` stays the answer's without its cost.
fn respond_costed(
    headers: &HeaderMap,
    answer: Answer,
    (requested, actual, standing): (Cost, Cost, crate::demand::Standing),
    via_get: bool,
    limits: &super::RequestLimits,
) -> Response {
    let costed = demand::with_cost(
        &answer.body,
        answer.extended,
        &demand::cost_json(requested, actual, &standing),
    );
    let mut response = respond(
        headers,
        Bytes::from(costed),
        via_get,
        answer.has_errors,
        answer.fresh_for,
        Some(answer.body),
        limits,
    );
    demand::headers(response.headers_mut(), &standing);
    response
}

/// Whether a response shows that its request passed validation: every error it has (if
/// any) came from a field, which carries a path. Errors from before execution (syntax,
/// validation, depth and complexity limits, an unknown operation name) never do.
fn passed_validation(response: &async_graphql::Response) -> bool {
    !response.errors.iter().any(is_request_error)
}

/// Whether an error is a verdict on the request itself rather than a field's (it has no path).
pub(super) fn is_request_error(error: &async_graphql::ServerError) -> bool {
    error.path.is_empty()
}

fn refuse_by_limits(state: &AppState, error: &limits::LimitError) -> Response {
    state.metrics.rejected(Rejection::DocumentLimits);
    refuse(StatusCode::BAD_REQUEST, ErrorCode::BadUserInput, &error.to_string())
}

/// Every error gets a code, a bounded message, and there are at most `MAX_ERRORS`.
pub(super) fn tidy_errors(errors: &mut Vec<async_graphql::ServerError>) {
    if errors.len() > MAX_ERRORS {
        let omitted = errors.len() - (MAX_ERRORS - 1);
        errors.truncate(MAX_ERRORS - 1);
        let mut summary = async_graphql::ServerError::new(format!("{omitted} more errors omitted"), None);
        summary.extensions = Some(GatewayError::new(ErrorCode::BadUserInput, "").extensions());
        errors.push(summary);
    }
    for error in errors {
        code_request_error(error);
        if error.message.len() > MAX_ERROR_MESSAGE_BYTES {
            let mut cut = MAX_ERROR_MESSAGE_BYTES;
            while !error.message.is_char_boundary(cut) {
                cut -= 1;
            }
            error.message.truncate(cut);
            error.message.push_str("… (message cut)");
        }
    }
}

/// Serializes the response into at most `max` bytes (`data` unless `with_data` is false,
/// then `errors` and
/// `extensions` when there are any: extensions last, so `demand::with_cost` can add to
/// them), and says whether it has extensions; or answers with an error saying the
/// response was too large (without ever holding more than `max` bytes of it).
fn render(response: &async_graphql::Response, with_data: bool, max: usize) -> Result<(Vec<u8>, bool), Box<Response>> {
    let mut body = Capped {
        bytes: Vec::with_capacity(1024),
        max,
    };
    let extended = !response.extensions.is_empty();
    let written = (|| {
        use std::io::Write;
        if with_data {
            body.write_all(b"{\"data\":")?;
            serde_json::to_writer(&mut body, &response.data)?;
            if !response.errors.is_empty() {
                body.write_all(b",")?;
            }
        } else {
            body.write_all(b"{")?;
        }
        if !response.errors.is_empty() {
            body.write_all(b"\"errors\":")?;
            serde_json::to_writer(&mut body, &response.errors)?;
        }
        if extended {
            body.write_all(b",\"extensions\":")?;
            serde_json::to_writer(&mut body, &response.extensions)?;
        }
        body.write_all(b"}")?;
        Ok::<_, std::io::Error>(())
    })();
    match written {
        Ok(()) => Ok((body.bytes, extended)),
        Err(_) => Err(too_large(max)),
    }
}

/// A plan's answer as a response body (as `render` writes one: `data`, then `errors` and
/// `extensions` when there are any), in at most `max` bytes, and whether it has extensions.
fn render_planned(answer: crate::graphql::plan::Answer, max: usize) -> Result<(Vec<u8>, bool), Box<Response>> {
    let scan_cut = answer.scan_cut;
    let (start, errors) = answer.into_start();
    if start.len() >= max {
        return Err(too_large(max));
    }
    let mut body = Capped { bytes: start, max };
    let written = (|| {
        use std::io::Write;
        if !errors.is_empty() {
            body.write_all(b",\"errors\":")?;
            serde_json::to_writer(&mut body, &errors)?;
        }
        if scan_cut {
            body.write_all(b",\"extensions\":{\"timelineScanCut\":true}")?;
        }
        body.write_all(b"}")
    })();
    match written {
        Ok(()) => Ok((body.bytes, scan_cut)),
        Err(_) => Err(too_large(max)),
    }
}

/// The answer to a request whose response would pass `max` bytes.
fn too_large(max: usize) -> Box<Response> {
    Box::new(refuse(
        StatusCode::OK,
        ErrorCode::BadUserInput,
        &format!(
            "the response would be larger than {max} bytes (graphql.max_response_bytes); select fewer fields or items"
        ),
    ))
}

/// A writer that refuses to grow past `max` bytes.
struct Capped {
    bytes: Vec<u8>,
    max: usize,
}

impl std::io::Write for Capped {
    #[inline]
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }
    #[inline]
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
        if self.bytes.len() + data.len() > self.max {
            return Err(std::io::Error::other("response size cap"));
        }
        self.bytes.extend_from_slice(data);
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
