//! Interop against an implementation nobody here wrote: the Python `ocpp` package (PyPI) as a
//! charging station of each version (1.6, 2.0.1, 2.1) running a full session against the `csms`
//! binary; then the operator API shows what it stored.
//!
//! The interpreter is `$OCPP_INTEROP_PYTHON` (the venv made by
//! `ocpp-core/tests/interop/setup.sh`). When it is unset or cannot import `ocpp`, the test
//! prints a SKIPPED line and passes, except under `CI=true`, where it fails.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;

use common::process::{self, serve_command, Csms};

/// The venv python, or `None` (after printing why) when the test is to be skipped.
fn python(test: &str) -> Option<String> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let why = match std::env::var("OCPP_INTEROP_PYTHON") {
        Err(_) => "OCPP_INTEROP_PYTHON is not set".to_owned(),
        Ok(p) => {
            let ok = Command::new(&p)
                .args(["-c", "import ocpp.v16, ocpp.v201, ocpp.v21, websockets"])
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

fn serve(dir: &tempfile::TempDir) -> Csms {
    let mut cmd = serve_command(&format!("sqlite:{}", dir.path().join("py.db").display()));
    cmd.env("CSMS_LOG", "warn")
        .env_remove("CSMS_API_TOKEN")
        .stderr(Stdio::inherit());
    process::spawn(cmd)
}

fn run_station(python: &str, version: &str, url: &str) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/session.py");
    let out = Command::new(python)
        .arg(script)
        .args([version, url])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python {version} station failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

async fn get(api: &str, path: &str) -> Value {
    let r = reqwest::get(format!("{api}{path}")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_stations_run_full_sessions_against_csms_serve() {
    let Some(python) = python("python_stations_run_full_sessions_against_csms_serve") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let csms = serve(&dir);
    for (version, id) in [("1.6", "PY16"), ("2.0.1", "PY201"), ("2.1", "PY21")] {
        let url = format!("ws://{}/ocpp/{id}", csms.ocpp);
        let (python, v) = (python.clone(), version.to_owned());
        let r = tokio::task::spawn_blocking(move || run_station(&python, &v, &url))
            .await
            .unwrap();
        let sub = match version {
            "1.6" => "ocpp1.6",
            "2.0.1" => "ocpp2.0.1",
            _ => "ocpp2.1",
        };
        assert_eq!(r["subprotocol"], sub, "{r}");
        assert!(
            r["boot_status"].as_str().unwrap().contains("ccepted"),
            "{r}"
        );
        assert!(r["authorize"].as_str().unwrap().contains("ccepted"), "{r}");
        let tx = r["transaction_id"].as_str().unwrap().to_owned();

        // What the CSMS stored, through the API.
        let st = get(&csms.api, &format!("/api/stations/{id}")).await;
        assert_eq!(st["version"], version, "{st}");
        assert_eq!(st["vendor"], "PyVendor", "{st}");
        assert_eq!(st["model"], "PyModel", "{st}");
        let statuses = st["statuses"].as_array().unwrap();
        assert_eq!(statuses.len(), 1, "{st}");
        let t = get(&csms.api, &format!("/api/stations/{id}/transactions/{tx}")).await;
        assert_eq!(t["status"], "Ended", "{t}");
        let mv = t["meterValues"].as_array().unwrap();
        if version == "1.6" {
            assert_eq!(t["meter_start"], "1000", "{t}");
            assert_eq!(t["meter_stop"], "2500", "{t}");
            assert_eq!(t["stop_reason"], "EVDisconnected", "{t}");
            assert_eq!(mv.len(), 2, "{t}");
            assert_eq!(mv[0]["value"], "1500.50", "{t}");
            assert_eq!(mv[1]["phase"], "L1", "{t}");
            assert_eq!(t["id_token"], "PYTAG16", "{t}");
        } else {
            assert_eq!(t["last_seq_no"], 2, "{t}");
            assert_eq!(t["stop_reason"], "Local", "{t}");
            assert_eq!(t["token_type"], "ISO14443", "{t}");
            assert_eq!(
                r["event_answers"],
                serde_json::json!(["Accepted", "Accepted", "Accepted"]),
                "{r}"
            );
            let values: Vec<&str> = mv.iter().map(|m| m["value"].as_str().unwrap()).collect();
            assert_eq!(values, ["1000.25", "1001.25", "1002.25"], "{t}");
        }
        let log = get(
            &csms.api,
            &format!("/api/stations/{id}/messages?limit=1000"),
        )
        .await;
        let errors: Vec<&Value> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "error")
            .collect();
        assert!(errors.is_empty(), "no CALLERROR answered: {errors:?}");
    }
    let m = reqwest::get(format!("{}/metrics", csms.api))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!m.contains("csms_call_errors_total{"), "{m}");
}
