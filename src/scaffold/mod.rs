//! Scaffolding commands: a starter scenario and shell completions.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{AppError, Cli};

/// The commented scenario that `authcmp init` writes.
pub const STARTER: &str = include_str!("starter.toml");

/// Writes the starter scenario to `path`, rejecting an existing file.
pub fn init(path: &Path) -> Result<(), AppError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => AppError::Usage(format!(
                "{} already exists; pass another path, such as `authcmp init my-scenario.toml`, or remove the file",
                path.display()
            )),
            _ => AppError::Runtime(format!("cannot create {}: {e}", path.display())),
        })?;
    file.write_all(STARTER.as_bytes())
        .map_err(|e| AppError::Runtime(format!("cannot write {}: {e}", path.display())))
}

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "authcmp", out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_scenario_parses() {
        let scenario = crate::scenario::parse("starter.toml", STARTER).unwrap();
        assert_eq!(scenario.name, "starter");
        assert_eq!(scenario.strategies.len(), 3);
        assert!(!scenario.thresholds.is_empty());
    }
}
