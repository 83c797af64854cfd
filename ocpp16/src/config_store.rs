//! The charging station's configuration keys (OCPP 1.6 section 9), answering `GetConfiguration`
//! and `ChangeConfiguration` for a station built on this crate.
//!
//! A [`ConfigStore`] holds keys with their value, a read-only flag, a reboot-required flag and
//! the kind of value they take. [`ConfigStore::standard`] starts with the keys of the Core
//! profile (and a few of Smart Charging and Local Auth List Management) at common defaults.
//! The store is cheap to clone (it is shared) and thread-safe, so the station's own code reads
//! the current values (`store.get("MeterValueSampleInterval")`) while the CSMS changes them.
//!
//! Rules, as the specification gives them:
//! - `GetConfiguration` without keys returns every key (unless [`ConfigKey::hidden`]); keys the
//!   store does not know are listed in `unknownKey`. At most `GetConfigurationMaxKeys` keys are
//!   answered when more are asked for (the specification leaves the excess open; the first ones
//!   are answered).
//! - `ChangeConfiguration` of an unknown key answers `NotSupported`, of a read-only key or an
//!   invalid value `Rejected`, of a key that takes effect after a reboot `RebootRequired`
//!   (the value is stored), otherwise `Accepted`.
//!
//! [`WithConfiguration`] wraps the vendor's own [`CoreHandler`] (reset, remote start, unlock,
//! ... which touch hardware) and answers the two configuration calls from the store:
//!
//! ```
//! use ocpp16::config_store::ConfigStore;
//! use ocpp16::station::{CoreHandler, Router};
//!
//! struct Hardware; // implements reset, unlock_connector, ... for the real charger
//! impl CoreHandler for Hardware {}
//!
//! let store = ConfigStore::standard();
//! store.set_value("NumberOfConnectors", "2");
//! let router = Router::new().core(store.with_core(Hardware));
//! assert_eq!(store.get("HeartbeatInterval").as_deref(), Some("300"));
//! # let _ = router;
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use ocpp_core::{async_trait, CallContext, CallError};
use ocpp_types::Text;

use crate::station::CoreHandler;
use crate::*;

/// What values a key takes; a `ChangeConfiguration` with another value is `Rejected`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueKind {
    /// Any string of at most 500 characters.
    Text,
    /// `true` or `false`.
    Boolean,
    /// An integer between the two bounds (inclusive).
    Integer {
        /// The smallest value.
        min: i64,
        /// The largest value.
        max: i64,
    },
    /// A comma-separated list; when `allowed` is not empty, each item must be one of them.
    List {
        /// The allowed items (empty: anything).
        allowed: Vec<String>,
    },
}

impl ValueKind {
    /// A non-negative integer (seconds, counts).
    pub const fn count() -> Self {
        ValueKind::Integer {
            min: 0,
            max: i64::MAX,
        }
    }

    /// Whether `value` is valid for this kind.
    pub fn accepts(&self, value: &str) -> bool {
        match self {
            ValueKind::Text => value.chars().count() <= 500,
            ValueKind::Boolean => matches!(value, "true" | "false"),
            ValueKind::Integer { min, max } => value
                .trim()
                .parse::<i64>()
                .is_ok_and(|v| (*min..=*max).contains(&v)),
            ValueKind::List { allowed } => {
                allowed.is_empty()
                    || value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .all(|item| allowed.iter().any(|a| a == item))
            }
        }
    }
}

/// One configuration key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigKey {
    /// The current value (`None`: the key exists but has no value).
    pub value: Option<String>,
    /// The CSMS cannot change it (`ChangeConfiguration` answers `Rejected`).
    pub readonly: bool,
    /// A change takes effect after a reboot (`ChangeConfiguration` answers `RebootRequired`).
    pub reboot_required: bool,
    /// The values it takes.
    pub kind: ValueKind,
    /// Not listed by a `GetConfiguration` without keys (still readable by name).
    pub hidden: bool,
}

impl ConfigKey {
    /// A read-write key of this kind with this value.
    pub fn new(value: impl Into<String>, kind: ValueKind) -> Self {
        ConfigKey {
            value: Some(value.into()),
            readonly: false,
            reboot_required: false,
            kind,
            hidden: false,
        }
    }

    /// The same key, read-only.
    pub fn readonly(mut self) -> Self {
        self.readonly = true;
        self
    }

    /// The same key, taking effect after a reboot.
    pub fn reboot_required(mut self) -> Self {
        self.reboot_required = true;
        self
    }
}

/// The configuration keys of a station: shared, thread-safe, cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ConfigStore {
    keys: Arc<Mutex<BTreeMap<String, ConfigKey>>>,
}

fn measurands() -> ValueKind {
    ValueKind::List {
        allowed: [
            "Energy.Active.Import.Register",
            "Energy.Active.Export.Register",
            "Energy.Active.Import.Interval",
            "Power.Active.Import",
            "Power.Active.Export",
            "Power.Offered",
            "Current.Import",
            "Current.Offered",
            "Voltage",
            "SoC",
            "Temperature",
            "Frequency",
        ]
        .map(String::from)
        .to_vec(),
    }
}

impl ConfigStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The keys of the Core profile (and the Smart Charging and Local Auth List keys a
    /// simulator or simple charger needs) at common defaults. Read-only keys describe the
    /// station (`NumberOfConnectors` 1, `SupportedFeatureProfiles`, limits); change them with
    /// [`set_value`](Self::set_value) before the station starts.
    pub fn standard() -> Self {
        use ValueKind::*;
        let s = Self::new();
        let count = ValueKind::count;
        let rw = |k: &str, v: &str, kind: ValueKind| s.insert(k, ConfigKey::new(v, kind));
        let ro =
            |k: &str, v: &str, kind: ValueKind| s.insert(k, ConfigKey::new(v, kind).readonly());
        rw("AllowOfflineTxForUnknownId", "false", Boolean);
        rw("AuthorizationCacheEnabled", "false", Boolean);
        rw("AuthorizeRemoteTxRequests", "false", Boolean);
        rw("ClockAlignedDataInterval", "0", count());
        rw("ConnectionTimeOut", "60", count());
        rw("HeartbeatInterval", "300", count());
        rw("LocalAuthorizeOffline", "true", Boolean);
        rw("LocalPreAuthorize", "false", Boolean);
        rw(
            "MeterValuesAlignedData",
            "Energy.Active.Import.Register",
            measurands(),
        );
        rw(
            "MeterValuesSampledData",
            "Energy.Active.Import.Register,Power.Active.Import",
            measurands(),
        );
        rw("MeterValueSampleInterval", "60", count());
        rw("ResetRetries", "1", count());
        rw("StopTransactionOnEVSideDisconnect", "true", Boolean);
        rw("StopTransactionOnInvalidId", "true", Boolean);
        rw("StopTxnAlignedData", "", measurands());
        rw("StopTxnSampledData", "", measurands());
        rw("TransactionMessageAttempts", "3", count());
        rw("TransactionMessageRetryInterval", "60", count());
        rw("UnlockConnectorOnEVSideDisconnect", "true", Boolean);
        rw("WebSocketPingInterval", "30", count());
        rw("LocalAuthListEnabled", "false", Boolean);
        rw("AuthorizationKey", "", Text);
        rw("SecurityProfile", "0", Integer { min: 0, max: 3 });
        ro(
            "ConnectorPhaseRotation",
            "NotApplicable",
            List { allowed: vec![] },
        );
        ro("GetConfigurationMaxKeys", "50", count());
        ro("NumberOfConnectors", "1", count());
        ro(
            "SupportedFeatureProfiles",
            "Core,SmartCharging,RemoteTrigger,LocalAuthListManagement",
            List { allowed: vec![] },
        );
        ro("LocalAuthListMaxLength", "100", count());
        ro("SendLocalListMaxLength", "100", count());
        ro("ChargeProfileMaxStackLevel", "10", count());
        ro(
            "ChargingScheduleAllowedChargingRateUnit",
            "Current,Power",
            List { allowed: vec![] },
        );
        ro("ChargingScheduleMaxPeriods", "24", count());
        ro("MaxChargingProfilesInstalled", "10", count());
        s
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ConfigKey>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds or replaces a key.
    pub fn insert(&self, key: impl Into<String>, config: ConfigKey) {
        self.lock().insert(key.into(), config);
    }

    /// The current value of a key.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lock().get(key).and_then(|k| k.value.clone())
    }

    /// The current value of a key read as an integer.
    pub fn get_i64(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(|v| v.trim().parse().ok())
    }

    /// The whole key (flags and kind included).
    pub fn key(&self, key: &str) -> Option<ConfigKey> {
        self.lock().get(key).cloned()
    }

    /// Sets a value as the station itself does: read-only keys and validation do not apply.
    /// Returns `false` when the key is unknown.
    pub fn set_value(&self, key: &str, value: impl Into<String>) -> bool {
        match self.lock().get_mut(key) {
            Some(k) => {
                k.value = Some(value.into());
                true
            }
            None => false,
        }
    }

    /// Applies a change as the CSMS asks it, with the rules of `ChangeConfiguration`.
    pub fn change(&self, key: &str, value: &str) -> ConfigurationStatus {
        let mut keys = self.lock();
        let Some(k) = keys.get_mut(key) else {
            return ConfigurationStatus::NotSupported;
        };
        if k.readonly || !k.kind.accepts(value) {
            return ConfigurationStatus::Rejected;
        }
        k.value = Some(value.to_owned());
        if k.reboot_required {
            ConfigurationStatus::RebootRequired
        } else {
            ConfigurationStatus::Accepted
        }
    }

    /// The answer to a `GetConfiguration`.
    pub fn get_configuration(&self, request: &GetConfigurationRequest) -> GetConfigurationResponse {
        let max = self
            .get_i64("GetConfigurationMaxKeys")
            .and_then(|m| usize::try_from(m).ok())
            .filter(|m| *m > 0)
            .unwrap_or(usize::MAX);
        let keys = self.lock();
        let entry = |name: &str, k: &ConfigKey| {
            let mut kv = KeyValue::new(name.into(), k.readonly);
            kv.value = k.value.as_deref().map(Text::from);
            kv
        };
        let mut response = GetConfigurationResponse::new();
        let mut found = Vec::new();
        let mut unknown = Vec::new();
        match request.key.as_deref() {
            None | Some([]) => found.extend(
                keys.iter()
                    .filter(|(_, k)| !k.hidden)
                    .map(|(n, k)| entry(n, k)),
            ),
            Some(asked) => {
                for name in asked.iter().take(max) {
                    match keys.get(name.as_str()) {
                        Some(k) => found.push(entry(name, k)),
                        None => unknown.push(name.clone()),
                    }
                }
            }
        }
        response.configuration_key = (!found.is_empty()).then_some(found);
        response.unknown_key = (!unknown.is_empty()).then_some(unknown);
        response
    }

    /// The answer to a `ChangeConfiguration`.
    pub fn change_configuration(
        &self,
        request: &ChangeConfigurationRequest,
    ) -> ChangeConfigurationResponse {
        ChangeConfigurationResponse::new(self.change(&request.key, &request.value))
    }

    /// A [`CoreHandler`] that answers the configuration calls from this store and every other
    /// Core call with `hardware`.
    pub fn with_core<H: CoreHandler>(&self, hardware: H) -> WithConfiguration<H> {
        WithConfiguration {
            store: self.clone(),
            hardware,
        }
    }
}

/// Answers `GetConfiguration` and `ChangeConfiguration` only (other Core calls: `NotSupported`).
#[async_trait]
impl CoreHandler for ConfigStore {
    async fn get_configuration(
        &self,
        _: &CallContext<Ocpp16>,
        request: GetConfigurationRequest,
    ) -> Result<GetConfigurationResponse, CallError> {
        Ok(ConfigStore::get_configuration(self, &request))
    }

    async fn change_configuration(
        &self,
        _: &CallContext<Ocpp16>,
        request: ChangeConfigurationRequest,
    ) -> Result<ChangeConfigurationResponse, CallError> {
        Ok(ConfigStore::change_configuration(self, &request))
    }
}

/// A [`CoreHandler`]: the configuration calls from a [`ConfigStore`], every other Core call from
/// the vendor's handler. Made by [`ConfigStore::with_core`].
#[derive(Debug, Clone)]
pub struct WithConfiguration<H> {
    store: ConfigStore,
    hardware: H,
}

impl<H> WithConfiguration<H> {
    /// The store.
    pub fn store(&self) -> &ConfigStore {
        &self.store
    }

    /// The vendor's handler.
    pub fn hardware(&self) -> &H {
        &self.hardware
    }
}

type Ctx = CallContext<Ocpp16>;
type R<T> = Result<T, CallError>;

#[rustfmt::skip]
#[async_trait]
impl<H: CoreHandler> CoreHandler for WithConfiguration<H> {
    async fn get_configuration(&self, _: &Ctx, r: GetConfigurationRequest) -> R<GetConfigurationResponse> {
        Ok(self.store.get_configuration(&r))
    }
    async fn change_configuration(&self, _: &Ctx, r: ChangeConfigurationRequest) -> R<ChangeConfigurationResponse> {
        Ok(self.store.change_configuration(&r))
    }
    async fn change_availability(&self, c: &Ctx, r: ChangeAvailabilityRequest) -> R<ChangeAvailabilityResponse> {
        self.hardware.change_availability(c, r).await
    }
    async fn clear_cache(&self, c: &Ctx, r: ClearCacheRequest) -> R<ClearCacheResponse> {
        self.hardware.clear_cache(c, r).await
    }
    async fn data_transfer(&self, c: &Ctx, r: DataTransferRequest) -> R<DataTransferResponse> {
        self.hardware.data_transfer(c, r).await
    }
    async fn remote_start_transaction(&self, c: &Ctx, r: RemoteStartTransactionRequest) -> R<RemoteStartTransactionResponse> {
        self.hardware.remote_start_transaction(c, r).await
    }
    async fn remote_stop_transaction(&self, c: &Ctx, r: RemoteStopTransactionRequest) -> R<RemoteStopTransactionResponse> {
        self.hardware.remote_stop_transaction(c, r).await
    }
    async fn reset(&self, c: &Ctx, r: ResetRequest) -> R<ResetResponse> {
        self.hardware.reset(c, r).await
    }
    async fn unlock_connector(&self, c: &Ctx, r: UnlockConnectorRequest) -> R<UnlockConnectorResponse> {
        self.hardware.unlock_connector(c, r).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(store: &ConfigStore, keys: &[&str]) -> GetConfigurationResponse {
        let mut r = GetConfigurationRequest::new();
        r.key = Some(keys.iter().map(|k| Text::from(*k)).collect());
        store.get_configuration(&r)
    }

    #[test]
    fn get_lists_known_and_unknown_keys() {
        let s = ConfigStore::standard();
        let r = get(
            &s,
            &["HeartbeatInterval", "NoSuchKey", "NumberOfConnectors"],
        );
        let keys = r.configuration_key.unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].key, "HeartbeatInterval");
        assert_eq!(keys[0].value.as_deref(), Some("300"));
        assert!(!keys[0].readonly);
        assert!(keys[1].readonly);
        assert_eq!(r.unknown_key.unwrap(), vec!["NoSuchKey".to_string()]);
        let all = s.get_configuration(&GetConfigurationRequest::new());
        assert!(all.configuration_key.unwrap().len() > 20);
        assert!(all.unknown_key.is_none());
    }

    #[test]
    fn change_follows_the_rules() {
        let s = ConfigStore::standard();
        s.insert(
            "WebSocketPingInterval",
            ConfigKey::new("30", ValueKind::count()).reboot_required(),
        );
        assert_eq!(
            s.change("HeartbeatInterval", "60"),
            ConfigurationStatus::Accepted
        );
        assert_eq!(s.get_i64("HeartbeatInterval"), Some(60));
        assert_eq!(
            s.change("HeartbeatInterval", "soon"),
            ConfigurationStatus::Rejected
        );
        assert_eq!(
            s.change("HeartbeatInterval", "-1"),
            ConfigurationStatus::Rejected
        );
        assert_eq!(
            s.change("NumberOfConnectors", "3"),
            ConfigurationStatus::Rejected
        );
        assert_eq!(s.get("NumberOfConnectors").as_deref(), Some("1"));
        assert_eq!(s.change("Nope", "1"), ConfigurationStatus::NotSupported);
        assert_eq!(
            s.change("WebSocketPingInterval", "10"),
            ConfigurationStatus::RebootRequired
        );
        assert_eq!(s.get("WebSocketPingInterval").as_deref(), Some("10"));
        assert_eq!(
            s.change("LocalPreAuthorize", "yes"),
            ConfigurationStatus::Rejected
        );
        assert_eq!(
            s.change("MeterValuesSampledData", "Voltage,SoC"),
            ConfigurationStatus::Accepted
        );
        assert_eq!(
            s.change("MeterValuesSampledData", "Voltage,Colour"),
            ConfigurationStatus::Rejected
        );
        // The station itself may set a read-only key.
        assert!(s.set_value("NumberOfConnectors", "2"));
        assert_eq!(s.get_i64("NumberOfConnectors"), Some(2));
    }

    #[test]
    fn max_keys_bounds_the_answer() {
        let s = ConfigStore::standard();
        s.set_value("GetConfigurationMaxKeys", "1");
        let r = get(&s, &["HeartbeatInterval", "ResetRetries"]);
        assert_eq!(r.configuration_key.unwrap().len(), 1);
    }
}
