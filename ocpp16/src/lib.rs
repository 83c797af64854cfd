//! OCPP 1.6
