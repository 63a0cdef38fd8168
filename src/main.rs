use std::process::ExitCode;

fn main() -> ExitCode {
    match authcmp::cli::run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
