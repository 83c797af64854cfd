//! OCPI
