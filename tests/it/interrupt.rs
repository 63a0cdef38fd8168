//! A `bench` stopped by Ctrl-C (SIGINT) or killed (SIGKILL) mid-run keeps
//! every result saved before it and leaves no partial file behind.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const SHORT: &str = r#"name = "short"
[[cohort]]
name = "u"
users = 2
steps = [{ login = {} }, { requests = { count = 3, every = "1m" } }]
"#;

/// About 10 million events: far longer than the test waits.
const LONG: &str = r#"name = "long"
[[cohort]]
name = "u"
users = 1000
steps = [{ login = {} }, { requests = { count = 10000, every = "1s" } }]
"#;

/// Starts `bench` on the short then the long scenario, and returns once
/// the short one's results are saved, with the lines printed so far.
fn start_bench(dir: &Path) -> (Child, Vec<String>, BufReader<std::process::ChildStderr>) {
    std::fs::write(dir.join("short.toml"), SHORT).unwrap();
    std::fs::write(dir.join("long.toml"), LONG).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_authcmp"))
        .current_dir(dir)
        .args([
            "bench",
            "short.toml",
            "long.toml",
            "--strategy",
            "jwt",
            "--format",
            "csv",
            "--results-dir",
            "results",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).unwrap();
        assert!(read > 0, "bench ended before saving: {lines:?}");
        lines.push(line.trim_end().to_string());
        if line.starts_with("saved ") {
            break;
        }
    }
    // Let the long run get under way.
    std::thread::sleep(std::time::Duration::from_millis(300));
    (child, lines, stderr)
}

/// Names of the files under `dir`, recursively, relative to it, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                out.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// Checks the results folder contains the short run's files, complete, and
/// nothing of the long run: no file of it and no temporary file.
fn assert_only_short_saved(results: &Path) {
    let names = files(results);
    assert!(names.len() >= 3, "json, md and csv at least: {names:?}");
    let json: Vec<&String> = names.iter().filter(|n| n.ends_with(".json")).collect();
    assert_eq!(json.len(), 1, "{names:?}");
    let stem = json[0].strip_suffix(".json").unwrap();
    for name in &names {
        assert!(name.starts_with(&format!("{stem}.")), "{name} in {names:?}");
        let size = std::fs::metadata(results.join(name)).unwrap().len();
        assert!(size > 0, "{name} is empty");
    }
    assert!(names.contains(&format!("{stem}.md")), "{names:?}");
    assert!(names.contains(&format!("{stem}.csv")), "{names:?}");
    let text = std::fs::read_to_string(results.join(json[0])).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["scenario"]["name"], "short");
}

#[test]
fn sigint_keeps_finished_results_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, lines, mut stderr) = start_bench(dir.path());
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(130), "{lines:?} {rest}");
    let saved = lines.last().unwrap().strip_prefix("saved ").unwrap();
    assert_eq!(
        rest.trim_end(),
        format!(
            "error: interrupted: scenario long stopped before its end and was not saved; \
             results saved before it: {saved}"
        )
    );
    assert_only_short_saved(&dir.path().join("results"));
}

#[test]
fn sigkill_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _lines, _stderr) = start_bench(dir.path());
    child.kill().unwrap();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), None, "killed by a signal");
    assert_only_short_saved(&dir.path().join("results"));
}
