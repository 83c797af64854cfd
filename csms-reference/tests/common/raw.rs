//! Stations written by hand: a WebSocket of a given OCPP subprotocol and CALLs as JSON frames,
//! for what the library's station role would not send.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A client WebSocket.
pub type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

/// Opens `ws://{ocpp}/ocpp/{id}` offering `subprotocol` (`ocpp1.6`, `ocpp2.0.1`, ...).
pub async fn ws(ocpp: &str, id: &str, subprotocol: &str) -> Ws {
    let mut req = format!("ws://{ocpp}/ocpp/{id}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", subprotocol.parse().unwrap());
    let tcp = TcpStream::connect(ocpp).await.unwrap();
    tokio_tungstenite::client_async(req, tcp).await.unwrap().0
}

/// Sends the CALL `[2, id, action, payload]` and gives the whole answer frame (CALLRESULT or
/// CALLERROR) with the same message id; at most 10 s.
pub async fn ws_call(w: &mut Ws, id: &str, action: &str, payload: Value) -> Value {
    w.send(Message::text(json!([2, id, action, payload]).to_string()))
        .await
        .unwrap();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), w.next())
            .await
            .expect("an answer in time")
            .expect("connection open")
            .unwrap();
        if let Message::Text(t) = m {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            assert_eq!(v[1], id, "{v}");
            return v;
        }
    }
}
