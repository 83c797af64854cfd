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
    /// Run the CSMS (the default).
    Serve,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            println!("csms: not yet serving; `csms validate` and `csms tariff` are available (see --help)");
            ExitCode::SUCCESS
        }
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
