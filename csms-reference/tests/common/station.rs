//! Simulated stations: a `StationClient` of one OCPP version booted against the CSMS, the
//! dispatchers that answer the CSMS's calls, and typed CALLs from JSON.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use csms_reference::server::RunningCsms;
use ocpp_core::transport::StationClient;
use ocpp_core::{BootState, CallContext, CallError, Dispatch, MemoryQueue, Peer, StationConfig};
use ocpp_types::{DecodeOptions, ErrorCode, Protocol};
use serde_json::Value;

/// A station-side dispatcher answering CSMS calls from a table of JSON answers: an action
/// absent from the table is not supported, the answer `"CALLERROR"` gives a CALLERROR, and
/// the actions in `hang` are never answered.
pub struct Answers<P> {
    answers: Vec<(&'static str, &'static str)>,
    hang: Vec<&'static str>,
    _p: std::marker::PhantomData<fn() -> P>,
}

impl<P> Answers<P> {
    /// Answers from the table, none hanging.
    pub fn new(answers: Vec<(&'static str, &'static str)>) -> Self {
        Self::hanging(answers, vec![])
    }

    /// Answers from the table; the actions in `hang` are never answered.
    pub fn hanging(answers: Vec<(&'static str, &'static str)>, hang: Vec<&'static str>) -> Self {
        Answers {
            answers,
            hang,
            _p: Default::default(),
        }
    }
}

#[async_trait]
impl<P: Protocol> Dispatch<P> for Answers<P> {
    async fn dispatch(
        &self,
        _: CallContext<P>,
        req: P::AnyRequest,
    ) -> Result<P::AnyResponse, CallError> {
        let action = P::request_action(&req);
        let name = P::action_name(action);
        if self.hang.contains(&name) {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        match self.answers.iter().find(|(a, _)| *a == name) {
            Some((_, "CALLERROR")) => {
                Err(CallError::new(ErrorCode::GenericError, "refused by test"))
            }
            Some((_, answer)) => Ok(P::decode_response(action, answer, &DecodeOptions::STRICT)
                .unwrap()
                .0),
            None => Err(ocpp_core::not_supported(name)),
        }
    }
    async fn dispatch_send(&self, _: CallContext<P>, _: P::AnyRequest) {}
}

/// A dispatcher that supports no call from the CSMS.
pub struct NoCalls;

#[async_trait]
impl<P: Protocol> Dispatch<P> for NoCalls {
    async fn dispatch(
        &self,
        _: CallContext<P>,
        req: P::AnyRequest,
    ) -> Result<P::AnyResponse, CallError> {
        Err(ocpp_core::not_supported(P::action_name(P::request_action(
            &req,
        ))))
    }
    async fn dispatch_send(&self, _: CallContext<P>, _: P::AnyRequest) {}
}

/// Starts the client of station `id`, version `P`, towards the CSMS at `ocpp_addr`
/// (`host:port`), with the BootNotification `boot` (JSON), the dispatcher `dispatch` and an
/// offline queue in memory; it connects and boots in the background.
pub fn start_client<P: Protocol>(
    ocpp_addr: &str,
    id: &str,
    boot: &str,
    dispatch: Arc<dyn Dispatch<P>>,
) -> StationClient {
    let a = P::action_from_name("BootNotification").unwrap();
    let boot = P::decode_request(a, boot, &DecodeOptions::STRICT)
        .unwrap()
        .0;
    StationClient::builder(format!("ws://{ocpp_addr}/ocpp"), id)
        .version::<P, _>(dispatch, StationConfig::new(boot), MemoryQueue::new())
        .start()
        .unwrap()
}

/// Connects station `id` of version `P` to the CSMS at `ocpp_addr` (`host:port`) with the
/// BootNotification `boot` (JSON) and the dispatcher `dispatch`, and waits (at most `within`)
/// until the boot is accepted.
pub async fn connect_to<P: Protocol>(
    ocpp_addr: &str,
    id: &str,
    boot: &str,
    dispatch: Arc<dyn Dispatch<P>>,
    within: Duration,
) -> (StationClient, Peer<P>) {
    let client = start_client(ocpp_addr, id, boot, dispatch);
    let mut st = client.status();
    tokio::time::timeout(
        within,
        st.wait_for(|s| s.boot == BootState::Accepted && s.connected.is_some()),
    )
    .await
    .expect("boot accepted in time")
    .unwrap();
    let peer = client.peer::<P>().unwrap();
    (client, peer)
}

/// [`connect_to`] the in-process CSMS with a 10 s bound on the boot.
pub async fn connect<P: Protocol>(
    csms: &RunningCsms,
    id: &str,
    boot: &str,
    dispatch: Arc<dyn Dispatch<P>>,
) -> (StationClient, Peer<P>) {
    let addr = csms.ocpp_addr.to_string();
    connect_to(&addr, id, boot, dispatch, Duration::from_secs(10)).await
}

/// A station answering the CSMS's calls from `answers` (see [`Answers`]).
pub async fn station<P: Protocol>(
    csms: &RunningCsms,
    id: &str,
    boot: &str,
    answers: Vec<(&'static str, &'static str)>,
) -> (StationClient, Peer<P>) {
    connect(csms, id, boot, Arc::new(Answers::<P>::new(answers))).await
}

/// Sends the CALL `action` with a JSON payload (validated strictly) and gives the JSON of the
/// CALLRESULT; panics on a CALLERROR.
pub async fn call<P: Protocol>(peer: &Peer<P>, action: &str, payload: Value) -> Value {
    call_text(peer, action, &payload.to_string()).await
}

/// [`call`] with the payload given as JSON text (numbers kept as written).
pub async fn call_text<P: Protocol>(peer: &Peer<P>, action: &str, payload: &str) -> Value {
    let a = P::action_from_name(action).unwrap();
    let req = P::decode_request(a, payload, &DecodeOptions::STRICT)
        .unwrap_or_else(|e| panic!("{action}: {e}"))
        .0;
    let resp = peer
        .call_any(req)
        .await
        .unwrap_or_else(|e| panic!("{action}: {e}"));
    serde_json::from_str(&P::encode_response(&resp, &DecodeOptions::STRICT).unwrap()).unwrap()
}
