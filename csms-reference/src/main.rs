//! `csms`: the reference CSMS binary.

use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use csms_reference::validate::{validate, ValidateOptions};
use ocpp_types::OcppVersion;

#[derive(Parser, Debug)]
#[command(
    name = "csms",
    version,
    about = "The reference CSMS of the ocpp-rs crates"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the CSMS (the default): OCPP 1.6, 2.0.1 and 2.1 on one port, the operator API on
    /// another, SQLite `csms.db` unless told otherwise. Every flag has a `CSMS_*` variable.
    Serve(Box<ServeArgs>),
    /// Validate OCPP-J frames, one JSON array per line, and print one JSON verdict per line.
    ///
    /// Exit status: 0 when every line is ok, 1 otherwise, 2 for usage errors.
    Validate {
        /// The protocol version of the log: 1.6, 2.0.1 or 2.1.
        #[arg(long = "ocpp", value_name = "VERSION")]
        version: OcppVersion,
        /// Accept what real chargers get wrong: over-long strings, unknown enum values and members,
        /// date-times without offset, null for optional members.
        #[arg(long)]
        lenient: bool,
        /// Add the frame re-encoded from the typed value to every ok line.
        #[arg(long)]
        echo: bool,
        /// The log file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
    },
    /// Price a CDR or a session against an OCPI tariff and print the costs as JSON.
    Tariff {
        /// The OCPI tariff (JSON file).
        #[arg(long)]
        tariff: PathBuf,
        /// An OCPI CDR (JSON file).
        #[arg(long, conflicts_with = "session", required_unless_present = "session")]
        cdr: Option<PathBuf>,
        /// An OCPI session (JSON file).
        #[arg(long)]
        session: Option<PathBuf>,
    },
}

#[derive(clap::Args, Debug, Default)]
struct ServeArgs {
    /// A TOML configuration file (see the crate docs of `config`).
    #[arg(long, env = "CSMS_CONFIG")]
    config: Option<PathBuf>,
    /// OCPP WebSocket address [default: 0.0.0.0:9000].
    #[arg(long, env = "CSMS_OCPP_LISTEN")]
    ocpp_listen: Option<String>,
    /// Operator API address [default: 127.0.0.1:9001].
    #[arg(long, env = "CSMS_API_LISTEN")]
    api_listen: Option<String>,
    /// Database URL: sqlite:FILE or postgres://... [default: sqlite:csms.db].
    #[arg(long, env = "CSMS_DATABASE_URL")]
    database_url: Option<String>,
    /// TLS certificate chain (PEM): serve wss://.
    #[arg(long, env = "CSMS_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "CSMS_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// CA certificates (PEM) of station client certificates (security profile 3).
    #[arg(long, env = "CSMS_TLS_CLIENT_CA")]
    tls_client_ca: Option<PathBuf>,
    /// Unknown stations: accept (default), pending (until an operator accepts) or reject.
    #[arg(long, env = "CSMS_UNKNOWN_STATIONS")]
    unknown_stations: Option<String>,
    /// Accept id tokens missing from the id-token table [default: true].
    #[arg(long, env = "CSMS_ACCEPT_UNKNOWN_TOKENS")]
    accept_unknown_tokens: Option<bool>,
    /// Security profile of stations without their own (0 to 3) [default: 0].
    #[arg(long, env = "CSMS_SECURITY_PROFILE")]
    security_profile: Option<u8>,
    /// Accept what real chargers get wrong (every station) [default: false].
    #[arg(long, env = "CSMS_LENIENT")]
    lenient: Option<bool>,
    /// Heartbeat interval in seconds [default: 300].
    #[arg(long, env = "CSMS_HEARTBEAT_INTERVAL")]
    heartbeat_interval: Option<i64>,
    /// Timeout of CSMS-initiated calls in seconds [default: 30].
    #[arg(long, env = "CSMS_CALL_TIMEOUT")]
    call_timeout: Option<u64>,
    /// Operator API authentication: auto (on beyond loopback or with a credential), on, off
    /// [default: auto].
    #[arg(long, env = "CSMS_API_AUTH")]
    api_auth: Option<String>,
    /// Operator API bearer token (prefer the variable: flags show in the process list).
    #[arg(long, env = "CSMS_API_TOKEN", hide_env_values = true)]
    api_token: Option<String>,
    /// Operator API Basic-auth user (with --api-password).
    #[arg(long, env = "CSMS_API_USER")]
    api_user: Option<String>,
    /// Operator API Basic-auth password (prefer the variable).
    #[arg(long, env = "CSMS_API_PASSWORD", hide_env_values = true)]
    api_password: Option<String>,
    /// Serve /metrics without credentials when the API is protected [default: false].
    #[arg(long, env = "CSMS_METRICS_PUBLIC")]
    metrics_public: Option<bool>,
    /// WebSocket ping interval in seconds, 0 for none [default: 30].
    #[arg(long, env = "CSMS_PING_INTERVAL")]
    ping_interval: Option<u64>,
    /// Seconds past a ping interval a silent station is kept [default: 30].
    #[arg(long, env = "CSMS_PONG_TIMEOUT")]
    pong_timeout: Option<u64>,
    /// Seconds a write to a station that does not read may wait before it is dropped
    /// [default: 30].
    #[arg(long, env = "CSMS_WRITE_TIMEOUT")]
    write_timeout: Option<u64>,
    /// Seconds one database operation may wait (a lock, a connection, a statement) before
    /// the station is answered InternalError [default: 15].
    #[arg(long, env = "CSMS_STORE_TIMEOUT")]
    store_timeout: Option<u64>,
    /// OCPI CPO bridge address (enables OCPI; see `[ocpi]` in the config file) [default: off].
    #[arg(long, env = "CSMS_OCPI_LISTEN")]
    ocpi_listen: Option<String>,
}

/// Prints a line on standard output for the operator, ignoring write errors: a closed or
/// broken stdout (a supervisor's log pipe going away) must not stop a running CSMS, which
/// `println!` would do by panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        let mut out = io::stdout().lock();
        let _ = writeln!(out, $($arg)*);
        let _ = out.flush();
    }};
}

fn serve(args: ServeArgs) -> ExitCode {
    use csms_reference::config::{FileSettings, Settings};
    let filter = tracing_subscriber::EnvFilter::try_from_env("CSMS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .init();
    // One file descriptor per connected station: raise the soft limit to the hard limit
    // (raise the hard one with `ulimit -Hn` or systemd's LimitNOFILE).
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::info!(limit = n, "open files limit (RLIMIT_NOFILE)"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
    }
    let file = match &args.config {
        Some(p) => match FileSettings::read(p) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("csms: {e}");
                return ExitCode::from(2);
            }
        },
        None => FileSettings::default(),
    };
    let flags = FileSettings {
        ocpp_listen: args.ocpp_listen,
        api_listen: args.api_listen,
        database_url: args.database_url,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        tls_client_ca: args.tls_client_ca,
        unknown_stations: args.unknown_stations,
        accept_unknown_tokens: args.accept_unknown_tokens,
        security_profile: args.security_profile,
        lenient: args.lenient,
        heartbeat_interval: args.heartbeat_interval,
        call_timeout: args.call_timeout,
        api_auth: args.api_auth,
        api_token: args.api_token,
        api_user: args.api_user,
        api_password: args.api_password,
        metrics_public: args.metrics_public,
        ping_interval: args.ping_interval,
        pong_timeout: args.pong_timeout,
        write_timeout: args.write_timeout,
        store_timeout: args.store_timeout,
        station: Vec::new(),
        ocpi: args
            .ocpi_listen
            .map(|l| csms_reference::ocpi_cpo::OcpiFileSettings {
                listen: Some(l),
                ..Default::default()
            }),
        // `[security]` comes from the file (and CSMS_DATA_KEY); no flag.
        security: None,
    };
    let settings = match Settings::validate(file.overlay(flags)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("csms: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("csms: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let db = settings.database_url.clone();
        let running = match csms_reference::server::start(settings).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("csms: {e}");
                return ExitCode::FAILURE;
            }
        };
        say!("csms: stations connect to {}", running.station_url());
        say!(
            "csms: operator API at {} (OpenAPI: {}/openapi.json, metrics: http://{}/metrics)",
            running.api_url(),
            running.api_url(),
            running.api_addr
        );
        say!("csms: operator dashboard at http://{}/", running.api_addr);
        if let Some(o) = &running.ocpi {
            say!(
                "csms: OCPI CPO at {} (register partners with POST {}/ocpi/partners)",
                o.versions_url(),
                running.api_url()
            );
        }
        if let Some(t) = &running.generated_api_token {
            say!("csms: operator API token (generated for this run, shown only here): {t}");
            say!("csms: send it as: Authorization: Bearer <token>; set CSMS_API_TOKEN to keep one across restarts");
        } else if running.api_protected {
            say!("csms: the operator API needs the configured credentials");
        }
        say!(
            "csms: database {}",
            if db.contains('@') {
                "(postgres)".to_owned()
            } else {
                db
            }
        );
        shutdown_signal().await;
        say!("csms: shutting down");
        running.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // No subcommand is `serve`, with its CSMS_* variables read.
    let command = match cli.command {
        Some(c) => c,
        None => Cli::parse_from(["csms", "serve"])
            .command
            .unwrap_or(Command::Serve(Box::default())),
    };
    match command {
        Command::Serve(args) => serve(*args),
        Command::Validate {
            version,
            lenient,
            echo,
            file,
        } => {
            let opts = ValidateOptions {
                version,
                lenient,
                echo,
            };
            let stdout = io::stdout();
            let mut out = stdout.lock();
            let result = match file.as_deref() {
                None => validate(io::stdin().lock(), &mut out, opts),
                Some(p) if p.as_os_str() == "-" => validate(io::stdin().lock(), &mut out, opts),
                Some(p) => match File::open(p) {
                    Ok(f) => validate(BufReader::new(f), &mut out, opts),
                    Err(e) => {
                        eprintln!("csms validate: cannot open {}: {e}", p.display());
                        return ExitCode::from(2);
                    }
                },
            };
            let _ = out.flush();
            match result {
                Ok(s) if s.failed == 0 => ExitCode::SUCCESS,
                Ok(_) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("csms validate: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Tariff {
            tariff,
            cdr,
            session,
        } => {
            let read = |p: &PathBuf| -> Result<serde_json::Value, String> {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", p.display()))
            };
            let input = cdr
                .as_ref()
                .or(session.as_ref())
                .expect("clap requires one");
            let result = read(&tariff)
                .and_then(|t| read(input).map(|i| (t, i)))
                .and_then(|(t, i)| ocpi::tariff::price_json(&t, &i).map_err(|e| e.to_string()));
            match result {
                Ok(costs) => {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&costs).unwrap_or_default()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("csms tariff: {e}");
                    ExitCode::from(2)
                }
            }
        }
    }
}
