//! Schema-driven payload generation and mutation for the conformance tests.
