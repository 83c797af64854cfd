//! OCPP 2.1
