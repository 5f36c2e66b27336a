//! A graphql-transport-ws client for tests (tokio-tungstenite): opens a socket to the
//! gateway's `/graphql`, sends protocol messages, reads them back with a deadline.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::TestApp;

/// A graphql-transport-ws client socket.
pub struct Socket(tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>);

impl Socket {
    pub async fn open(app: &TestApp, protocol: Option<&str>) -> Socket {
        Socket::open_url(&app.url, protocol).await
    }

    /// A socket to the gateway at `graphql_url` (its `/graphql` URL).
    pub async fn open_url(graphql_url: &str, protocol: Option<&str>) -> Socket {
        let url = graphql_url.replacen("http://", "ws://", 1);
        let mut request = url.into_client_request().unwrap();
        if let Some(protocol) = protocol {
            request
                .headers_mut()
                .insert("sec-websocket-protocol", protocol.parse().unwrap());
        }
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the WebSocket opens");
        Socket(socket)
    }

    /// Opened and acknowledged with `payload` as `connection_init`'s.
    pub async fn ready(app: &TestApp, payload: Value) -> Socket {
        Socket::ready_url(&app.url, payload).await
    }

    /// `ready` for the gateway at `graphql_url`.
    pub async fn ready_url(graphql_url: &str, payload: Value) -> Socket {
        let mut socket = Socket::open_url(graphql_url, Some("graphql-transport-ws")).await;
        socket
            .send(json!({"type": "connection_init", "payload": payload}))
            .await;
        assert_eq!(socket.next().await["type"], "connection_ack");
        socket
    }

    pub async fn send(&mut self, message: Value) {
        self.0.send(Message::Text(message.to_string().into())).await.unwrap();
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The next protocol message other than a ping (answered), within 10 s.
    pub async fn next(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.0.next())
                .await
                .expect("a message within 10 s")
                .expect("the socket is open")
                .expect("a frame");
            match message {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(text.as_str()).unwrap();
                    if value["type"] == "ping" {
                        self.send(json!({"type": "pong"})).await;
                        continue;
                    }
                    return value;
                }
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The close frame's code and reason, within 10 s.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.0.next())
                .await
                .expect("a close within 10 s");
            match message {
                Some(Ok(Message::Close(Some(frame)))) => return (u16::from(frame.code), frame.reason.to_string()),
                Some(Ok(Message::Close(None))) | None => panic!("closed without a code"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("socket error before a close frame: {e}"),
            }
        }
    }
}
