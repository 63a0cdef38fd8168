//! Scenario files: the workload to replay and the strategies to compare.
//!
//! A scenario is TOML. [`parse`] checks it completely before anything runs
//! and reports the first problem with its file, line and column. The shipped
//! scenarios are compiled into the binary, so `authcmp bench logout-replay`
//! works from any folder; a path on disk wins over a built-in name.

mod parse;
mod thresholds;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use parse::{parse, strategy_with_key};
pub use thresholds::{check as check_thresholds, Failure, Limits, Thresholds};

use crate::strategy::Setup;
use crate::time::Millis;

/// Scenarios shipped in `scenarios/`, as `(name, text)`.
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../scenarios/default.toml")),
    (
        "logout-replay",
        include_str!("../../scenarios/logout-replay.toml"),
    ),
    (
        "profile-update",
        include_str!("../../scenarios/profile-update.toml"),
    ),
    ("ban-wave", include_str!("../../scenarios/ban-wave.toml")),
    (
        "multi-node",
        include_str!("../../scenarios/multi-node.toml"),
    ),
    ("scale", include_str!("../../scenarios/scale.toml")),
    ("soak", include_str!("../../scenarios/soak.toml")),
    ("stores", include_str!("../../scenarios/stores.toml")),
];

/// Where a scenario came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path as given, or `scenarios/<name>.toml (built in)`.
    pub path: String,
    /// SHA-256 of the file's bytes, in hex.
    pub sha256: String,
}

/// A checked scenario, ready for the workload generator.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Virtual time after which no event runs; `None` runs every script to its end.
    pub horizon: Option<Millis>,
    pub cohorts: Vec<Cohort>,
    pub events: Vec<GlobalEvent>,
    pub strategies: Vec<Setup>,
    /// Limits on the figures; a run that exceeds one exits 1.
    pub thresholds: Thresholds,
    pub source: Source,
}

/// Index of a cookie jar within its cohort: a device or a copied cookie.
pub type JarId = u16;

/// A group of users who all run the same script.
#[derive(Clone, Debug, PartialEq)]
pub struct Cohort {
    pub name: String,
    pub users: u64,
    /// Id of the cohort's first user; ids are unique across cohorts.
    pub first_user: u64,
    /// Virtual time the first user starts.
    pub start: Millis,
    /// Users start spread evenly over this span after `start`.
    pub ramp: Millis,
    pub steps: Vec<Step>,
    /// Characters appended to each user's display name, to model large
    /// profile claims such as roles or permissions.
    pub name_padding: usize,
    /// Name of each jar, indexed by [`JarId`].
    pub jars: Vec<String>,
}

/// One step of a user's script.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Login {
        device: JarId,
    },
    Requests {
        device: JarId,
        count: u64,
        every: Millis,
        jitter: f64,
    },
    UpdateProfile {
        device: JarId,
    },
    Logout {
        device: JarId,
    },
    CopyCookie {
        device: JarId,
        to: JarId,
    },
    Replay {
        copy: JarId,
        count: u64,
        every: Millis,
    },
    Wait {
        span: Millis,
    },
}

/// An event at a fixed virtual time that is not part of a user's script.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalEvent {
    pub at: Millis,
    /// Revokes every credential of this many users of the cohort, chosen
    /// with the scenario's seed.
    pub revoke_cohort: usize,
    /// Fraction of the cohort's users revoked, above 0 and at most 1.
    pub revoke_fraction: f64,
}

impl GlobalEvent {
    /// Users revoked out of a cohort of `users`: the fraction rounded, at
    /// least 1 and at most all of them.
    pub fn revoked_count(&self, users: u64) -> u64 {
        ((users as f64 * self.revoke_fraction).round() as u64).clamp(1, users)
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {message}")]
    Read { path: String, message: String },
    /// Neither a file nor a built-in scenario has this name.
    #[error(
        "scenario \"{name}\" not found: no such file, and the built-in scenarios are {builtin}"
    )]
    NotFound { name: String, builtin: String },
    /// The file is invalid at a place.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
}

/// Loads a scenario from a path, or by the name of a built-in one
/// (`logout-replay` or `logout-replay.toml`).
pub fn load(arg: &str) -> Result<Scenario, ScenarioError> {
    let (file, text) = read(arg)?;
    parse(&file, &text)
}

/// Reads a scenario's text from a path or a built-in name, returning the
/// name errors should show for it and the text.
pub fn read(arg: &str) -> Result<(String, String), ScenarioError> {
    let path = Path::new(arg);
    if path.exists() {
        let bytes = std::fs::read(path).map_err(|e| ScenarioError::Read {
            path: arg.to_string(),
            message: e.to_string(),
        })?;
        let text = String::from_utf8(bytes).map_err(|_| ScenarioError::Read {
            path: arg.to_string(),
            message: "the file is not valid UTF-8".to_string(),
        })?;
        return Ok((arg.to_string(), text));
    }
    let name = arg.strip_suffix(".toml").unwrap_or(arg);
    let name = name.strip_prefix("scenarios/").unwrap_or(name);
    match BUILTIN.iter().find(|(builtin, _)| *builtin == name) {
        Some((builtin, text)) => Ok((
            format!("scenarios/{builtin}.toml (built in)"),
            text.to_string(),
        )),
        None => Err(ScenarioError::NotFound {
            name: arg.to_string(),
            builtin: builtin_names(),
        }),
    }
}

/// Names of the built-in scenarios, comma-separated.
pub fn builtin_names() -> String {
    BUILTIN
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Hex SHA-256 of a scenario's text.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Scenario {
    /// Scales every cohort so that the users add up to about `total`,
    /// keeping their proportions; each cohort keeps at least one user.
    pub fn scale_users(&mut self, total: u64) {
        let current = self.users().max(1);
        let mut next_user = 1;
        for cohort in &mut self.cohorts {
            let scaled = (cohort.users as f64 * total as f64 / current as f64).round() as u64;
            cohort.users = scaled.max(1);
            cohort.first_user = next_user;
            next_user += cohort.users;
        }
    }

    /// Replaces the horizon, as `--horizon` does, with the check the
    /// scenario file's own `horizon` gets: after every cohort's start and
    /// every event, which would otherwise never run.
    pub fn set_horizon(&mut self, horizon: Millis) -> Result<(), String> {
        use crate::time::Span;
        let path = &self.source.path;
        if let Some(cohort) = self.cohorts.iter().find(|c| c.start > horizon) {
            return Err(format!(
                "--horizon {}: cohort \"{}\" of {path} starts at {}, so it would never run; pass a horizon after {}",
                Span(horizon),
                cohort.name,
                Span(cohort.start),
                Span(cohort.start)
            ));
        }
        if let Some(event) = self.events.iter().find(|e| e.at > horizon) {
            return Err(format!(
                "--horizon {}: {path} has an event at {}, which would never run; pass a horizon after {}",
                Span(horizon),
                Span(event.at),
                Span(event.at)
            ));
        }
        self.horizon = Some(horizon);
        Ok(())
    }

    /// Total users over every cohort.
    pub fn users(&self) -> u64 {
        self.cohorts.iter().map(|c| c.users).sum()
    }

    /// Events the scripts produce if every user runs to the end; the
    /// horizon can cut this short. Saturates at `u64::MAX`.
    pub fn scripted_events(&self) -> u64 {
        self.cohorts
            .iter()
            .map(Cohort::scripted_events)
            .fold(0u64, u64::saturating_add)
    }
}

impl Cohort {
    /// Events this cohort's script produces if every user runs to the
    /// end. Saturates at `u64::MAX`.
    pub fn scripted_events(&self) -> u64 {
        let per_user = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Requests { count, .. } | Step::Replay { count, .. } => *count,
                Step::Wait { .. } => 0,
                _ => 1,
            })
            .fold(0u64, u64::saturating_add);
        per_user.saturating_mul(self.users)
    }
}
