//! Examples and the station simulator `ocpp-sim` (see [`sim`]), with a small recording CSMS
//! for its tests and examples ([`csms`]).

pub mod csms;
pub mod sim;
