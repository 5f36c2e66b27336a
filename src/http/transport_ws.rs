//! The GraphQL over WebSocket protocol (`graphql-transport-ws`, as enisdenjo/graphql-ws's
//! PROTOCOL.md defines it) as a state machine without I/O: what the server does on each
//! client message and on the init timeout, including every close code the protocol names.
//! async-graphql 7's own WebSocket closes with 1002/1011 and has no 4408/4409, which
//! clients (graphql-ws, Apollo's `GraphQLWsLink`, urql) read as transport failures and
//! retry, so the socket handler drives this instead (issue 33; not wired yet).

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::{Value, json};

/// The WebSocket subprotocol clients must ask for.
pub const SUBPROTOCOL: &str = "graphql-transport-ws";

/// The protocol's close codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// A message that is not the protocol's.
    BadRequest,
    /// `subscribe` before `connection_ack`.
    Unauthorized,
    /// The connection's credentials were refused, or have expired.
    Forbidden,
    /// The client did not ask for `graphql-transport-ws`.
    SubprotocolNotAcceptable,
    /// No `connection_init` in time.
    InitialisationTimeout,
    /// `subscribe` with the id of an operation still running.
    SubscriberAlreadyExists,
    /// A second `connection_init`, or more operations than one connection may run.
    TooManyRequests,
    InternalServerError,
}

impl CloseCode {
    pub fn code(self) -> u16 {
        match self {
            CloseCode::BadRequest => 4400,
            CloseCode::Unauthorized => 4401,
            CloseCode::Forbidden => 4403,
            CloseCode::SubprotocolNotAcceptable => 4406,
            CloseCode::InitialisationTimeout => 4408,
            CloseCode::SubscriberAlreadyExists => 4409,
            CloseCode::TooManyRequests => 4429,
            CloseCode::InternalServerError => 4500,
        }
    }
}

/// The operation of a `subscribe` message.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// The document; absent when a persisted one is named instead.
    #[serde(default)]
    pub query: Option<String>,
    /// A trusted document's id (`documentId`, Relay's `doc_id`).
    #[serde(default, alias = "doc_id")]
    pub document_id: Option<String>,
    #[serde(default)]
    pub operation_name: Option<String>,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default)]
    pub extensions: Option<Value>,
}

/// What the server does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send this text frame.
    Send(String),
    /// Authenticate the `connection_init` payload (`Authorization` in it, as over HTTP),
    /// then call `Session::authenticated`.
    Authenticate(Option<Value>),
    /// Start operation `id`.
    Start {
        id: String,
        operation: Operation,
    },
    /// Stop operation `id` (the client completed it).
    Stop(String),
    /// Close the socket with this code and reason.
    Close(CloseCode, String),
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitingInit,
    Authenticating,
    Acknowledged,
    Closed,
}

/// One socket's protocol state.
#[derive(Debug)]
pub struct Session {
    state: State,
    running: HashSet<String>,
    max_running: usize,
}

/// A client message as the protocol shapes it.
#[derive(Deserialize)]
struct Message {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    payload: Option<Value>,
}

impl Session {
    /// A new socket's session, allowing `max_running` operations at once.
    pub fn new(max_running: usize) -> Session {
        Session {
            state: State::AwaitingInit,
            running: HashSet::new(),
            max_running,
        }
    }

    fn close(&mut self, code: CloseCode, reason: impl Into<String>) -> Step {
        self.state = State::Closed;
        self.running.clear();
        Step::Close(code, reason.into())
    }

    /// The step for one text frame from the client.
    pub fn receive(&mut self, text: &str) -> Step {
        if self.state == State::Closed {
            return Step::Nothing;
        }
        let Ok(message) = serde_json::from_str::<Message>(text) else {
            return self.close(CloseCode::BadRequest, "Invalid message received");
        };
        let payload_is_object = message.payload.as_ref().is_none_or(|p| p.is_object() || p.is_null());
        match message.kind.as_str() {
            "connection_init" if !payload_is_object => self.close(CloseCode::BadRequest, "Invalid message received"),
            "connection_init" if self.state != State::AwaitingInit => {
                self.close(CloseCode::TooManyRequests, "Too many initialisation requests")
            }
            "connection_init" => {
                self.state = State::Authenticating;
                Step::Authenticate(message.payload.filter(|p| !p.is_null()))
            }
            "ping" => Step::Send(json!({"type": "pong"}).to_string()),
            "pong" => Step::Nothing,
            "subscribe" => self.subscribe(message),
            "complete" => match message.id.filter(|id| !id.is_empty()) {
                Some(id) if self.running.remove(&id) => Step::Stop(id),
                Some(_) => Step::Nothing,
                None => self.close(CloseCode::BadRequest, "Invalid message received"),
            },
            _ => self.close(CloseCode::BadRequest, "Invalid message received"),
        }
    }

    fn subscribe(&mut self, message: Message) -> Step {
        let id = message.id.filter(|id| !id.is_empty());
        let operation = message
            .payload
            .and_then(|p| serde_json::from_value::<Operation>(p).ok());
        // An operation names its document: its text, a trusted document's id, or an APQ hash.
        let operation = operation.filter(|o| o.query.is_some() || o.document_id.is_some() || o.extensions.is_some());
        let (Some(id), Some(operation)) = (id, operation) else {
            return self.close(CloseCode::BadRequest, "Invalid message received");
        };
        if self.state != State::Acknowledged {
            return self.close(CloseCode::Unauthorized, "Unauthorized");
        }
        if self.running.contains(&id) {
            return self.close(
                CloseCode::SubscriberAlreadyExists,
                format!("Subscriber for {id} already exists"),
            );
        }
        if self.running.len() >= self.max_running {
            return self.close(
                CloseCode::TooManyRequests,
                format!("Too many subscriptions: at most {} per connection", self.max_running),
            );
        }
        self.running.insert(id.clone());
        Step::Start { id, operation }
    }

    /// The step once the `connection_init` payload was authenticated (`accepted`) or
    /// refused.
    pub fn authenticated(&mut self, accepted: bool) -> Step {
        match (self.state, accepted) {
            (State::Authenticating, true) => {
                self.state = State::Acknowledged;
                Step::Send(json!({"type": "connection_ack"}).to_string())
            }
            (State::Authenticating, false) => self.close(CloseCode::Forbidden, "Forbidden"),
            _ => Step::Nothing,
        }
    }

    /// The step when the init timeout passed: a close unless the connection was
    /// acknowledged.
    pub fn init_timed_out(&mut self) -> Step {
        match self.state {
            State::AwaitingInit | State::Authenticating => {
                self.close(CloseCode::InitialisationTimeout, "Connection initialisation timeout")
            }
            _ => Step::Nothing,
        }
    }

    /// The step when the connection's credentials expire.
    pub fn expired(&mut self) -> Step {
        match self.state {
            State::Closed => Step::Nothing,
            _ => self.close(CloseCode::Forbidden, "Forbidden: the token has expired"),
        }
    }

    /// A `next` frame of operation `id` with `result`, while it runs.
    pub fn next(&self, id: &str, result: &Value) -> Option<String> {
        self.running
            .contains(id)
            .then(|| json!({"id": id, "type": "next", "payload": result}).to_string())
    }

    /// The frame that ends operation `id` from the server's side: `complete`, or `error`
    /// with `errors` when it could not start (a document that does not validate).
    pub fn finish(&mut self, id: &str, errors: Option<&Value>) -> Option<String> {
        if !self.running.remove(id) {
            return None;
        }
        Some(match errors {
            Some(errors) => json!({"id": id, "type": "error", "payload": errors}).to_string(),
            None => json!({"id": id, "type": "complete"}).to_string(),
        })
    }

    /// Operations running.
    pub fn running(&self) -> usize {
        self.running.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INIT: &str = r#"{"type":"connection_init","payload":{"Authorization":"Bearer t"}}"#;
    const SUBSCRIBE: &str =
        r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { callLogEvents { kind } }"}}"#;

    fn acknowledged(max: usize) -> Session {
        let mut session = Session::new(max);
        assert_eq!(
            session.receive(INIT),
            Step::Authenticate(Some(json!({"Authorization": "Bearer t"})))
        );
        assert_eq!(
            session.authenticated(true),
            Step::Send(r#"{"type":"connection_ack"}"#.into())
        );
        session
    }

    fn code(step: Step) -> u16 {
        match step {
            Step::Close(code, _) => code.code(),
            other => panic!("not a close: {other:?}"),
        }
    }

    #[test]
    fn init_ack_subscribe_next_and_complete() {
        let mut session = acknowledged(10);
        let Step::Start { id, operation } = session.receive(SUBSCRIBE) else {
            panic!("a start");
        };
        assert_eq!(
            (id.as_str(), operation.query.as_deref().unwrap_or_default()),
            ("1", "subscription { callLogEvents { kind } }")
        );
        assert_eq!(
            session.next("1", &json!({"data": {}})).as_deref(),
            Some(r#"{"id":"1","type":"next","payload":{"data":{}}}"#)
        );
        assert_eq!(
            session.receive(r#"{"type":"ping"}"#),
            Step::Send(r#"{"type":"pong"}"#.into())
        );
        assert_eq!(
            session.receive(r#"{"id":"1","type":"complete"}"#),
            Step::Stop("1".into())
        );
        assert_eq!(
            session.next("1", &json!({})),
            None,
            "nothing after the client completed it"
        );
        // The same id may be used again once it completed.
        assert!(matches!(session.receive(SUBSCRIBE), Step::Start { .. }));
        assert_eq!(
            session.finish("1", None).as_deref(),
            Some(r#"{"id":"1","type":"complete"}"#)
        );
        assert_eq!(session.running(), 0);
    }

    #[test]
    fn each_close_code_of_the_protocol() {
        // 4400: not JSON, an unknown type, a subscribe without a query.
        assert_eq!(code(Session::new(1).receive("{not json")), 4400);
        assert_eq!(code(acknowledged(1).receive(r#"{"type":"start","id":"1"}"#)), 4400);
        assert_eq!(
            code(acknowledged(1).receive(r#"{"id":"1","type":"subscribe","payload":{}}"#)),
            4400
        );
        assert_eq!(
            code(Session::new(1).receive(r#"{"type":"connection_init","payload":"x"}"#)),
            4400
        );
        // 4401: subscribe before the ack (also while authenticating).
        assert_eq!(code(Session::new(1).receive(SUBSCRIBE)), 4401);
        let mut authenticating = Session::new(1);
        authenticating.receive(INIT);
        assert_eq!(code(authenticating.receive(SUBSCRIBE)), 4401);
        // 4403: refused credentials, or an expired token.
        let mut refused = Session::new(1);
        refused.receive(INIT);
        assert_eq!(code(refused.authenticated(false)), 4403);
        assert_eq!(code(acknowledged(1).expired()), 4403);
        // 4408: no connection_init in time (and not once acknowledged).
        assert_eq!(code(Session::new(1).init_timed_out()), 4408);
        assert_eq!(acknowledged(1).init_timed_out(), Step::Nothing);
        // 4409: a running id again.
        let mut duplicate = acknowledged(5);
        duplicate.receive(SUBSCRIBE);
        assert_eq!(code(duplicate.receive(SUBSCRIBE)), 4409);
        // 4429: a second connection_init; more subscriptions than allowed.
        assert_eq!(code(acknowledged(1).receive(INIT)), 4429);
        let mut full = acknowledged(1);
        full.receive(SUBSCRIBE);
        assert_eq!(
            code(full.receive(r#"{"id":"2","type":"subscribe","payload":{"query":"subscription { x }"}}"#)),
            4429
        );
        assert_eq!(CloseCode::SubprotocolNotAcceptable.code(), 4406);
    }

    #[test]
    fn a_closed_session_ignores_everything() {
        let mut session = Session::new(1);
        assert_eq!(code(session.receive("[]")), 4400);
        assert_eq!(session.receive(INIT), Step::Nothing);
        assert_eq!(session.init_timed_out(), Step::Nothing);
        assert_eq!(session.expired(), Step::Nothing);
    }

    #[test]
    fn a_validation_error_ends_its_operation_with_an_error_frame() {
        let mut session = acknowledged(2);
        session.receive(SUBSCRIBE);
        let errors = json!([{"message": "Unknown field", "extensions": {"code": "BAD_USER_INPUT"}}]);
        assert_eq!(
            session.finish("1", Some(&errors)).as_deref(),
            Some(
                r#"{"id":"1","type":"error","payload":[{"message":"Unknown field","extensions":{"code":"BAD_USER_INPUT"}}]}"#
            )
        );
        assert_eq!(session.finish("1", None), None);
    }
}
