//! Writing a run to `results/<scenario>/<UTC time>.{json,md,csv,html}`,
//! with its charts in `<UTC time>-latency.svg` and `<UTC time>-revocation.svg`.
//!
//! Each file is written to a temporary file in the same folder and then
//! renamed without replacing anything, so an interrupted run leaves no
//! partial file under a final name and never overwrites an earlier run.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::html::{latency_caption, Chart, REVOCATION_CAPTION};
use super::plots::{latency_svg, revocation_svg};
use super::{render_csv, render_html, render_markdown, Report};

/// Checks that results can be written under `dir` before a run starts.
pub fn check_writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    tempfile::NamedTempFile::new_in(dir).map(drop)
}

/// Saves the JSON, Markdown, CSV, charts and HTML page of `report`,
/// returning the JSON path.
pub fn save(report: &Report, dir: &Path) -> std::io::Result<PathBuf> {
    let folder = dir.join(&report.scenario.name);
    std::fs::create_dir_all(&folder)?;
    let stamp: String = report
        .run
        .started_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let json = serde_json::to_string_pretty(report).expect("reports serialize to JSON") + "\n";
    let latency = latency_svg(report).map_err(std::io::Error::other)?;
    let revocation = revocation_svg(report).map_err(std::io::Error::other)?;
    for attempt in 0..1000 {
        let stem = if attempt == 0 {
            stamp.clone()
        } else {
            format!("{stamp}-{attempt}")
        };
        let stem_taken = [
            "json",
            "md",
            "csv",
            "html",
            "-latency.svg",
            "-revocation.svg",
        ]
        .iter()
        .any(|suffix| folder.join(suffixed(&stem, suffix)).exists());
        if stem_taken {
            continue;
        }
        let json_path = folder.join(format!("{stem}.json"));
        match write_new(&folder, &json_path, json.as_bytes()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        write_new(
            &folder,
            &folder.join(format!("{stem}.md")),
            render_markdown(report).as_bytes(),
        )?;
        write_new(
            &folder,
            &folder.join(format!("{stem}.csv")),
            render_csv(report).as_bytes(),
        )?;
        write_new(
            &folder,
            &folder.join(format!("{stem}-latency.svg")),
            latency.as_bytes(),
        )?;
        write_new(
            &folder,
            &folder.join(format!("{stem}-revocation.svg")),
            revocation.as_bytes(),
        )?;
        let latency_text = latency_caption(report);
        let charts = [
            Chart {
                heading: "Verify latency",
                svg: &latency,
                caption: &latency_text,
            },
            Chart {
                heading: "Revocation timeline",
                svg: &revocation,
                caption: REVOCATION_CAPTION,
            },
        ];
        write_new(
            &folder,
            &folder.join(format!("{stem}.html")),
            render_html(report, &charts).as_bytes(),
        )?;
        return Ok(json_path);
    }
    Err(std::io::Error::other(format!(
        "1000 results named {stamp}* already exist in {}",
        folder.display()
    )))
}

/// Names a file of the run `stem`: an extension joins with a dot, a suffix
/// starting with `-` joins as it is.
fn suffixed(stem: &str, suffix: &str) -> String {
    if suffix.starts_with('-') {
        format!("{stem}{suffix}")
    } else {
        format!("{stem}.{suffix}")
    }
}

/// Writes `bytes` to a temporary file in `folder` and renames it to
/// `path`, failing with `AlreadyExists` rather than replacing a file.
fn write_new(folder: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temp = tempfile::Builder::new()
        .prefix(".authcmp-")
        .tempfile_in(folder)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}
