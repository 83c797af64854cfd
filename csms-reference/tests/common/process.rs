//! `csms serve` as a child process on free ports: the command, and the running server whose
//! addresses are read from its first lines.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The command `csms serve` on loopback with free ports and the database `db`; the caller adds
/// its environment and flags.
pub fn serve_command(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_csms"));
    cmd.arg("serve")
        .args([
            "--ocpp-listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
        ])
        .args(["--database-url", db]);
    cmd
}

/// A `csms serve` child process, killed when dropped.
pub struct Csms {
    /// The process.
    pub child: Child,
    /// The stations' `host:port`.
    pub ocpp: String,
    /// The API's base URL, `http://host:port`.
    pub api: String,
}

impl Drop for Csms {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` (a [`serve_command`]) with its stdout piped, waits for the printed station and
/// API addresses, and drains the rest of its output.
pub fn spawn(mut cmd: Command) -> Csms {
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("csms starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut ocpp, mut api) = (None, None);
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(r) = line.strip_prefix("csms: stations connect to ws://") {
            ocpp = r.split('/').next().map(str::to_owned);
        }
        if let Some(r) = line.strip_prefix("csms: operator API at http://") {
            api = r.split('/').next().map(str::to_owned);
        }
        if ocpp.is_some() && api.is_some() {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Csms {
        child,
        ocpp: ocpp.expect("the station URL is printed"),
        api: format!("http://{}", api.expect("the API URL is printed")),
    }
}
