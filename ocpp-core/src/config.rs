//! Engine configuration.

use std::time::Duration;

use ocpp_types::{DecodeOptions, Protocol};

use crate::BootState;

/// Settings of an [`crate::Engine`], for both roles.
///
/// Build one with [`Config::default`] and change the public fields.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The station identity, used in log fields only.
    pub station_id: String,
    /// How long an outgoing CALL waits for its answer. Default 30 s.
    pub call_timeout: Duration,
    /// How incoming payloads are read: strict (the default) or lenient for a real-world charger.
    pub decode_options: DecodeOptions,
    /// How outgoing payloads are validated before they are sent. Default strict.
    pub encode_options: DecodeOptions,
    /// How many outgoing CALLs may wait behind the outstanding one. Default 1024.
    pub max_queued_calls: usize,
    /// How many incoming CALLs may wait while the application has not answered the previous one
    /// (the peer should send one at a time; further ones are answered `GenericError`). Default 16.
    pub max_queued_incoming: usize,
    /// The boot state the session starts in. A CSMS that knows the station was accepted before
    /// (a reconnect without a new BootNotification, which 1.6 and 2.x allow) sets
    /// [`BootState::Accepted`]. Default [`BootState::NotBooted`].
    pub boot_state: BootState,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            station_id: String::new(),
            call_timeout: Duration::from_secs(30),
            decode_options: DecodeOptions::STRICT,
            encode_options: DecodeOptions::STRICT,
            max_queued_calls: 1024,
            max_queued_incoming: 16,
            boot_state: BootState::NotBooted,
        }
    }
}

/// Settings that only the charging-station role has: the boot, the heartbeat and the retry rules
/// of the offline queue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StationConfig<P: Protocol> {
    /// The BootNotification the engine sends at start-up and on every boot retry.
    pub boot_request: P::AnyRequest,
    /// How long to wait before sending the BootNotification again when it failed (CALLERROR,
    /// timeout, invalid answer) or was answered with an interval of 0. Default 60 s.
    pub boot_retry_interval: Duration,
    /// The heartbeat interval used when the accepted BootNotification gives an interval of 0.
    /// Default 300 s.
    pub heartbeat_interval: Duration,
    /// Skip a heartbeat when another CALL was sent within the last heartbeat interval (the 2.x
    /// specification allows it, and 1.6 implementations commonly do it). Default `false`: a
    /// heartbeat goes out at every interval, which also keeps the station's clock in sync.
    pub skip_heartbeat_after_traffic: bool,
    /// How many times a transaction-related message is sent before it is given up on (1.6
    /// `TransactionMessageAttempts`, 2.x `OCPPCommCtrlr.MessageAttempts` of the
    /// `TransactionEvent` component). Default 3.
    pub transaction_message_attempts: u32,
    /// The base wait before sending a failed transaction-related message again, multiplied by
    /// the number of failed attempts (1.6 `TransactionMessageRetryInterval`, 2.x
    /// `OCPPCommCtrlr.MessageAttemptInterval`). Default 60 s.
    pub transaction_message_retry_interval: Duration,
}

impl<P: Protocol> StationConfig<P> {
    /// Defaults around the BootNotification to send.
    pub fn new(boot_request: P::AnyRequest) -> Self {
        StationConfig {
            boot_request,
            boot_retry_interval: Duration::from_secs(60),
            heartbeat_interval: Duration::from_secs(300),
            skip_heartbeat_after_traffic: false,
            transaction_message_attempts: 3,
            transaction_message_retry_interval: Duration::from_secs(60),
        }
    }
}
