//! The charging station's device model (OCPP 2.x part B), answering `GetVariables`,
//! `SetVariables` and `GetBaseReport` (with its `NotifyReport` pages) for a station built on
//! this crate.
//!
//! A [`DeviceModel`] holds variables, each addressed by component (name, instance, EVSE,
//! connector) and variable (name, instance), with its `Actual` value, mutability, data type,
//! limits, allowed values and a reboot-required flag. [`DeviceModel::standard`] starts with
//! the variables a simple station and the simulator need. The model is shared and thread-safe:
//! the station's own code reads the current values while the CSMS changes them.
//!
//! Rules, as the specification gives them: an unknown component answers `UnknownComponent`, a
//! known component without that variable `UnknownVariable`; only the `Actual` attribute is kept
//! (others answer `NotSupportedAttributeType`); reading a `WriteOnly` variable and writing a
//! `ReadOnly` one answer `Rejected`, as does a value that breaks the data type, the limits or the
//! list of allowed values; a stored change of a reboot-required variable answers
//! `RebootRequired`. `GetBaseReport` answers `Accepted` (or `EmptyResultSet`) and then sends
//! the report in `NotifyReport` pages of [`DeviceModel::page_size`] variables (`seqNo` from 0,
//! `tbc` on every page but the last) through the context's peer, from a task started with the
//! [`Spawner`] given to [`DeviceModel::with_provisioning`].
//!
//! ```
//! # use std::sync::Arc;
//! use ocpp_core::async_trait;
//! # use ocpp201 as ocpp;
//! use ocpp::device_model::{DeviceModel, VariableKey};
//! use ocpp::station::{ProvisioningHandler, Router};
//!
//! struct Hardware; // implements reset and set_network_profile for the real charger
//! impl ProvisioningHandler for Hardware {}
//!
//! let model = DeviceModel::standard();
//! let key = VariableKey::new("OCPPCommCtrlr", "HeartbeatInterval");
//! assert_eq!(model.get(&key).as_deref(), Some("300"));
//! // A runtime's spawn starts the task that sends the NotifyReport pages.
//! let spawner: ocpp::device_model::Spawner = Arc::new(|task| drop(task));
//! let router = Router::new().provisioning(model.with_provisioning(Hardware, spawner));
//! # let _ = router;
//! ```

ocpp_core::__device_model_2x!(crate::Ocpp201);
