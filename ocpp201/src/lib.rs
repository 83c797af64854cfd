//! OCPP 2.0.1
