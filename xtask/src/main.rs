//! Repository tasks: `cargo xtask codegen [--check]`.

mod codegen;

use std::path::PathBuf;
use std::process::ExitCode;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask codegen [--check]\n\n\
         codegen          regenerate ocpp16/ocpp201/ocpp21 src/generated from the official schemas\n\
         codegen --check  fail when the committed generated code differs from what would be generated\n\n\
         Schemas are read from $OCPP_SCHEMA_DIR or ../shared/schemas/ocpp, the action table from\n\
         $OCPP_ACTIONS_TSV or ../shared/spec/ocpp-actions.tsv (relative to the workspace root)."
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["codegen"] => codegen::run(&workspace_root(), false),
        ["codegen", "--check"] => codegen::run(&workspace_root(), true),
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
