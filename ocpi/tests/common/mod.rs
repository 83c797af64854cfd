//! Locating the shared specification directory.
#![allow(dead_code)]

use std::path::PathBuf;

/// `OCPI_SPEC_DIR`, or `../shared/ocpi` beside the workspace. `None` (after printing that the
/// test is skipped) when absent; a panic when absent under `CI=true`.
pub fn spec_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("OCPI_SPEC_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ocpi"))
        });
    if dir.join("README.md").exists() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{test}: OCPI specification directory {} is missing (CI=true)",
            dir.display()
        );
    }
    eprintln!(
        "{test}: SKIPPED, OCPI specification directory {} not found",
        dir.display()
    );
    None
}

pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
