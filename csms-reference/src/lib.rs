//! The reference CSMS.
