//! `ocpp-sim`: simulated OCPP 1.6 / 2.0.1 / 2.1 charging stations against any CSMS.
//!
//! ```text
//! ocpp-sim --url ws://127.0.0.1:9000/ocpp --stations 100 --versions 1.6,2.0.1,2.1 \
//!          --scenario charging --duration 60s --report report.json
//! ```
//! Load runs (see `benches/README.md`):
//! ```text
//! ocpp-sim --url ws://127.0.0.1:9000/ocpp,ws://127.0.0.2:9000/ocpp --stations 10000 \
//!          --versions 1.6,2.0.1,2.1 --ratio 2:1:1 --connect-rate 200 --heartbeat 60s \
//!          --interval 10s --session 120s --pause 60s --duration 300s --json
//! ```
//! At start the soft limit of open files (`RLIMIT_NOFILE`) is raised to the hard limit (one
//! file descriptor per station is needed). Exit status 0 when every station connected, no call
//! got a CALLERROR and none went unanswered, 1 otherwise, 2 for usage errors.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use examples::sim::{run, Scenario, SimConfig, Stats};
use ocpp_types::OcppVersion;

/// Simulates charging stations of any version mix against a CSMS.
#[derive(Debug, Parser)]
#[command(name = "ocpp-sim", version)]
struct Args {
    /// CSMS URL without the station id (the id is appended: URL/ID). Several, separated by
    /// commas, are given to the stations in turn (more listener addresses, more ephemeral ports).
    #[arg(long)]
    url: String,
    /// Number of stations.
    #[arg(long, default_value_t = 1)]
    stations: usize,
    /// Versions, given to the stations in turn: 1.6, 2.0.1, 2.1.
    #[arg(long, value_delimiter = ',', default_value = "1.6,2.0.1,2.1")]
    versions: Vec<OcppVersion>,
    /// The share of each version, in the order of --versions: 2:1:1 makes half the stations
    /// the first version [default: equal shares].
    #[arg(long, value_delimiter = ':')]
    ratio: Vec<u32>,
    /// idle (boot, status, heartbeats) or charging (sessions with meter values).
    #[arg(long, default_value = "charging")]
    scenario: Scenario,
    /// Stations started (connections opened) per second.
    #[arg(long, visible_alias = "connect-rate", default_value_t = 50.0)]
    ramp_up: f64,
    /// The simulator's own heartbeat interval (timed like every other call) in both scenarios
    /// [default: none; the engine then sends the heartbeats at the CSMS's interval, untimed].
    #[arg(long, value_parser = parse_duration)]
    heartbeat: Option<Duration>,
    /// Interval of meter values (charging) or heartbeats (idle): 10s, 500ms, 1m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    interval: Duration,
    /// Length of one charging session.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    session: Duration,
    /// Pause between sessions (the first plug-ins are spread over it).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pause: Duration,
    /// How long the load runs; sessions in progress are then stopped.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    duration: Duration,
    /// Station ids are PREFIX-0001, PREFIX-0002, ...
    #[arg(long, default_value = "SIM")]
    id_prefix: String,
    /// Security profile 0 to 3 (1 and 2 send Basic auth with --password).
    #[arg(long, default_value_t = 0)]
    security_profile: u8,
    /// Basic-auth password (every station; the user is the station id).
    #[arg(long)]
    password: Option<String>,
    /// Id token of the sessions; {n} is the station number.
    #[arg(long, default_value = "SIMTAG{n}")]
    id_token: String,
    /// Write the summary as JSON to this file.
    #[arg(long)]
    report: Option<std::path::PathBuf>,
    /// Print the summary as JSON on standard output instead of text.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("bad duration unit in {s:?} (ms, s, m, h)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn progress(stats: &Stats, total: usize, started: Instant, duration: Duration) -> String {
    let elapsed = started.elapsed();
    let frac = (elapsed.as_secs_f64() / duration.as_secs_f64().max(0.001)).min(1.0);
    let width = 30;
    let filled = (frac * width as f64) as usize;
    format!(
        "[{}{}] {:>4.0}s/{:.0}s  online {}/{}  failed {}  sent {}  errors {}  tx {}/{}  ",
        "#".repeat(filled),
        "-".repeat(width - filled),
        elapsed.as_secs_f64(),
        duration.as_secs_f64(),
        stats.online.load(Ordering::Relaxed),
        total,
        stats.failed.load(Ordering::Relaxed),
        stats.sent_total(),
        stats.errors_total(),
        stats.tx_started.load(Ordering::Relaxed),
        stats.tx_ended.load(Ordering::Relaxed),
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.stations == 0 || args.versions.is_empty() {
        eprintln!("ocpp-sim: --stations and --versions must not be empty");
        return std::process::ExitCode::from(2);
    }
    if !args.ratio.is_empty()
        && (args.ratio.len() != args.versions.len() || args.ratio.iter().all(|w| *w == 0))
    {
        eprintln!("ocpp-sim: --ratio needs one share per version in --versions, not all 0");
        return std::process::ExitCode::from(2);
    }
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => {
            if !args.quiet {
                eprintln!("ocpp-sim: open files limit (RLIMIT_NOFILE) {n}");
            }
            if (n as usize) < args.stations + 64 {
                eprintln!(
                    "ocpp-sim: warning: {n} open files is too few for {} stations; raise the hard limit (ulimit -Hn, LimitNOFILE)",
                    args.stations
                );
            }
        }
        Err(e) => eprintln!("ocpp-sim: cannot raise the open files limit: {e}"),
    }
    let cfg = SimConfig {
        url: args.url.clone(),
        stations: args.stations,
        versions: args.versions.clone(),
        weights: args.ratio.clone(),
        heartbeat: args.heartbeat,
        scenario: args.scenario,
        ramp_up: args.ramp_up,
        interval: args.interval,
        session: args.session,
        pause: args.pause,
        duration: args.duration,
        id_prefix: args.id_prefix.clone(),
        security_profile: args.security_profile,
        password: args.password.clone(),
        id_token: args.id_token.clone(),
        ..SimConfig::default()
    };
    let stats = Arc::new(Stats::default());
    let started = Instant::now();
    let show = !args.quiet;
    let tty = std::io::stderr().is_terminal();
    let ticker = show.then(|| {
        let stats = stats.clone();
        let (total, duration) = (args.stations, args.duration);
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(Duration::from_millis(if tty { 250 } else { 5000 }));
            loop {
                tick.tick().await;
                let line = progress(&stats, total, started, duration);
                let mut err = std::io::stderr().lock();
                let _ = if tty {
                    write!(err, "\r{line}")
                } else {
                    writeln!(err, "{line}")
                };
                let _ = err.flush();
            }
        })
    });
    let summary = tokio::select! {
        s = run(cfg, stats.clone()) => s,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("\ninterrupted");
            stats.summary(args.stations, started.elapsed())
        }
        // Stations still shutting down a minute after the load ended do not hold the report.
        _ = tokio::time::sleep(args.duration + Duration::from_secs(60)) => {
            eprintln!("\nsome stations had not shut down a minute after the end of the load");
            let ramped = Duration::from_secs_f64(args.stations as f64 / args.ramp_up.max(0.001) + 2.0);
            stats.summary_in(args.stations, started.elapsed(), (ramped, args.duration))
        }
    };
    if let Some(t) = ticker {
        t.abort();
        if tty {
            eprintln!();
        }
    }
    let json = serde_json::to_string_pretty(&summary.to_json()).expect("JSON");
    if args.json {
        println!("{json}");
    } else {
        println!("{summary}");
    }
    if let Some(path) = &args.report {
        if let Err(e) = std::fs::write(path, json + "\n") {
            eprintln!("ocpp-sim: cannot write {}: {e}", path.display());
            return std::process::ExitCode::from(2);
        }
    }
    if summary.failed > 0 || summary.errors_total() > 0 || summary.lost() > 0 {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}
