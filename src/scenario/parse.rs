//! TOML to [`Scenario`]: deserialization, then checks that need the whole file.

use std::ops::Range;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::thresholds::{RawLimits, Thresholds};
use super::{sha256_hex, Cohort, GlobalEvent, JarId, Scenario, ScenarioError, Source, Step};
use crate::limits;
use crate::store::StoreUrl;
use crate::strategy::{self, authjs_jwt, cached_session, keys, Options, Setup};
use crate::time::{parse_duration, Millis, SECOND};

/// A duration written as a human string (`"90s"`, `"15m"`, `"30d"`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct Dur(pub(super) Millis);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurVisitor;
        impl Visitor<'_> for DurVisitor {
            type Value = Dur;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a duration string such as \"90s\", \"15m\" or \"30d\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Dur, E> {
                let ms = parse_duration(text).map_err(E::custom)?;
                if ms > limits::MAX_DURATION {
                    return Err(E::custom(format!(
                        "duration \"{text}\" is longer than the limit of {}; use at most \"3650d\" (about 10 years)",
                        crate::time::Span(limits::MAX_DURATION)
                    )));
                }
                Ok(Dur(ms))
            }
        }
        deserializer.deserialize_str(DurVisitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    seed: u64,
    horizon: Option<Spanned<Dur>>,
    #[serde(default, rename = "cohort")]
    cohorts: Vec<RawCohort>,
    #[serde(default, rename = "event")]
    events: Vec<RawEvent>,
    #[serde(default, rename = "strategy")]
    strategies: Vec<RawStrategy>,
    thresholds: Option<RawLimits>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCohort {
    name: Spanned<String>,
    users: Spanned<u64>,
    start: Option<Spanned<Dur>>,
    #[serde(default)]
    ramp: Dur,
    name_padding: Option<Spanned<usize>>,
    steps: Spanned<Vec<Spanned<RawStep>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum RawStep {
    Login(DeviceArg),
    Requests(RepeatArg),
    UpdateProfile(DeviceArg),
    Logout(DeviceArg),
    CopyCookie(CopyArg),
    Replay(ReplayArg),
    Wait(Spanned<Dur>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceArg {
    device: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RepeatArg {
    count: Spanned<u64>,
    every: Spanned<Dur>,
    jitter: Option<Spanned<f64>>,
    device: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CopyArg {
    to: Spanned<String>,
    device: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayArg {
    cookie: Spanned<String>,
    count: Spanned<u64>,
    every: Spanned<Dur>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    at: Spanned<Dur>,
    revoke: RawRevoke,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRevoke {
    cohort: Spanned<String>,
    fraction: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStrategy {
    name: Spanned<String>,
    label: Option<Spanned<String>>,
    store: Option<Spanned<String>>,
    max_age: Option<Spanned<Dur>>,
    update_age: Option<Spanned<Dur>>,
    lifetime: Option<Spanned<Dur>>,
    leeway: Option<Spanned<Dur>>,
    algorithm: Option<Spanned<String>>,
    secret: Option<Spanned<String>>,
    secure: Option<Spanned<bool>>,
    version: Option<Spanned<String>>,
    check_user: Option<Spanned<bool>>,
    refresh_lifetime: Option<Spanned<Dur>>,
    cache_ttl: Option<Spanned<Dur>>,
    nodes: Option<Spanned<usize>>,
    balance: Option<Spanned<String>>,
    thresholds: Option<RawLimits>,
}

/// Strategy options after their own checks, before they meet a kind.
struct StrategyValues {
    max_age: Option<Millis>,
    update_age: Option<Millis>,
    lifetime: Option<Millis>,
    refresh_lifetime: Option<Millis>,
    leeway: Option<Millis>,
    cache_ttl: Option<Millis>,
    algorithm: Option<jsonwebtoken::Algorithm>,
    secret: Option<String>,
    secure: Option<bool>,
    version: Option<authjs_jwt::Version>,
    check_user: Option<bool>,
    nodes: Option<usize>,
    balance: Option<cached_session::Balance>,
}

/// Replaces `slot` with `value` when the scenario set one.
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

/// Default device name for steps that name none.
pub const DEFAULT_DEVICE: &str = "browser";

/// Parses and checks a scenario. `file` names it in error messages.
pub fn parse(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let checker = Checker { file, text };
    let raw: RawScenario = toml::from_str(text).map_err(|e| checker.toml_error(&e))?;
    checker.scenario(raw)
}

/// Turns spans into `file:line:column` errors.
pub(super) struct Checker<'a> {
    file: &'a str,
    text: &'a str,
}

impl Checker<'_> {
    fn error(&self, span: Range<usize>, message: String) -> ScenarioError {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..start].chars().count() + 1;
        ScenarioError::Invalid {
            file: self.file.to_string(),
            line,
            column,
            message,
        }
    }

    pub(super) fn at<T>(&self, value: &Spanned<T>, key: &str, message: String) -> ScenarioError {
        self.error(value.span(), format!("key `{key}`: {message}"))
    }

    fn toml_error(&self, err: &toml::de::Error) -> ScenarioError {
        let span = err.span().unwrap_or(0..0);
        let first_line = err.message().lines().next().unwrap_or("").trim();
        let message = explain_serde_message(first_line);
        match key_before(self.text, &span) {
            Some(key) if !message.contains(&format!("`{key}`")) => {
                self.error(span, format!("key `{key}`: {message}"))
            }
            _ => self.error(span, message),
        }
    }

    fn scenario(&self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let name = raw.name.get_ref();
        // A name of dots alone (".", "..") would put results outside
        // their scenario folder.
        if name.is_empty()
            || name.chars().all(|c| c == '.')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(self.at(
                &raw.name,
                "name",
                format!("invalid name \"{name}\"; use letters, digits, '-', '_' or '.', with at least one letter or digit, since it names the results folder"),
            ));
        }
        let horizon = match &raw.horizon {
            Some(h) if h.get_ref().0 == 0 => {
                return Err(self.at(h, "horizon", "must be at least 1ms; give a duration such as \"1d\" or remove it to run every script to its end".into()))
            }
            Some(h) => Some(h.get_ref().0),
            None => None,
        };
        if raw.cohorts.is_empty() {
            return Err(self.error(
                0..0,
                "no [[cohort]] table; add at least one cohort with `name`, `users` and `steps`"
                    .into(),
            ));
        }
        let mut cohorts = Vec::new();
        let mut next_user = 1u64;
        for raw_cohort in &raw.cohorts {
            if cohorts
                .iter()
                .any(|c: &Cohort| c.name == *raw_cohort.name.get_ref())
            {
                return Err(self.at(
                    &raw_cohort.name,
                    "name",
                    format!(
                        "duplicate cohort name \"{}\"; give each cohort its own name",
                        raw_cohort.name.get_ref()
                    ),
                ));
            }
            let cohort = self.cohort(raw_cohort, next_user, horizon)?;
            next_user = next_user.saturating_add(cohort.users);
            cohorts.push(cohort);
        }
        let events = raw
            .events
            .iter()
            .map(|e| self.event(e, &cohorts, horizon))
            .collect::<Result<Vec<_>, _>>()?;
        let strategies = self.strategies(&raw.strategies)?;
        let mut thresholds = Thresholds {
            global: self.limits(raw.thresholds.as_ref())?,
            per_strategy: Vec::new(),
        };
        for (raw_strategy, setup) in raw.strategies.iter().zip(&strategies) {
            if let Some(limits) = &raw_strategy.thresholds {
                let limits = self.limits(Some(limits))?;
                thresholds.per_strategy.push((setup.label.clone(), limits));
            }
        }
        Ok(Scenario {
            name: name.clone(),
            description: raw.description,
            seed: raw.seed,
            horizon,
            cohorts,
            events,
            strategies,
            thresholds,
            source: Source {
                path: self.file.to_string(),
                sha256: sha256_hex(self.text),
            },
        })
    }

    fn cohort(
        &self,
        raw: &RawCohort,
        first_user: u64,
        horizon: Option<Millis>,
    ) -> Result<Cohort, ScenarioError> {
        let users = *raw.users.get_ref();
        if users == 0 {
            return Err(self.at(&raw.users, "users", "must be at least 1".into()));
        }
        if users > limits::MAX_USERS {
            return Err(self.at(
                &raw.users,
                "users",
                format!(
                    "{users} is too large; use at most {} users per cohort",
                    limits::MAX_USERS
                ),
            ));
        }
        let start = raw.start.as_ref().map_or(0, |s| s.get_ref().0);
        if let (Some(start_value), Some(h)) = (&raw.start, horizon) {
            if start > h {
                return Err(self.at(
                    start_value,
                    "start",
                    format!(
                        "cohort \"{}\" starts at {}, after the horizon {}, so it would never run; move `start` earlier or raise `horizon`",
                        raw.name.get_ref(),
                        crate::time::Span(start),
                        crate::time::Span(h)
                    ),
                ));
            }
        }
        if raw.steps.get_ref().is_empty() {
            return Err(self.at(
                &raw.steps,
                "steps",
                "no steps; add at least `{ login = {} }`".into(),
            ));
        }
        let padding = raw.name_padding.as_ref().map_or(0, |p| *p.get_ref());
        if let Some(p) = raw.name_padding.as_ref().filter(|_| padding > 1_000_000) {
            return Err(self.at(
                p,
                "name_padding",
                format!("{padding} is too large; use at most 1000000 characters"),
            ));
        }
        let mut jars = JarNames::default();
        let mut steps = Vec::new();
        for step in raw.steps.get_ref() {
            steps.push(self.step(step, &mut jars)?);
        }
        let cohort = Cohort {
            name: raw.name.get_ref().clone(),
            users,
            first_user,
            start,
            ramp: raw.ramp.0,
            steps,
            name_padding: padding,
            jars: jars.names,
        };
        let timeline = limits::cohort_timeline(&cohort);
        if timeline > u128::from(limits::MAX_TIMELINE) {
            return Err(self.at(
                &raw.steps,
                "steps",
                format!(
                    "cohort \"{}\" runs until about {} days of virtual time, longer than the limit of {} days; lower `count`, `every` or `wait`, or set a smaller `start` or `ramp`",
                    cohort.name,
                    timeline / u128::from(crate::time::DAY),
                    limits::MAX_TIMELINE / crate::time::DAY
                ),
            ));
        }
        Ok(cohort)
    }

    fn step(&self, step: &Spanned<RawStep>, jars: &mut JarNames) -> Result<Step, ScenarioError> {
        Ok(match step.get_ref() {
            RawStep::Login(arg) => Step::Login {
                device: jars
                    .device(arg.device.as_ref(), true)
                    .map_err(|m| self.device_error(step, arg.device.as_ref(), m))?,
            },
            RawStep::Requests(arg) => {
                let device = jars
                    .device(arg.device.as_ref(), false)
                    .map_err(|m| self.device_error(step, arg.device.as_ref(), m))?;
                let (count, every) = self.repeat(&arg.count, &arg.every)?;
                let jitter = match &arg.jitter {
                    Some(j) if !(0.0..1.0).contains(j.get_ref()) => {
                        return Err(self.at(j, "jitter", format!("{} is out of range; use a fraction from 0 (fixed gaps) up to but excluding 1", j.get_ref())))
                    }
                    Some(j) => *j.get_ref(),
                    None => 0.0,
                };
                Step::Requests {
                    device,
                    count,
                    every,
                    jitter,
                }
            }
            RawStep::UpdateProfile(arg) => Step::UpdateProfile {
                device: jars
                    .device(arg.device.as_ref(), false)
                    .map_err(|m| self.device_error(step, arg.device.as_ref(), m))?,
            },
            RawStep::Logout(arg) => Step::Logout {
                device: jars
                    .device(arg.device.as_ref(), false)
                    .map_err(|m| self.device_error(step, arg.device.as_ref(), m))?,
            },
            RawStep::CopyCookie(arg) => {
                let device = jars
                    .device(arg.device.as_ref(), false)
                    .map_err(|m| self.device_error(step, arg.device.as_ref(), m))?;
                let to = jars
                    .copy(arg.to.get_ref())
                    .map_err(|m| self.at(&arg.to, "to", m))?;
                Step::CopyCookie { device, to }
            }
            RawStep::Replay(arg) => {
                let copy = jars
                    .copied(arg.cookie.get_ref())
                    .map_err(|m| self.at(&arg.cookie, "cookie", m))?;
                let (count, every) = self.repeat(&arg.count, &arg.every)?;
                Step::Replay { copy, count, every }
            }
            RawStep::Wait(span) => Step::Wait {
                span: span.get_ref().0,
            },
        })
    }

    fn repeat(
        &self,
        count: &Spanned<u64>,
        every: &Spanned<Dur>,
    ) -> Result<(u64, Millis), ScenarioError> {
        if *count.get_ref() == 0 {
            return Err(self.at(
                count,
                "count",
                "must be at least 1; remove the step to send no requests".into(),
            ));
        }
        if every.get_ref().0 == 0 {
            return Err(self.at(
                every,
                "every",
                "must be at least 1ms; give the gap between requests, such as \"30s\"".into(),
            ));
        }
        Ok((*count.get_ref(), every.get_ref().0))
    }

    fn device_error(
        &self,
        step: &Spanned<RawStep>,
        device: Option<&Spanned<String>>,
        message: String,
    ) -> ScenarioError {
        match device {
            Some(d) => self.at(d, "device", message),
            None => self.error(step.span(), message),
        }
    }

    fn event(
        &self,
        raw: &RawEvent,
        cohorts: &[Cohort],
        horizon: Option<Millis>,
    ) -> Result<GlobalEvent, ScenarioError> {
        let at = raw.at.get_ref().0;
        if let Some(h) = horizon {
            if at > h {
                return Err(self.at(
                    &raw.at,
                    "at",
                    format!(
                        "event at {} is after the horizon {}; move it earlier or raise `horizon`",
                        crate::time::Span(at),
                        crate::time::Span(h)
                    ),
                ));
            }
        }
        let revoke = &raw.revoke;
        let Some(index) = cohorts
            .iter()
            .position(|c| c.name == *revoke.cohort.get_ref())
        else {
            let names: Vec<&str> = cohorts.iter().map(|c| c.name.as_str()).collect();
            return Err(self.at(
                &revoke.cohort,
                "cohort",
                format!(
                    "no cohort named \"{}\"; use one of: {}",
                    revoke.cohort.get_ref(),
                    names.join(", ")
                ),
            ));
        };
        let fraction = *revoke.fraction.get_ref();
        if !(fraction > 0.0 && fraction <= 1.0) {
            return Err(self.at(&revoke.fraction, "fraction", format!("{fraction} is out of range; use a fraction above 0 and at most 1, such as 0.05 for 5%")));
        }
        Ok(GlobalEvent {
            at,
            revoke_cohort: index,
            revoke_fraction: fraction,
        })
    }

    fn strategies(&self, raws: &[RawStrategy]) -> Result<Vec<Setup>, ScenarioError> {
        if raws.is_empty() {
            return Ok(strategy::KINDS
                .iter()
                .filter(|k| k.compared)
                .filter_map(|k| Setup::with_defaults(k.name))
                .collect());
        }
        let mut setups: Vec<Setup> = Vec::new();
        for raw in raws {
            let setup = self.strategy(raw)?;
            if setups.iter().any(|s| s.label == setup.label) {
                let span = raw.label.as_ref().map_or(raw.name.span(), |l| l.span());
                return Err(self.error(span, format!("key `label`: two strategies are labelled \"{}\"; add a distinct `label` to each", setup.label)));
            }
            setups.push(setup);
        }
        Ok(setups)
    }

    fn strategy(&self, raw: &RawStrategy) -> Result<Setup, ScenarioError> {
        let name = raw.name.get_ref();
        let Some(kind) = strategy::kind(name) else {
            return Err(self.at(
                &raw.name,
                "name",
                format!(
                    "unknown strategy \"{name}\"; valid names: {}",
                    strategy::kind_names()
                ),
            ));
        };
        for (key, span) in raw.present_keys() {
            if !kind.keys.contains(&key) {
                return Err(self.error(
                    span,
                    format!(
                        "key `{key}` does not apply to strategy `{name}`; it accepts: {}, and `label`, `store` and `thresholds` like every strategy",
                        kind.keys.join(", ")
                    ),
                ));
            }
        }
        let values = self.strategy_values(raw)?;
        let mut options = Options::defaults(name).expect("every kind has defaults");
        // Keys that do not apply were rejected above, so each arm takes
        // every key its kind accepts.
        match &mut options {
            Options::AuthjsDatabase(o) => {
                set(&mut o.max_age, values.max_age);
                set(&mut o.update_age, values.update_age);
                set(&mut o.secure, values.secure);
            }
            Options::AuthjsJwt(o) => {
                set(&mut o.max_age, values.max_age);
                set(&mut o.secret, values.secret);
                set(&mut o.secure, values.secure);
                set(&mut o.version, values.version);
                set(&mut o.check_user, values.check_user);
            }
            Options::Jwt(o) | Options::JwtDenylist(o) => {
                set(&mut o.lifetime, values.lifetime);
                set(&mut o.leeway, values.leeway);
                set(&mut o.algorithm, values.algorithm);
                set(&mut o.secret, values.secret);
                set(&mut o.secure, values.secure);
            }
            Options::AccessRefresh(o) => {
                set(&mut o.lifetime, values.lifetime);
                set(&mut o.refresh_lifetime, values.refresh_lifetime);
                set(&mut o.leeway, values.leeway);
                set(&mut o.algorithm, values.algorithm);
                set(&mut o.secret, values.secret);
                set(&mut o.secure, values.secure);
            }
            Options::CachedSession(o) => {
                set(&mut o.session.max_age, values.max_age);
                set(&mut o.session.update_age, values.update_age);
                set(&mut o.session.secure, values.secure);
                set(&mut o.cache_ttl, values.cache_ttl);
                set(&mut o.nodes, values.nodes);
                set(&mut o.balance, values.balance);
            }
            Options::SignedCookie(o) => {
                set(&mut o.max_age, values.max_age);
                set(&mut o.secret, values.secret);
                set(&mut o.secure, values.secure);
            }
            Options::Noop => {}
        }
        let store = match &raw.store {
            Some(url) => StoreUrl::parse(url.get_ref()).map_err(|m| self.at(url, "store", m))?,
            None => StoreUrl::SqliteMemory,
        };
        let label = match &raw.label {
            Some(l) if l.get_ref().trim().is_empty() => {
                return Err(self.at(
                    l,
                    "label",
                    "is empty; give a short row name or remove the key".into(),
                ))
            }
            Some(l) if l.get_ref().chars().any(char::is_control) || l.get_ref().chars().count() > 64 => {
                return Err(self.at(
                    l,
                    "label",
                    "must be at most 64 characters without control characters, since it heads a table row and names a chart series; shorten it or remove the control characters".into(),
                ))
            }
            Some(l) => l.get_ref().clone(),
            None => name.clone(),
        };
        Ok(Setup {
            label,
            options,
            store,
        })
    }

    /// Checks every strategy option the table sets, whatever its kind.
    fn strategy_values(&self, raw: &RawStrategy) -> Result<StrategyValues, ScenarioError> {
        let at_least_second = |value: &Option<Spanned<Dur>>, key: &str| match value {
            Some(d) if d.get_ref().0 < SECOND => Err(self.at(d, key, "must be at least 1s".into())),
            Some(d) => Ok(Some(d.get_ref().0)),
            None => Ok(None),
        };
        let any = |value: &Option<Spanned<Dur>>| value.as_ref().map(|d| d.get_ref().0);
        let algorithm = match &raw.algorithm {
            Some(v) => Some(keys::algorithm(v.get_ref()).ok_or_else(|| {
                self.at(
                    v,
                    "algorithm",
                    format!(
                        "unsupported algorithm \"{}\"; use one of {}",
                        v.get_ref(),
                        keys::algorithm_names()
                    ),
                )
            })?),
            None => None,
        };
        let version = match &raw.version {
            Some(v) => Some(match v.get_ref().as_str() {
                "v5" => authjs_jwt::Version::V5,
                "v4" => authjs_jwt::Version::V4,
                other => {
                    return Err(self.at(
                        v,
                        "version",
                        format!("unknown Auth.js version \"{other}\"; use \"v5\" or \"v4\""),
                    ))
                }
            }),
            None => None,
        };
        let balance = match &raw.balance {
            Some(v) => Some(match v.get_ref().as_str() {
                "round-robin" => cached_session::Balance::RoundRobin,
                "sticky" => cached_session::Balance::Sticky,
                other => {
                    return Err(self.at(
                        v,
                        "balance",
                        format!("unknown balancing \"{other}\"; use \"round-robin\" or \"sticky\""),
                    ))
                }
            }),
            None => None,
        };
        let nodes = match &raw.nodes {
            Some(v) if !(1..=64).contains(v.get_ref()) => {
                return Err(self.at(
                    v,
                    "nodes",
                    format!(
                        "{} is out of range; use 1 to 64 application nodes",
                        v.get_ref()
                    ),
                ))
            }
            Some(v) => Some(*v.get_ref()),
            None => None,
        };
        let secret = match &raw.secret {
            Some(v) => Some(self.secret(v)?),
            None => None,
        };
        Ok(StrategyValues {
            max_age: at_least_second(&raw.max_age, "max_age")?,
            update_age: any(&raw.update_age),
            lifetime: at_least_second(&raw.lifetime, "lifetime")?,
            refresh_lifetime: at_least_second(&raw.refresh_lifetime, "refresh_lifetime")?,
            leeway: any(&raw.leeway),
            cache_ttl: any(&raw.cache_ttl),
            algorithm,
            secret,
            secure: raw.secure.as_ref().map(|v| *v.get_ref()),
            version,
            check_user: raw.check_user.as_ref().map(|v| *v.get_ref()),
            nodes,
            balance,
        })
    }

    fn secret(&self, value: &Spanned<String>) -> Result<String, ScenarioError> {
        if value.get_ref().is_empty() {
            return Err(self.at(value, "secret", "is empty; give a secret string or remove the key to use the built-in benchmark secret".into()));
        }
        Ok(value.get_ref().clone())
    }
}

impl RawStrategy {
    /// The optional keys this table sets, with their spans.
    fn present_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        let mut keys = Vec::new();
        let mut add = |key: &'static str, span: Option<Range<usize>>| {
            if let Some(span) = span {
                keys.push((key, span));
            }
        };
        add("max_age", self.max_age.as_ref().map(Spanned::span));
        add("update_age", self.update_age.as_ref().map(Spanned::span));
        add("lifetime", self.lifetime.as_ref().map(Spanned::span));
        add("leeway", self.leeway.as_ref().map(Spanned::span));
        add("algorithm", self.algorithm.as_ref().map(Spanned::span));
        add("secret", self.secret.as_ref().map(Spanned::span));
        add("secure", self.secure.as_ref().map(Spanned::span));
        add("version", self.version.as_ref().map(Spanned::span));
        add("check_user", self.check_user.as_ref().map(Spanned::span));
        add(
            "refresh_lifetime",
            self.refresh_lifetime.as_ref().map(Spanned::span),
        );
        add("cache_ttl", self.cache_ttl.as_ref().map(Spanned::span));
        add("nodes", self.nodes.as_ref().map(Spanned::span));
        add("balance", self.balance.as_ref().map(Spanned::span));
        keys
    }
}

/// Names of the jars a cohort's script uses, in order of first use.
#[derive(Default)]
struct JarNames {
    names: Vec<String>,
    /// Whether each jar is a copy rather than a device.
    copies: Vec<bool>,
    /// Devices that a login step has appeared on so far.
    logged_in: Vec<bool>,
}

impl JarNames {
    fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn push(&mut self, name: &str, copy: bool) -> Result<JarId, String> {
        let id = JarId::try_from(self.names.len()).map_err(|_| {
            "too many devices and copies in one cohort; use at most 65535".to_string()
        })?;
        self.names.push(name.to_string());
        self.copies.push(copy);
        self.logged_in.push(false);
        Ok(id)
    }

    /// Resolves the device a step names; `login` marks it signed in.
    fn device(&mut self, name: Option<&Spanned<String>>, login: bool) -> Result<JarId, String> {
        let name = name.map_or(DEFAULT_DEVICE, |n| n.get_ref().as_str());
        if name.is_empty() {
            return Err("device name is empty; name the device, such as \"phone\"".into());
        }
        let index = match self.find(name) {
            Some(i) if self.copies[i] => {
                return Err(format!("\"{name}\" is a copied cookie, not a device; replay it with `replay = {{ cookie = \"{name}\", ... }}`"))
            }
            Some(i) => i,
            None if login => self.push(name, false)? as usize,
            None => {
                return Err(format!(
                    "device \"{name}\" is used before any login on it; add `{{ login = {{ device = \"{name}\" }} }}` before this step"
                ))
            }
        };
        if login {
            self.logged_in[index] = true;
        }
        Ok(index as JarId)
    }

    fn copy(&mut self, name: &str) -> Result<JarId, String> {
        if name.is_empty() {
            return Err("copy name is empty; name the copy, such as \"stolen\"".into());
        }
        match self.find(name) {
            Some(i) if !self.copies[i] => Err(format!(
                "\"{name}\" is already a device name; give the copy another name"
            )),
            Some(i) => Ok(i as JarId),
            None => self.push(name, true),
        }
    }

    fn copied(&self, name: &str) -> Result<JarId, String> {
        match self.find(name) {
            Some(i) if self.copies[i] => Ok(i as JarId),
            Some(_) => Err(format!("\"{name}\" is a device, not a copied cookie; add `{{ copy_cookie = {{ to = \"{name}-copy\" }} }}` and replay that")),
            None => Err(format!("no cookie was copied as \"{name}\" before this step; add `{{ copy_cookie = {{ to = \"{name}\" }} }}` earlier")),
        }
    }
}

/// Returns the expected key closest to `field` in spelling, if one is
/// close enough to be a likely typo. Both come quoted in backticks, as serde writes them.
fn closest_key<'a>(field: &str, expected: &'a str) -> Option<&'a str> {
    let field = field.trim_matches('`');
    expected
        .split(", ")
        .map(|key| key.trim_matches('`'))
        .map(|key| (strsim::damerau_levenshtein(field, key), key))
        .filter(|&(distance, key)| {
            distance <= 2.max(key.len() / 4) || (field.len() >= 4 && key.starts_with(field))
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, key)| key)
}

/// Rewrites serde's wording into scenario terms and adds the fix.
fn explain_serde_message(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let (field, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
        let expected = expected.trim_start_matches(" one of").trim();
        if expected.is_empty() {
            return format!("unknown key {field}; remove it");
        }
        return match closest_key(field, expected) {
            Some(close) => {
                format!("unknown key {field}; did you mean `{close}`? Expected one of {expected}")
            }
            None => format!(
                "unknown key {field}; expected one of {expected}; remove it or correct its spelling"
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        return format!("missing key {rest}; add it to this table");
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (step, expected) = rest.split_once(", expected").unwrap_or((rest, ""));
        let expected = expected.trim_start_matches(" one of").trim();
        return format!("unknown step {step}; expected one of {expected}");
    }
    if message.starts_with("invalid value") {
        let message = message
            .replace("expected u64", "expected a whole number of 0 or more")
            .replace("expected usize", "expected a whole number of 0 or more");
        return format!("{message}; change the value");
    }
    if message.starts_with("invalid type") {
        let message = message
            .replace("expected u64", "expected a whole number of 0 or more")
            .replace("expected usize", "expected a whole number of 0 or more");
        return format!("{message}; change the value to that type");
    }
    if message.starts_with("invalid duration") || message.starts_with("duration") {
        return message.to_string();
    }
    format!("{message}; fix the TOML at this place")
}

/// Finds the key whose value starts at `span`: the word before `=` on the
/// same line, or the span's own text when it is a key.
fn key_before(text: &str, span: &Range<usize>) -> Option<String> {
    let start = span.start.min(text.len());
    let end = span.end.min(text.len()).max(start);
    let own = text[start..end].trim();
    let is_key = |word: &str| {
        word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if is_key(own) {
        return Some(own.to_string());
    }
    let before = text[..start].trim_end();
    let before = before.strip_suffix('=')?.trim_end();
    let key: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    is_key(&key).then_some(key)
}

/// Re-validates one strategy of a scenario with `key = value` set in its
/// table, and returns that strategy's setup.
///
/// `selector` is a label, or a kind name. A kind name that no table has
/// gets a new table with the kind's defaults. The scenario is rebuilt as
/// TOML and parsed again, so the value passes the same checks as in a
/// file. Errors are messages without a file position, since the
/// rebuilt text is not the user's file.
pub fn strategy_with_key(
    text: &str,
    selector: &str,
    key: &str,
    value: toml::Value,
) -> Result<Setup, String> {
    let mut root: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let tables = root
        .entry("strategy")
        .or_insert_with(|| toml::Value::Array(Vec::new()))
        .as_array_mut()
        .ok_or("`strategy` is not an array of tables")?;
    let label_of = |table: &toml::Value| {
        let field = |name: &str| table.get(name).and_then(toml::Value::as_str);
        field("label").or(field("name")).unwrap_or("").to_string()
    };
    let matching: Vec<usize> = (0..tables.len())
        .filter(|&i| {
            label_of(&tables[i]) == selector
                || tables[i].get("name").and_then(toml::Value::as_str) == Some(selector)
        })
        .collect();

    let index = match matching.as_slice() {
        [index] => *index,
        [] if strategy::kind(selector).is_some() => {
            let mut table = toml::Table::new();
            table.insert("name".into(), selector.into());
            tables.push(toml::Value::Table(table));
            tables.len() - 1
        }
        [] => {
            let labels: Vec<String> = tables.iter().map(label_of).collect();
            return Err(format!(
                "unknown strategy \"{selector}\"; valid names: {} (labels in the scenario: {})",
                strategy::kind_names(),
                labels.join(", ")
            ));
        }
        several => {
            let labels: Vec<String> = several.iter().map(|&i| label_of(&tables[i])).collect();
            return Err(format!(
                "\"{selector}\" matches {} strategies; name one by its label: {}",
                several.len(),
                labels.join(", ")
            ));
        }
    };

    let kind_name = tables[index]
        .get("name")
        .and_then(toml::Value::as_str)
        .unwrap_or(selector)
        .to_string();
    let kind = strategy::kind(&kind_name).ok_or(format!("unknown strategy \"{kind_name}\""))?;
    if !kind.keys.contains(&key) {
        return Err(format!(
            "key `{key}` does not apply to strategy `{kind_name}`; it accepts: {}",
            kind.keys.join(", ")
        ));
    }

    let label = label_of(&tables[index]);
    let table = tables[index]
        .as_table_mut()
        .ok_or("a `strategy` entry is not a table")?;
    table.insert(key.to_string(), value);
    let rebuilt = toml::to_string(&root).map_err(|e| e.to_string())?;
    let scenario = parse("--param", &rebuilt).map_err(|e| match e {
        ScenarioError::Invalid { message, .. } => message
            .strip_prefix(&format!("key `{key}`: "))
            .map_or(message.clone(), str::to_string),
        other => other.to_string(),
    })?;
    scenario
        .strategies
        .into_iter()
        .find(|s| s.label == label)
        .ok_or(format!(
            "strategy \"{label}\" is missing after setting `{key}`"
        ))
}

#[cfg(test)]
mod tests {
    use super::closest_key;

    const KEYS: &str = "`lifetime`, `leeway`, `max_cookie_bytes`, `max_p50_verify`";

    #[test]
    fn close_keys_are_suggested() {
        assert_eq!(closest_key("`lifetmie`", KEYS), Some("lifetime"));
        assert_eq!(closest_key("`leway`", KEYS), Some("leeway"));
        assert_eq!(closest_key("`max_cookie`", KEYS), Some("max_cookie_bytes"));
        assert_eq!(closest_key("`max_p50`", KEYS), Some("max_p50_verify"));
    }

    #[test]
    fn distant_keys_are_not_suggested() {
        assert_eq!(closest_key("`zzzzzzz`", KEYS), None);
        assert_eq!(closest_key("`max`", KEYS), None);
        assert_eq!(closest_key("`seed`", KEYS), None);
    }
}
