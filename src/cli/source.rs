//! Secrets and credentials from the command line, a file, standard input
//! or an environment variable.
//!
//! Reading from a file (`@path`), standard input (`-`) or the environment
//! keeps a secret out of shell history and process lists, and lets a
//! credential past the argument length limit (about 128 KiB on Linux)
//! with any bytes in it.

use std::io::Read;

use super::AppError;

/// Largest value read from a file or standard input. A browser sends at
/// most a few tens of KiB of cookies, so this leaves room for hostile
/// tests while a wrong file (a disk image, say) fails at once.
pub const MAX_VALUE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads at most [`MAX_VALUE_BYTES`] from `reader`, failing beyond that.
fn read_capped(reader: impl Read, flag: &str, place: &str) -> Result<Vec<u8>, AppError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_VALUE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::Usage(format!("{flag} {place}: cannot read it: {e}")))?;
    if bytes.len() as u64 > MAX_VALUE_BYTES {
        return Err(AppError::Usage(format!(
            "{flag} {place}: larger than {} MiB, far more than any cookie or secret; pass the right file",
            MAX_VALUE_BYTES / 1024 / 1024
        )));
    }
    Ok(bytes)
}

/// Reader of values that records which flag read standard input, so that
/// a second flag given `-` fails with a clear error.
#[derive(Debug, Default)]
pub struct Sources {
    stdin_taken_by: Option<String>,
}

impl Sources {
    /// Reads the value `flag` was given: `-` for standard input, `@path`
    /// for a file, else the text itself. One trailing newline (`\n` or
    /// `\r\n`) is removed from what a file or standard input returns,
    /// since editors and `echo` add one.
    pub fn read(&mut self, flag: &str, arg: &str) -> Result<Vec<u8>, AppError> {
        if arg == "-" {
            if let Some(first) = &self.stdin_taken_by {
                return Err(AppError::Usage(format!(
                    "{flag} and {first} both read standard input (-); give one of them as @path or text"
                )));
            }
            self.stdin_taken_by = Some(flag.to_string());
            let bytes = read_capped(std::io::stdin().lock(), flag, "- (standard input)")?;
            return Ok(strip_newline(bytes));
        }
        if let Some(path) = arg.strip_prefix('@') {
            let file = std::fs::File::open(path).map_err(|e| {
                AppError::Usage(format!(
                    "{flag} @{path}: cannot read the file: {e}; check the path"
                ))
            })?;
            let bytes = read_capped(file, flag, &format!("@{path}"))?;
            return Ok(strip_newline(bytes));
        }
        Ok(arg.as_bytes().to_vec())
    }
}

/// Reads environment variable `name` as bytes, for `flag`.
pub fn read_env(flag: &str, name: &str) -> Result<Vec<u8>, AppError> {
    match std::env::var_os(name) {
        Some(value) => Ok(value.into_encoded_bytes()),
        None => Err(AppError::Usage(format!(
            "{flag} {name}: environment variable {name} is not set; export it or pass the value another way"
        ))),
    }
}

/// Converts a secret's bytes to text, rejecting an empty or non-UTF-8 one.
pub fn secret_text(flag: &str, bytes: Vec<u8>) -> Result<String, AppError> {
    let text = String::from_utf8(bytes).map_err(|e| {
        AppError::Usage(format!(
            "{flag}: the secret is not valid UTF-8 (invalid byte at offset {}); \
             Auth.js and jsonwebtoken secrets are text, so save it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })?;
    if text.is_empty() {
        return Err(AppError::Usage(format!(
            "{flag}: the secret is empty; give the application's secret or omit the flag \
             to use the built-in benchmark secret"
        )));
    }
    Ok(text)
}

fn strip_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_removed() {
        assert_eq!(strip_newline(b"abc\n".to_vec()), b"abc");
        assert_eq!(strip_newline(b"abc\r\n".to_vec()), b"abc");
        assert_eq!(strip_newline(b"abc\n\n".to_vec()), b"abc\n");
        assert_eq!(strip_newline(b"abc".to_vec()), b"abc");
    }

    #[test]
    fn text_and_file_sources() {
        let mut sources = Sources::default();
        assert_eq!(sources.read("--secret", "s3cret").unwrap(), b"s3cret");
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"from-file\n").unwrap();
        let arg = format!("@{}", file.path().display());
        assert_eq!(sources.read("--secret", &arg).unwrap(), b"from-file");
        let err = sources.read("--secret", "@/no/such/file").unwrap_err();
        assert!(err.to_string().contains("cannot read the file"), "{err}");
    }

    #[test]
    fn secret_must_be_utf8_and_non_empty() {
        assert!(secret_text("--secret", vec![0xff, 0x00]).is_err());
        assert!(secret_text("--secret", Vec::new()).is_err());
        assert_eq!(secret_text("--secret", b"ok".to_vec()).unwrap(), "ok");
    }
}
