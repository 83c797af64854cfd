//! `csms validate`: the log validator as a user runs it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

fn run(args: &[&str], stdin: &str) -> (Output, Vec<Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_csms"))
        .arg("validate")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("csms runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    (out, lines)
}

#[test]
fn a_valid_16_session_is_all_ok() {
    let log = r#"[2,"b1","BootNotification",{"chargePointVendor":"ACME","chargePointModel":"W1"}]
[3,"b1",{"status":"Accepted","currentTime":"2024-05-01T10:00:00Z","interval":300}]

[2,"s1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Preparing"}]
[3,"s1",{}]
[2,"t1","StartTransaction",{"connectorId":1,"idTag":"TAG1","meterStart":100,"timestamp":"2024-05-01T10:01:00+02:00"}]
[3,"t1",{"transactionId":7,"idTagInfo":{"status":"Accepted"}}]
[2,"r1","Reset",{"type":"Soft"}]
[4,"r1","NotSupported","no",{}]
"#;
    let (out, lines) = run(&["--ocpp", "1.6", "-"], log);
    assert_eq!(out.status.code(), Some(0), "{lines:?}");
    assert_eq!(lines.len(), 8, "blank lines are skipped");
    assert_eq!(
        lines[0],
        json!({"line":1,"id":"b1","action":"BootNotification","ok":true})
    );
    assert_eq!(
        lines[1],
        json!({"line":2,"id":"b1","action":"BootNotification","ok":true})
    );
    assert_eq!(lines[2]["line"], 4, "line numbers count the blank line");
    assert_eq!(
        lines[7],
        json!({"line":9,"id":"r1","action":"Reset","ok":true})
    );
}

#[test]
fn every_fault_gets_its_code_path_and_a_nonzero_exit() {
    let log = r#"[2,"1","BootNotification",{"chargePointVendor":"ACME"}]
[2,"2","StatusNotification",{"connectorId":"1","errorCode":"NoError","status":"Available"}]
[2,"3","StatusNotification",{"connectorId":1,"errorCode":"Sunburn","status":"Available"}]
[2,"4","Authorize",{"idTag":"123456789012345678901"}]
[2,"5","Authorize",{"idTag":"A","colour":"red"}]
[2,"6","FlyToTheMoon",{}]
[3,"nope",{}]
not a frame
[2,"7","Heartbeat",[]]
[2,"8","Heartbeat",{"a":]
"#;
    let (out, lines) = run(&["--ocpp", "1.6"], log);
    assert_eq!(out.status.code(), Some(1));
    let got: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["ok"], false, "{l}");
            (
                l["errorCode"].as_str().unwrap().to_owned(),
                l["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want = [
        ("OccurenceConstraintViolation", "/chargePointModel"),
        ("TypeConstraintViolation", "/connectorId"),
        ("PropertyConstraintViolation", "/errorCode"),
        ("PropertyConstraintViolation", "/idTag"),
        ("FormationViolation", "/colour"),
        ("NotImplemented", ""),
        ("ProtocolError", ""),
        ("FormationViolation", ""),
        ("FormationViolation", ""),
        ("FormationViolation", ""),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(lines[6]["id"], "nope");
    assert_eq!(lines[6]["action"], Value::Null);
    assert_eq!(lines[7]["id"], Value::Null);
}

#[test]
fn versions_spell_codes_their_way_and_responses_take_the_call_action() {
    let log = r#"[2,"1","Heartbeat",{}]
[3,"1",{}]
[2,"2","Heartbeat",{}]
[4,"2","FormationViolation","1.6 spelling",{}]
"#;
    let (out, lines) = run(&["--ocpp", "2.0.1"], log);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines[1]["action"], "Heartbeat");
    assert_eq!(lines[1]["errorCode"], "OccurrenceConstraintViolation");
    assert_eq!(lines[1]["path"], "/currentTime");
    assert_eq!(
        lines[3]["errorCode"], "PropertyConstraintViolation",
        "{}",
        lines[3]
    );
    assert_eq!(lines[3]["action"], "Heartbeat");
    // 2.1-only frame types are refused on 2.0.1.
    let (_, lines) = run(
        &["--ocpp", "2.0.1"],
        r#"[6,"9","NotifyPeriodicEventStream",{}]"#,
    );
    assert_eq!(lines[0]["errorCode"], "MessageTypeNotSupported");
}

#[test]
fn lenient_accepts_and_echo_writes_back_exactly() {
    let frame = r#"[2,"1","Authorize",{"idToken":{"idToken":"AB","type":"ISO14443"},"vendorThing":{"x":[1,2]}}]"#;
    let (out, lines) = run(&["--ocpp", "2.1"], frame);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines[0]["errorCode"], "FormatViolation");
    assert_eq!(lines[0]["path"], "/vendorThing");
    let (out, lines) = run(&["--ocpp", "2.1", "--lenient", "--echo"], frame);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        lines[0]["frame"],
        serde_json::from_str::<Value>(frame).unwrap()
    );
    let exact = r#"[3,"1",{"idTokenInfo":{"status":"Accepted","cacheExpiryDateTime":"2024-05-01T10:00:00.120+02:00"}}]"#;
    let (out, _) = run(&["--ocpp", "2.1", "--echo"], &format!("{frame}\n{exact}"));
    let text = String::from_utf8(out.stdout).unwrap();
    let second = text.lines().nth(1).unwrap();
    assert!(
        second.ends_with(&format!(r#","frame":{exact}}}"#)),
        "date-times are written as read, members in schema order: {second}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let (out, _) = run(&[], "");
    assert_eq!(out.status.code(), Some(2));
    let (out, _) = run(&["--ocpp", "3.0"], "");
    assert_eq!(out.status.code(), Some(2));
    let (out, _) = run(&["--ocpp", "1.6", "/no/such/file.log"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file.log"));
}
