//! Examples and the station simulator.
