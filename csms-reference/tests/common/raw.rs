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

/// Upgrades the TCP connection `tcp` (to `addr`) by hand to an OCPP WebSocket of station
/// `station` offering `subprotocol`, and gives the raw stream back after the `101` answer
/// (read byte by byte: nothing after the head is consumed).
pub async fn upgrade_tcp(
    mut tcp: TcpStream,
    addr: &str,
    station: &str,
    subprotocol: &str,
) -> TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let req = format!(
        "GET /ocpp/{station} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            tcp.read(&mut b).await.unwrap(),
            1,
            "the server answers the upgrade"
        );
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    tcp
}
