//! The 2.x device model shared by `ocpp201::device_model` and `ocpp21::device_model`.
//!
//! The two versions' messages are distinct Rust types with the same names and shapes, so the
//! implementation is written once, here, and expanded in each version crate, where `crate::`
//! names that crate's generated types.

/// Expands the device model (see `ocpp201::device_model`) in the calling version crate, for
/// the given `Protocol` type. Not meant to be called from anywhere else.
#[doc(hidden)]
#[macro_export]
// `crate::` deliberately names the calling version crate (its generated types).
#[allow(clippy::crate_in_macro_def)]
macro_rules! __device_model_2x {
    ($protocol:ty) => {
        use std::collections::BTreeMap;
        use std::future::Future;
        use std::pin::Pin;
        use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
        use std::task::{Context, Poll};

        use ocpp_core::{async_trait, CallContext, CallError};
        use ocpp_types::{DateTime, Decimal, Text};

        use crate::station::ProvisioningHandler;
        use crate::*;

        /// The protocol of this crate.
        type P = $protocol;

        /// Starts a task in the application's runtime, e.g. `Arc::new(|t| { tokio::spawn(t); })`.
        pub type Spawner = Arc<dyn Fn(Pin<Box<dyn Future<Output = ()> + Send>>) + Send + Sync>;

        /// Where a variable lives: component and variable, with their instances and the EVSE.
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub struct VariableKey {
            /// Component name (`OCPPCommCtrlr`, `EVSE`, ...).
            pub component: Text,
            /// Component instance.
            pub component_instance: Option<Text>,
            /// EVSE id of the component.
            pub evse: Option<i64>,
            /// Connector id of the component (with `evse`).
            pub connector: Option<i64>,
            /// Variable name.
            pub variable: Text,
            /// Variable instance.
            pub variable_instance: Option<Text>,
        }

        impl VariableKey {
            /// A variable of a station-wide component without instances.
            pub fn new(component: impl Into<Text>, variable: impl Into<Text>) -> Self {
                VariableKey {
                    component: component.into(),
                    component_instance: None,
                    evse: None,
                    connector: None,
                    variable: variable.into(),
                    variable_instance: None,
                }
            }

            /// The same variable on an EVSE (and connector).
            pub fn at_evse(mut self, evse: i64, connector: Option<i64>) -> Self {
                self.evse = Some(evse);
                self.connector = connector;
                self
            }

            /// The same variable with a variable instance.
            pub fn instance(mut self, instance: impl Into<Text>) -> Self {
                self.variable_instance = Some(instance.into());
                self
            }

            /// The key a message addresses.
            pub fn of(component: &ComponentType, variable: &VariableType) -> Self {
                VariableKey {
                    component: component.name.clone(),
                    component_instance: component.instance.clone(),
                    evse: component.evse.as_ref().map(|e| e.id),
                    connector: component.evse.as_ref().and_then(|e| e.connector_id),
                    variable: variable.name.clone(),
                    variable_instance: variable.instance.clone(),
                }
            }

            fn same_component(&self, other: &VariableKey) -> bool {
                (
                    &self.component,
                    &self.component_instance,
                    self.evse,
                    self.connector,
                ) == (
                    &other.component,
                    &other.component_instance,
                    other.evse,
                    other.connector,
                )
            }

            /// The component as a message writes it.
            pub fn component_type(&self) -> ComponentType {
                let mut c = ComponentType::new(self.component.clone());
                c.instance = self.component_instance.clone();
                c.evse = self.evse.map(|id| {
                    let mut e = EVSEType::new(id);
                    e.connector_id = self.connector;
                    e
                });
                c
            }

            /// The variable as a message writes it.
            pub fn variable_type(&self) -> VariableType {
                let mut v = VariableType::new(self.variable.clone());
                v.instance = self.variable_instance.clone();
                v
            }
        }

        /// One variable: its `Actual` value and characteristics.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct Variable {
            /// The `Actual` value.
            pub value: Text,
            /// Who may read and write it.
            pub mutability: MutabilityEnumType,
            /// The data type values must have.
            pub data_type: DataEnumType,
            /// Unit of the value (reported in the characteristics).
            pub unit: Option<Text>,
            /// Smallest value (numbers) or length (strings).
            pub min: Option<Decimal>,
            /// Largest value (numbers) or length (strings).
            pub max: Option<Decimal>,
            /// Allowed values of an option or sequence list, comma-separated.
            pub values_list: Option<Text>,
            /// A change takes effect after a reboot.
            pub reboot_required: bool,
        }

        impl Variable {
            /// A read-write variable of this data type and value.
            pub fn new(data_type: DataEnumType, value: impl Into<Text>) -> Self {
                Variable {
                    value: value.into(),
                    mutability: MutabilityEnumType::ReadWrite,
                    data_type,
                    unit: None,
                    min: None,
                    max: None,
                    values_list: None,
                    reboot_required: false,
                }
            }

            /// The same variable, read-only.
            pub fn readonly(mut self) -> Self {
                self.mutability = MutabilityEnumType::ReadOnly;
                self
            }

            /// The same variable with these bounds.
            pub fn limits(mut self, min: i64, max: i64) -> Self {
                self.min = Some(Decimal::from(min));
                self.max = Some(Decimal::from(max));
                self
            }

            /// The same variable with this list of allowed values.
            pub fn values(mut self, list: &str) -> Self {
                self.values_list = Some(list.into());
                self
            }

            /// The same variable with this unit.
            pub fn unit(mut self, unit: &str) -> Self {
                self.unit = Some(unit.into());
                self
            }

            /// The same variable, taking effect after a reboot.
            pub fn reboot(mut self) -> Self {
                self.reboot_required = true;
                self
            }

            /// Whether `value` fits the data type, the limits and the allowed values.
            pub fn accepts(&self, value: &str) -> bool {
                let in_range =
                    |d: Decimal| self.min.is_none_or(|m| d >= m) && self.max.is_none_or(|m| d <= m);
                let allowed = |item: &str| {
                    self.values_list
                        .as_deref()
                        .is_none_or(|l| l.split(',').any(|a| a.trim() == item))
                };
                match &self.data_type {
                    DataEnumType::Integer => value.parse::<i64>().is_ok_and(|v| in_range(v.into())),
                    DataEnumType::Decimal => value.parse::<Decimal>().is_ok_and(in_range),
                    DataEnumType::Boolean => matches!(value, "true" | "false"),
                    DataEnumType::DateTime => DateTime::parse(value).is_ok(),
                    DataEnumType::OptionList => allowed(value),
                    DataEnumType::String => {
                        let n = Decimal::from(value.chars().count() as u64);
                        value.chars().count() <= 2500 && in_range(n)
                    }
                    // Sequence and member lists: every item allowed.
                    _ => value.split(',').filter(|s| !s.is_empty()).all(allowed),
                }
            }

            fn report(&self, key: &VariableKey) -> ReportDataType {
                let mut attr = VariableAttributeType::new();
                attr.type_ = Some(AttributeEnumType::Actual);
                attr.mutability = Some(self.mutability.clone());
                if self.mutability != MutabilityEnumType::WriteOnly {
                    attr.value = Some(self.value.clone());
                }
                let mut ch = VariableCharacteristicsType::new(self.data_type.clone(), false);
                ch.unit = self.unit.clone();
                ch.min_limit = self.min;
                ch.max_limit = self.max;
                ch.values_list = self.values_list.clone();
                let mut r = ReportDataType::new(key.component_type(), key.variable_type(), vec![attr]);
                r.variable_characteristics = Some(ch);
                r
            }
        }

        struct Inner {
            vars: BTreeMap<VariableKey, Variable>,
            page_size: usize,
        }

        /// The device model of a station: shared, thread-safe, cheap to clone.
        #[derive(Clone)]
        pub struct DeviceModel {
            inner: Arc<Mutex<Inner>>,
        }

        impl std::fmt::Debug for DeviceModel {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("DeviceModel")
                    .field("variables", &self.lock().vars.len())
                    .finish()
            }
        }

        impl Default for DeviceModel {
            fn default() -> Self {
                Self::new()
            }
        }

        /// Variables that a summary inventory lists.
        const SUMMARY: [&str; 3] = ["AvailabilityState", "Available", "Problem"];

        impl DeviceModel {
            /// An empty model with pages of 20 variables.
            pub fn new() -> Self {
                DeviceModel {
                    inner: Arc::new(Mutex::new(Inner {
                        vars: BTreeMap::new(),
                        page_size: 20,
                    })),
                }
            }

            /// The controller variables a simple one-EVSE, one-connector station needs, at common
            /// defaults (heartbeat and sampling intervals, measurands, authorization and transaction
            /// settings, message limits, identity, availability). Change or add with
            /// [`insert`](Self::insert) and [`set_value`](Self::set_value) before the station starts.
            pub fn standard() -> Self {
                use DataEnumType as D;
                let m = Self::new();
                let measurands = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,\
                                  Current.Offered,Voltage,SoC,Power.Offered,Energy.Active.Export.Register";
                let add = |c: &str, v: &str, var: Variable| m.insert(VariableKey::new(c, v), var);
                add(
                    "OCPPCommCtrlr",
                    "HeartbeatInterval",
                    Variable::new(D::Integer, "300").limits(0, 86400).unit("s"),
                );
                add(
                    "OCPPCommCtrlr",
                    "WebSocketPingInterval",
                    Variable::new(D::Integer, "30").limits(0, 3600).unit("s"),
                );
                add(
                    "OCPPCommCtrlr",
                    "NetworkConfigurationPriority",
                    Variable::new(D::SequenceList, "0").reboot(),
                );
                add(
                    "OCPPCommCtrlr",
                    "OfflineThreshold",
                    Variable::new(D::Integer, "60").unit("s"),
                );
                add(
                    "SampledDataCtrlr",
                    "TxUpdatedInterval",
                    Variable::new(D::Integer, "60").limits(0, 86400).unit("s"),
                );
                add(
                    "SampledDataCtrlr",
                    "TxUpdatedMeasurands",
                    Variable::new(
                        D::MemberList,
                        "Energy.Active.Import.Register,Power.Active.Import",
                    )
                    .values(measurands),
                );
                add(
                    "SampledDataCtrlr",
                    "TxEndedMeasurands",
                    Variable::new(D::MemberList, "Energy.Active.Import.Register").values(measurands),
                );
                add(
                    "AlignedDataCtrlr",
                    "Interval",
                    Variable::new(D::Integer, "0").limits(0, 86400).unit("s"),
                );
                add(
                    "AlignedDataCtrlr",
                    "Measurands",
                    Variable::new(D::MemberList, "Energy.Active.Import.Register").values(measurands),
                );
                add(
                    "AuthCtrlr",
                    "AuthorizeRemoteStart",
                    Variable::new(D::Boolean, "false"),
                );
                add(
                    "AuthCtrlr",
                    "LocalPreAuthorize",
                    Variable::new(D::Boolean, "false"),
                );
                add(
                    "AuthCtrlr",
                    "LocalAuthorizeOffline",
                    Variable::new(D::Boolean, "true"),
                );
                add(
                    "TxCtrlr",
                    "EVConnectionTimeOut",
                    Variable::new(D::Integer, "60").unit("s"),
                );
                add(
                    "TxCtrlr",
                    "StopTxOnEVSideDisconnect",
                    Variable::new(D::Boolean, "true"),
                );
                add("TxCtrlr", "TxStartPoint", Variable::new(D::MemberList, "PowerPathClosed").values("ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"));
                add("TxCtrlr", "TxStopPoint", Variable::new(D::MemberList, "EVConnected,Authorized").values("ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"));
                for v in ["ItemsPerMessage", "BytesPerMessage"] {
                    let size = if v == "ItemsPerMessage" {
                        "20"
                    } else {
                        "65000"
                    };
                    for i in ["GetReport", "GetVariables", "SetVariables"] {
                        m.insert(
                            VariableKey::new("DeviceDataCtrlr", v).instance(i),
                            Variable::new(D::Integer, size).readonly(),
                        );
                    }
                }
                add(
                    "SecurityCtrlr",
                    "SecurityProfile",
                    Variable::new(D::Integer, "0").readonly(),
                );
                add(
                    "SmartChargingCtrlr",
                    "Enabled",
                    Variable::new(D::Boolean, "true"),
                );
                add(
                    "SmartChargingCtrlr",
                    "RateUnit",
                    Variable::new(D::MemberList, "A,W").values("A,W").readonly(),
                );
                add(
                    "ChargingStation",
                    "Model",
                    Variable::new(D::String, "Simulated").readonly(),
                );
                add(
                    "ChargingStation",
                    "VendorName",
                    Variable::new(D::String, "ocpp-rs").readonly(),
                );
                add(
                    "ChargingStation",
                    "AvailabilityState",
                    Variable::new(D::OptionList, "Available")
                        .values("Available,Occupied,Reserved,Unavailable,Faulted")
                        .readonly(),
                );
                let evse =
                    |v: &str, var: Variable| m.insert(VariableKey::new("EVSE", v).at_evse(1, None), var);
                evse(
                    "AvailabilityState",
                    Variable::new(D::OptionList, "Available")
                        .values("Available,Occupied,Reserved,Unavailable,Faulted")
                        .readonly(),
                );
                evse(
                    "Power",
                    Variable::new(D::Decimal, "22000").unit("W").readonly(),
                );
                m.insert(
                    VariableKey::new("Connector", "ConnectorType").at_evse(1, Some(1)),
                    Variable::new(D::String, "cType2").readonly(),
                );
                m
            }

            fn lock(&self) -> MutexGuard<'_, Inner> {
                self.inner.lock().unwrap_or_else(PoisonError::into_inner)
            }

            /// Adds or replaces a variable.
            pub fn insert(&self, key: VariableKey, variable: Variable) {
                self.lock().vars.insert(key, variable);
            }

            /// The current value of a variable.
            pub fn get(&self, key: &VariableKey) -> Option<String> {
                self.lock().vars.get(key).map(|v| v.value.to_string())
            }

            /// The current value of a variable read as an integer.
            pub fn get_i64(&self, key: &VariableKey) -> Option<i64> {
                self.get(key).and_then(|v| v.trim().parse().ok())
            }

            /// The whole variable.
            pub fn variable(&self, key: &VariableKey) -> Option<Variable> {
                self.lock().vars.get(key).cloned()
            }

            /// Sets a value as the station itself does: mutability and validation do not apply.
            /// Returns `false` when the variable is unknown.
            pub fn set_value(&self, key: &VariableKey, value: impl Into<Text>) -> bool {
                match self.lock().vars.get_mut(key) {
                    Some(v) => {
                        v.value = value.into();
                        true
                    }
                    None => false,
                }
            }

            /// How many variables a `NotifyReport` page holds.
            pub fn page_size(&self) -> usize {
                self.lock().page_size
            }

            /// Sets how many variables a `NotifyReport` page holds (at least 1).
            pub fn set_page_size(&self, size: usize) {
                self.lock().page_size = size.max(1);
            }

            fn find(&self, key: &VariableKey) -> Result<Variable, bool> {
                let inner = self.lock();
                match inner.vars.get(key) {
                    Some(v) => Ok(v.clone()),
                    None => Err(inner.vars.keys().any(|k| k.same_component(key))),
                }
            }

            /// The answer to a `GetVariables`.
            pub fn get_variables(&self, request: &GetVariablesRequest) -> GetVariablesResponse {
                use GetVariableStatusEnumType as S;
                let results = request.get_variable_data.iter().map(|d| {
                    let key = VariableKey::of(&d.component, &d.variable);
                    let (status, value) = match self.find(&key) {
                        Err(false) => (S::UnknownComponent, None),
                        Err(true) => (S::UnknownVariable, None),
                        Ok(_) if !actual(&d.attribute_type) => (S::NotSupportedAttributeType, None),
                        Ok(v) if v.mutability == MutabilityEnumType::WriteOnly => (S::Rejected, None),
                        Ok(v) => (S::Accepted, Some(v.value)),
                    };
                    let mut r = GetVariableResultType::new(status, d.component.clone(), d.variable.clone());
                    r.attribute_type = d.attribute_type.clone();
                    r.attribute_value = value;
                    r
                });
                GetVariablesResponse::new(results.collect())
            }

            /// The answer to a `SetVariables`; accepted values are stored.
            pub fn set_variables(&self, request: &SetVariablesRequest) -> SetVariablesResponse {
                use SetVariableStatusEnumType as S;
                let results = request.set_variable_data.iter().map(|d| {
                    let key = VariableKey::of(&d.component, &d.variable);
                    let status = match self.find(&key) {
                        Err(false) => S::UnknownComponent,
                        Err(true) => S::UnknownVariable,
                        Ok(_) if !actual(&d.attribute_type) => S::NotSupportedAttributeType,
                        Ok(v) if v.mutability == MutabilityEnumType::ReadOnly => S::Rejected,
                        Ok(v) if !v.accepts(&d.attribute_value) => S::Rejected,
                        Ok(v) => {
                            self.set_value(&key, d.attribute_value.clone());
                            if v.reboot_required {
                                S::RebootRequired
                            } else {
                                S::Accepted
                            }
                        }
                    };
                    let mut r = SetVariableResultType::new(status, d.component.clone(), d.variable.clone());
                    r.attribute_type = d.attribute_type.clone();
                    r
                });
                SetVariablesResponse::new(results.collect())
            }

            /// The variables a base report lists.
            pub fn report(&self, base: &ReportBaseEnumType) -> Vec<ReportDataType> {
                let inner = self.lock();
                inner
                    .vars
                    .iter()
                    .filter(|(k, v)| match base {
                        ReportBaseEnumType::ConfigurationInventory => {
                            v.mutability != MutabilityEnumType::ReadOnly
                        }
                        ReportBaseEnumType::SummaryInventory => SUMMARY.contains(&k.variable.as_str()),
                        _ => true,
                    })
                    .map(|(k, v)| v.report(k))
                    .collect()
            }

            /// The `NotifyReport` pages of a base report (empty when nothing matches).
            pub fn report_pages(
                &self,
                request_id: i64,
                base: &ReportBaseEnumType,
                generated_at: DateTime,
            ) -> Vec<NotifyReportRequest> {
                let data = self.report(base);
                let size = self.page_size();
                let pages = data.len().div_ceil(size);
                data.chunks(size)
                    .enumerate()
                    .map(|(i, chunk)| {
                        let mut p = NotifyReportRequest::new(request_id, generated_at, i as i64);
                        p.report_data = Some(chunk.to_vec());
                        p.tbc = (i + 1 < pages).then_some(true);
                        p
                    })
                    .collect()
            }

            /// A `ProvisioningHandler`: `GetVariables`, `SetVariables` and `GetBaseReport` from this
            /// model, every other provisioning call from `hardware`. `spawner` starts the task that
            /// sends the report pages after the `GetBaseReport` answer.
            pub fn with_provisioning<H: ProvisioningHandler>(
                &self,
                hardware: H,
                spawner: Spawner,
            ) -> WithDeviceModel<H> {
                WithDeviceModel {
                    model: self.clone(),
                    hardware,
                    spawner,
                }
            }
        }

        fn actual(a: &Option<AttributeEnumType>) -> bool {
            matches!(a, None | Some(AttributeEnumType::Actual))
        }

        /// Lets the runtime run other tasks a few times, so that the answer of the handler that
        /// started the report is written before the first page.
        struct YieldTimes(u8);

        impl Future for YieldTimes {
            type Output = ();
            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
                if self.0 == 0 {
                    return Poll::Ready(());
                }
                self.0 -= 1;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }

        /// A `ProvisioningHandler`: the device-model calls from a [`DeviceModel`], every other
        /// provisioning call from the vendor's handler. Made by [`DeviceModel::with_provisioning`].
        pub struct WithDeviceModel<H> {
            model: DeviceModel,
            hardware: H,
            spawner: Spawner,
        }

        impl<H> std::fmt::Debug for WithDeviceModel<H> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("WithDeviceModel")
                    .field("model", &self.model)
                    .finish_non_exhaustive()
            }
        }

        impl<H> WithDeviceModel<H> {
            /// The model.
            pub fn model(&self) -> &DeviceModel {
                &self.model
            }
        }

        type Ctx = CallContext<P>;
        type R<T> = Result<T, CallError>;

        #[rustfmt::skip]
        #[async_trait]
        impl<H: ProvisioningHandler> ProvisioningHandler for WithDeviceModel<H> {
            async fn get_variables(&self, _: &Ctx, r: GetVariablesRequest) -> R<GetVariablesResponse> {
                Ok(self.model.get_variables(&r))
            }
            async fn set_variables(&self, _: &Ctx, r: SetVariablesRequest) -> R<SetVariablesResponse> {
                Ok(self.model.set_variables(&r))
            }
            async fn get_base_report(&self, c: &Ctx, r: GetBaseReportRequest) -> R<GetBaseReportResponse> {
                if matches!(r.report_base, ReportBaseEnumType::UnknownValue(_)) {
                    return Ok(GetBaseReportResponse::new(GenericDeviceModelStatusEnumType::NotSupported));
                }
                let pages = self.model.report_pages(r.request_id, &r.report_base, DateTime::now());
                if pages.is_empty() {
                    return Ok(GetBaseReportResponse::new(GenericDeviceModelStatusEnumType::EmptyResultSet));
                }
                let peer = c.peer.clone();
                (self.spawner)(Box::pin(async move {
                    YieldTimes(16).await;
                    for page in pages {
                        // A failed page ends the report: the CSMS sees `tbc` without a next page.
                        if peer.call(page).await.is_err() {
                            return;
                        }
                    }
                }));
                Ok(GetBaseReportResponse::new(GenericDeviceModelStatusEnumType::Accepted))
            }
            async fn get_report(&self, c: &Ctx, r: GetReportRequest) -> R<GetReportResponse> {
                self.hardware.get_report(c, r).await
            }
            async fn reset(&self, c: &Ctx, r: ResetRequest) -> R<ResetResponse> {
                self.hardware.reset(c, r).await
            }
            async fn set_network_profile(&self, c: &Ctx, r: SetNetworkProfileRequest) -> R<SetNetworkProfileResponse> {
                self.hardware.set_network_profile(c, r).await
            }
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            fn comp(name: &str) -> ComponentType {
                ComponentType::new(name.into())
            }
            fn var(name: &str) -> VariableType {
                VariableType::new(name.into())
            }

            #[test]
            fn get_variables_statuses() {
                let m = DeviceModel::standard();
                let mut wo = VariableKey::new("SecurityCtrlr", "BasicAuthPassword");
                wo.variable_instance = None;
                let mut secret = Variable::new(DataEnumType::String, "pw");
                secret.mutability = MutabilityEnumType::WriteOnly;
                m.insert(wo, secret);
                let mut target = GetVariableDataType::new(comp("OCPPCommCtrlr"), var("HeartbeatInterval"));
                target.attribute_type = Some(AttributeEnumType::Target);
                let r = m.get_variables(&GetVariablesRequest::new(vec![
                    GetVariableDataType::new(comp("OCPPCommCtrlr"), var("HeartbeatInterval")),
                    GetVariableDataType::new(comp("OCPPCommCtrlr"), var("Nope")),
                    GetVariableDataType::new(comp("Nope"), var("HeartbeatInterval")),
                    target,
                    GetVariableDataType::new(comp("SecurityCtrlr"), var("BasicAuthPassword")),
                ]));
                let s: Vec<_> = r
                    .get_variable_result
                    .iter()
                    .map(|r| r.attribute_status.clone())
                    .collect();
                use GetVariableStatusEnumType as S;
                assert_eq!(
                    s,
                    [
                        S::Accepted,
                        S::UnknownVariable,
                        S::UnknownComponent,
                        S::NotSupportedAttributeType,
                        S::Rejected
                    ]
                );
                assert_eq!(
                    r.get_variable_result[0].attribute_value.as_deref(),
                    Some("300")
                );
                assert_eq!(r.get_variable_result[4].attribute_value, None);
            }

            #[test]
            fn set_variables_statuses() {
                let m = DeviceModel::standard();
                let set =
                    |c: &str, v: &str, val: &str| SetVariableDataType::new(val.into(), comp(c), var(v));
                let r = m.set_variables(&SetVariablesRequest::new(vec![
                    set("OCPPCommCtrlr", "HeartbeatInterval", "60"),
                    set("OCPPCommCtrlr", "HeartbeatInterval", "sixty"),
                    set("OCPPCommCtrlr", "HeartbeatInterval", "100000"),
                    set("SecurityCtrlr", "SecurityProfile", "1"),
                    set("OCPPCommCtrlr", "NetworkConfigurationPriority", "1"),
                    set("SampledDataCtrlr", "TxUpdatedMeasurands", "Voltage,SoC"),
                    set("SampledDataCtrlr", "TxUpdatedMeasurands", "Colour"),
                    set("AuthCtrlr", "LocalPreAuthorize", "yes"),
                    set("Nope", "X", "1"),
                ]));
                let s: Vec<_> = r
                    .set_variable_result
                    .iter()
                    .map(|r| r.attribute_status.clone())
                    .collect();
                use SetVariableStatusEnumType as S;
                assert_eq!(
                    s,
                    [
                        S::Accepted,
                        S::Rejected,
                        S::Rejected,
                        S::Rejected,
                        S::RebootRequired,
                        S::Accepted,
                        S::Rejected,
                        S::Rejected,
                        S::UnknownComponent
                    ]
                );
                assert_eq!(
                    m.get_i64(&VariableKey::new("OCPPCommCtrlr", "HeartbeatInterval")),
                    Some(60)
                );
                let evse_power = VariableKey::new("EVSE", "Power").at_evse(1, None);
                assert_eq!(m.get(&evse_power).as_deref(), Some("22000"));
            }

            #[test]
            fn report_pages_carry_seq_no_and_tbc() {
                let m = DeviceModel::standard();
                m.set_page_size(4);
                let full = m.report(&ReportBaseEnumType::FullInventory).len();
                let pages = m.report_pages(7, &ReportBaseEnumType::FullInventory, DateTime::now());
                assert_eq!(pages.len(), full.div_ceil(4));
                for (i, p) in pages.iter().enumerate() {
                    assert_eq!(p.seq_no, i as i64);
                    assert_eq!(p.request_id, 7);
                    assert_eq!(p.tbc, (i + 1 < pages.len()).then_some(true));
                }
                let total: usize = pages
                    .iter()
                    .map(|p| p.report_data.as_ref().unwrap().len())
                    .sum();
                assert_eq!(total, full);
                let config = m.report(&ReportBaseEnumType::ConfigurationInventory);
                assert!(config.len() < full && !config.is_empty());
                assert!(config
                    .iter()
                    .all(|r| r.variable_attribute[0].mutability != Some(MutabilityEnumType::ReadOnly)));
                let summary = m.report(&ReportBaseEnumType::SummaryInventory);
                assert_eq!(summary.len(), 2);
                let empty = DeviceModel::new();
                assert!(empty
                    .report_pages(1, &ReportBaseEnumType::FullInventory, DateTime::now())
                    .is_empty());
            }
        }

    };
}
