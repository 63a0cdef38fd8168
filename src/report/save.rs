//! Writing a run to `results/<scenario>/<UTC time>.{json,md,csv,html}`,
//! with its charts in `<UTC time>.latency.svg` and `<UTC time>.revocation.svg`.
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

/// Extensions of the files [`save`] writes for a run, in order, the JSON
/// first.
pub const RUN_FILES: [&str; 6] = ["json", "md", "csv", "latency.svg", "revocation.svg", "html"];

/// Saves the JSON, Markdown, CSV, charts and HTML page of `report`,
/// returning the JSON path.
pub fn save(report: &Report, dir: &Path) -> std::io::Result<PathBuf> {
    let json = serde_json::to_string_pretty(report).expect("reports serialize to JSON") + "\n";
    let latency = latency_svg(report).map_err(std::io::Error::other)?;
    let revocation = revocation_svg(report).map_err(std::io::Error::other)?;
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
    let html = render_html(report, &charts);
    let contents = [
        json,
        render_markdown(report),
        render_csv(report),
        latency,
        revocation,
        html,
    ];
    let files: Vec<(&str, String)> = RUN_FILES.into_iter().zip(contents).collect();
    save_files(
        &dir.join(&report.scenario.name),
        &stem_for(&report.run.started_at),
        &files,
    )
}

/// Describes the files a save wrote, from the path of the first and the
/// extensions of all, as `folder/stem.{json,md,...}`.
pub fn describe_saved(first: &Path, extensions: &[&str]) -> String {
    let first_path = first.display().to_string();
    let Some(first_ext) = extensions.first() else {
        return first_path;
    };
    match first_path.strip_suffix(&format!(".{first_ext}")) {
        Some(stem) if extensions.len() > 1 => format!("{stem}.{{{}}}", extensions.join(",")),
        _ => first_path,
    }
}

/// Turns an RFC 3339 start time into a file stem: its letters and digits.
pub fn stem_for(started_at: &str) -> String {
    started_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Writes each `(extension, contents)` pair to `folder/<stem>.<extension>`,
/// returning the path of the first. When a file with that stem and any of
/// the extensions exists, the stem gets a `-1`, `-2`... suffix instead.
pub fn save_files(folder: &Path, stem: &str, files: &[(&str, String)]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(folder)?;
    remove_stale_temporaries(folder);
    let Some(((first_ext, first_contents), rest)) = files.split_first() else {
        return Err(std::io::Error::other("no files to save"));
    };
    for attempt in 0..1000 {
        let candidate = if attempt == 0 {
            stem.to_string()
        } else {
            format!("{stem}-{attempt}")
        };
        let stem_taken = files
            .iter()
            .any(|(ext, _)| folder.join(format!("{candidate}.{ext}")).exists());
        if stem_taken {
            continue;
        }
        // The first file claims the stem; a race with another writer shows
        // up here as AlreadyExists and moves on to the next suffix.
        let first_path = folder.join(format!("{candidate}.{first_ext}"));
        match write_new(folder, &first_path, first_contents.as_bytes()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        for (ext, contents) in rest {
            let path = folder.join(format!("{candidate}.{ext}"));
            write_new(folder, &path, contents.as_bytes())?;
        }
        return Ok(first_path);
    }
    Err(std::io::Error::other(format!(
        "1000 results named {stem}* already exist in {}",
        folder.display()
    )))
}

/// Prefix of the temporary files a save writes before renaming them.
const TEMP_PREFIX: &str = ".authcmp-";

/// Age after which a temporary file is taken as left by a killed process:
/// a live save renames its files within seconds.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes temporary files that a process killed during a save left in
/// `folder`. Best effort: a file that cannot be read or removed stays.
fn remove_stale_temporaries(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let is_temporary = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(TEMP_PREFIX));
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if is_temporary && stale && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to a temporary file in `folder` and renames it to
/// `path`, failing with `AlreadyExists` rather than replacing a file.
fn write_new(folder: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(folder)?;
    temp.write_all(bytes)?;
    // Temporary files start private (0600); results get 0644, what the
    // shell gives a new file under the usual umask of 022.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    temp.as_file().sync_all()?;
    temp.persist_noclobber(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temporaries_are_removed_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".authcmp-stale");
        let fresh = dir.path().join(".authcmp-fresh");
        let other = dir.path().join(".other-stale");
        for path in [&stale, &fresh, &other] {
            std::fs::write(path, "partial").unwrap();
        }
        let old = std::time::SystemTime::now() - 2 * STALE_AFTER;
        for path in [&stale, &other] {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let first = save_files(dir.path(), "run", &[("json", "{}".into())]).unwrap();
        assert!(first.exists());
        assert!(!stale.exists(), "a stale temporary file is removed");
        assert!(fresh.exists(), "a live save's file is kept");
        assert!(other.exists(), "files of other programs are kept");
    }

    #[test]
    fn describe_saved_lists_every_extension() {
        let path = Path::new("results/default/20270101T000000Z.json");
        assert_eq!(
            describe_saved(path, &["json", "md", "latency.svg"]),
            "results/default/20270101T000000Z.{json,md,latency.svg}"
        );
        assert_eq!(describe_saved(path, &["json"]), path.display().to_string());
        assert_eq!(
            describe_saved(path, &["md", "json"]),
            path.display().to_string()
        );
    }
}
