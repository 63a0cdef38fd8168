//! `authcmp token issue` and `authcmp token verify`: one credential at a time.

use std::fmt::Write as _;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use serde_json::{Map, Value};

use super::source::{read_env, secret_text, Sources};
use super::{print_stdout, AppError};
use crate::strategy::{self, authjs_jwt, Options};
use crate::token::{self, Issued, TokenError, TokenSettings, Verdict};

#[derive(clap::Args, Debug)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Print the Set-Cookie headers a strategy sets, with their sizes and claims
    Issue(IssueArgs),
    /// Check a cookie as a strategy would; exit 0 on accept, 1 on reject
    Verify(VerifyArgs),
}

/// Auth.js major version of `authjs-jwt` tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuthjsVersion {
    /// `@auth/core` / next-auth v5: A256CBC-HS512 with a kid, cookie authjs.session-token
    V5,
    /// next-auth v4: A256GCM, cookie next-auth.session-token
    V4,
}

#[derive(clap::Args, Debug)]
pub struct StrategyArgs {
    /// Strategy kind, as `authcmp list` names it
    #[arg(value_name = "STRATEGY")]
    pub strategy: String,

    /// Signing or encryption secret: text, @path of a file, or - for standard
    /// input [default: the built-in benchmark secret, authcmp's DEFAULT_SECRET]
    #[arg(long, value_name = "S")]
    pub secret: Option<String>,

    /// Read the secret from this environment variable
    #[arg(long, value_name = "NAME", conflicts_with = "secret")]
    pub secret_env: Option<String>,

    /// Use the https cookie names (__Secure- prefix) and the Secure attribute
    #[arg(long)]
    pub secure: bool,

    /// Auth.js version for authjs-jwt [default: v5]
    #[arg(long = "version", value_enum, value_name = "VERSION")]
    pub authjs_version: Option<AuthjsVersion>,
}

#[derive(clap::Args, Debug)]
pub struct IssueArgs {
    #[command(flatten)]
    pub common: StrategyArgs,

    /// Claims as a JSON object (text, @path or -); sub, name, email and
    /// picture are the profile, other keys are kept [default: user 1's profile]
    #[arg(long, value_name = "JSON")]
    pub claims: Option<String>,

    /// Issue time: RFC 3339 in UTC, Unix seconds, or "now"
    /// [default: 2027-01-01T00:00:00Z, the start of authcmp's virtual clock]
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub common: StrategyArgs,

    /// The cookie: a bare value or `name=value; name=value` pairs as a Cookie
    /// header carries them (chunks too); @path of a file, or - for standard input
    #[arg(value_name = "COOKIE", required_unless_present = "cookie_env")]
    pub cookie: Option<String>,

    /// Read the cookie from this environment variable
    #[arg(long, value_name = "NAME", conflicts_with = "cookie")]
    pub cookie_env: Option<String>,

    /// Verification time: RFC 3339 in UTC, Unix seconds, or "now"
    /// [default: now, by the system clock, since pasted cookies are real]
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

/// Runs `token issue` or `token verify`.
pub fn run(args: &TokenArgs) -> Result<ExitCode, AppError> {
    let mut sources = Sources::default();
    match &args.command {
        TokenCommand::Issue(a) => issue(a, &mut sources),
        TokenCommand::Verify(a) => verify(a, &mut sources),
    }
}

fn issue(args: &IssueArgs, sources: &mut Sources) -> Result<ExitCode, AppError> {
    let options = strategy_options(&args.common, sources)?;
    let claims = match &args.claims {
        Some(arg) => Some(parse_claims(&sources.read("--claims", arg)?)?),
        None => None,
    };
    let at = match &args.at {
        Some(text) => parse_at(text)?,
        None => (crate::time::EPOCH_UNIX_MS / 1_000) as i64,
    };
    let issued = token::issue(&options, claims, at).map_err(app_error)?;
    print_stdout(&render_issued(&options, &issued, at));
    Ok(ExitCode::SUCCESS)
}

fn verify(args: &VerifyArgs, sources: &mut Sources) -> Result<ExitCode, AppError> {
    // The cookie is read first, so that `- --secret -` fails on the second
    // reader of standard input rather than on an empty secret.
    let bytes = match (&args.cookie, &args.cookie_env) {
        (_, Some(name)) => read_env("--cookie-env", name)?,
        (Some(arg), None) => sources.read("COOKIE", arg)?,
        (None, None) => {
            return Err(AppError::Usage(
                "no cookie given; pass COOKIE (text, @path or -) or --cookie-env NAME".into(),
            ))
        }
    };
    let options = strategy_options(&args.common, sources)?;
    let at = parse_at(args.at.as_deref().unwrap_or("now"))?;
    let verdict = match String::from_utf8(bytes) {
        Ok(cookie) => token::verify(&options, &cookie, at).map_err(app_error)?,
        Err(e) => not_utf8_verdict(&options, e.utf8_error()),
    };
    print_stdout(&printable(&render_verdict(&options, &verdict, at)));
    Ok(if verdict.outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Builds the options of the named kind with the flags applied.
fn strategy_options(args: &StrategyArgs, sources: &mut Sources) -> Result<Options, AppError> {
    let mut options = Options::defaults(&args.strategy).ok_or_else(|| {
        AppError::Usage(format!(
            "unknown strategy \"{}\"; valid names: {}",
            args.strategy,
            strategy::kind_names()
        ))
    })?;
    let secret = match (&args.secret, &args.secret_env) {
        (_, Some(name)) => Some(secret_text(
            "--secret-env",
            read_env("--secret-env", name)?,
        )?),
        (Some(arg), None) => Some(secret_text("--secret", sources.read("--secret", arg)?)?),
        (None, None) => None,
    };
    let settings = TokenSettings {
        secret,
        secure: args.secure,
        version: args.authjs_version.map(|v| match v {
            AuthjsVersion::V5 => authjs_jwt::Version::V5,
            AuthjsVersion::V4 => authjs_jwt::Version::V4,
        }),
    };
    token::configure(&mut options, &settings).map_err(app_error)?;
    Ok(options)
}

fn app_error(err: TokenError) -> AppError {
    match err {
        TokenError::Usage(message) => AppError::Usage(message),
        TokenError::Store(message) => AppError::Runtime(message),
    }
}

fn parse_at(text: &str) -> Result<i64, AppError> {
    token::parse_time(text, std::time::SystemTime::now())
        .map_err(|m| AppError::Usage(format!("--at: {m}")))
}

fn parse_claims(bytes: &[u8]) -> Result<Map<String, Value>, AppError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        AppError::Usage(format!(
            "--claims: invalid JSON ({e}); give an object such as '{{\"sub\":\"42\",\"name\":\"Ada\"}}'"
        ))
    })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(AppError::Usage(format!(
            "--claims: expected a JSON object, found {}; wrap the claims in {{...}}",
            json_type(&other)
        ))),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Builds the reject of a cookie that is not UTF-8, which no strategy reads.
fn not_utf8_verdict(options: &Options, err: std::str::Utf8Error) -> Verdict {
    Verdict {
        outcome: Err(strategy::Rejection::Invalid(format!(
            "the cookie is not valid UTF-8 (invalid byte at offset {}); cookie values are ASCII",
            err.valid_up_to()
        ))),
        cookie_name: token::cookie_name(options),
        cookies: 0,
        bytes: 0,
        header: None,
        claims: None,
        note: None,
    }
}

fn settings_line(options: &Options) -> String {
    let settings: Vec<String> = options
        .settings()
        .into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    format!(
        "strategy: {} ({})\n",
        options.kind_name(),
        settings.join(", ")
    )
}

fn render_issued(options: &Options, issued: &Issued, at: i64) -> String {
    let mut out = String::new();
    for line in &issued.set_cookies {
        let _ = writeln!(out, "Set-Cookie: {line}");
    }
    out.push('\n');
    let sizes: Vec<String> = issued
        .set_cookies
        .iter()
        .map(|l| l.len().to_string())
        .collect();
    let total: usize = issued.set_cookies.iter().map(String::len).sum();
    let _ = writeln!(
        out,
        "Set-Cookie bytes: {total} in {} header(s): {}",
        issued.set_cookies.len(),
        sizes.join(" + ")
    );
    let _ = writeln!(
        out,
        "cookie bytes: {} (the Cookie header part a browser sends back)",
        issued.cookie_header.len()
    );
    out.push_str(&settings_line(options));
    let _ = writeln!(out, "issued at: {} ({at})", token::rfc3339(at));
    render_details(
        &mut out,
        issued.header.as_ref(),
        issued.claims.as_ref(),
        "claims",
    );
    if let Some(note) = issued.note {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

fn render_verdict(options: &Options, verdict: &Verdict, at: i64) -> String {
    let mut out = match &verdict.outcome {
        Ok(()) => "accept\n".to_string(),
        Err(reason) => format!("reject: {}\n", token::shorten(&reason.to_string(), 300)),
    };
    if let (Options::AuthjsJwt(jwe), Err(reason)) = (options, &verdict.outcome) {
        if !jwe.secure && reason.to_string().contains("no matching decryption secret") {
            out.push_str(
                "hint: Auth.js derives the key from the cookie name; a cookie set over \
                 HTTPS as __Secure-authjs.session-token needs --secure\n",
            );
        }
    }
    out.push_str(&settings_line(options));
    let _ = writeln!(
        out,
        "cookie: {} in {} cookie(s), {} bytes",
        verdict.cookie_name, verdict.cookies, verdict.bytes
    );
    let _ = writeln!(out, "verified at: {} ({at})", token::rfc3339(at));
    if let Some(exp) = verdict
        .claims
        .as_ref()
        .and_then(|c| c.get("exp"))
        .and_then(Value::as_i64)
    {
        let _ = writeln!(out, "exp: {} ({exp})", token::rfc3339(exp));
    }
    let label = if verdict.outcome.is_ok() {
        "claims"
    } else {
        "claims (read from the rejected cookie)"
    };
    render_details(
        &mut out,
        verdict.header.as_ref(),
        verdict.claims.as_ref(),
        label,
    );
    if let Some(note) = verdict.note {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

fn render_details(
    out: &mut String,
    header: Option<&Map<String, Value>>,
    claims: Option<&Map<String, Value>>,
    claims_label: &str,
) {
    if let Some(header) = header {
        let text = serde_json::to_string(header).expect("a JSON map serializes");
        let _ = writeln!(out, "protected header: {text}");
    }
    if let Some(claims) = claims {
        let text = serde_json::to_string_pretty(claims).expect("a JSON map serializes");
        let _ = writeln!(out, "{claims_label}:\n{text}");
    }
}

/// Escapes control characters other than newlines, such as the terminal
/// escapes a hostile cookie can carry, before they reach the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod printable_tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            printable("found x\u{1b}]0;pwned\u{7}\nnext"),
            "found x\\u{1b}]0;pwned\\u{7}\nnext"
        );
    }
}
