//! The simulator's station role against an implementation nobody here wrote: the Python `ocpp`
//! package (PyPI) acting as the CSMS (`tests/interop/sim_csms.py`), for OCPP 1.6 and 2.0.1.
//!
//! The interpreter is `$OCPP_INTEROP_PYTHON` (a venv made by `ocpp-core/tests/interop/setup.sh`).
//! When it is unset or cannot import `ocpp`, each test prints a SKIPPED line and passes, except
//! under `CI=true`, where it fails.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use examples::sim::{run, Scenario, SimConfig, Stats};
use ocpp_types::OcppVersion;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

fn python(test: &str) -> Option<String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let why = match std::env::var("OCPP_INTEROP_PYTHON") {
        Err(_) => "OCPP_INTEROP_PYTHON is not set".to_owned(),
        Ok(p) => {
            let ok = std::process::Command::new(&p)
                .args(["-c", "import ocpp.v16, ocpp.v201, websockets"])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Some(p);
            }
            format!("{p} cannot import the `ocpp` package")
        }
    };
    assert!(
        !ci,
        "{test}: {why}; run ocpp-core/tests/interop/setup.sh and export OCPP_INTEROP_PYTHON"
    );
    println!("SKIPPED {test}: {why} (run ocpp-core/tests/interop/setup.sh)");
    None
}

async fn python_csms(version: OcppVersion, label: &str) {
    let Some(py) = python(&format!("sim_against_python_csms_{label}")) else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/sim_csms.py");
    let mut child = Command::new(&py)
        .args([script, label, "4"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap_or_default();
    let port: u16 = first
        .strip_prefix("PORT ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("{first:?}"));
    let cfg = SimConfig {
        url: format!("ws://127.0.0.1:{port}/ocpp"),
        stations: 2,
        versions: vec![version],
        scenario: Scenario::Charging,
        ramp_up: 100.0,
        interval: Duration::from_millis(200),
        session: Duration::from_millis(800),
        pause: Duration::from_millis(200),
        duration: Duration::from_millis(2500),
        id_prefix: format!("PY{}", label.replace('.', "")),
        ..SimConfig::default()
    };
    let s = run(cfg, Arc::new(Stats::default())).await;
    println!("{s}");
    let out = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap_or_default();
    println!("python CSMS {label}: {out}");
    let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON summary");
    assert_eq!(
        (s.connected, s.failed, s.errors_total(), s.timeouts),
        (2, 0, 0, 0),
        "{s}"
    );
    assert!(s.tx_started >= 2 && s.tx_started == s.tx_ended, "{s}");
    assert_eq!(v["started"], v["ended"], "{out}");
    assert_eq!(
        v["started"].as_array().unwrap().len() as u64,
        s.tx_started,
        "{out}"
    );
    for (action, n) in &s.sent {
        assert_eq!(v["counts"][action].as_u64(), Some(*n), "{action}: {out}");
    }
    let answers = &v["answers"];
    assert_eq!(
        s.received.len(),
        0,
        "configuration calls are answered by the stores, not the hardware"
    );
    for id in [
        format!("PY{}-0001", label.replace('.', "")),
        format!("PY{}-0002", label.replace('.', "")),
    ] {
        assert!(answers.get(format!("{id} error")).is_none(), "{out}");
        if version == OcppVersion::V16 {
            assert_eq!(
                answers[format!("{id} get")]["unknown"],
                serde_json::json!(["NoSuchKey"]),
                "{out}"
            );
            assert_eq!(
                answers[format!("{id} get")]["keys"][0]["key"],
                "MeterValueSampleInterval",
                "{out}"
            );
            assert_eq!(answers[format!("{id} change")], "Accepted", "{out}");
            assert_eq!(
                answers[format!("{id} change readonly")],
                "Rejected",
                "{out}"
            );
        } else {
            assert_eq!(
                answers[format!("{id} get")],
                serde_json::json!([["Accepted", "1"], ["UnknownComponent", null]]),
                "{out}"
            );
            assert_eq!(
                answers[format!("{id} set")],
                serde_json::json!(["Accepted", "Rejected"]),
                "{out}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_against_python_csms_16() {
    python_csms(OcppVersion::V16, "1.6").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_against_python_csms_201() {
    python_csms(OcppVersion::V201, "2.0.1").await;
}
