//! Session stores: where server-side credentials and user rows live.
//!
//! Every backend counts its own operations at this layer, so that the store
//! reads and writes a figure reports are the ones the code path performed.

mod null;
mod postgres;
mod redis;
mod sqlite;
mod url;

pub use null::NullStore;
pub use postgres::PostgresStore;
pub use redis::RedisStore;
pub use sqlite::SqliteStore;
pub use url::{redact_url, DEFAULT_STORE_TIMEOUT};

use crate::time::Millis;

/// Operations a store has performed since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpCounts {
    /// Operations that read: `SELECT`, `GET`.
    pub reads: u64,
    /// Operations that write: `INSERT`, `UPDATE`, `DELETE`, `SET`, `DEL`.
    pub writes: u64,
}

impl OpCounts {
    /// Counts performed between `earlier` and `self`.
    pub fn since(self, earlier: OpCounts) -> OpCounts {
        OpCounts {
            reads: self.reads - earlier.reads,
            writes: self.writes - earlier.writes,
        }
    }

    pub fn total(self) -> u64 {
        self.reads + self.writes
    }
}

/// The profile fields Auth.js puts in a session: name, email and picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub image: String,
}

impl Profile {
    /// Profile of user `id` after `revision` profile changes, with
    /// `padding` characters appended to the name.
    pub fn generated(id: u64, revision: u32, padding: usize) -> Profile {
        let mut name = if revision == 0 {
            format!("User {id}")
        } else {
            format!("User {id} rev {revision}")
        };
        if padding > 0 {
            name.push(' ');
            name.extend(std::iter::repeat_n('x', padding - 1));
        }
        Profile {
            id,
            name,
            email: format!("user{id}@example.org"),
            image: format!("https://example.org/avatars/{id}.png"),
        }
    }
}

/// A session row, as Auth.js adapters store it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub user_id: u64,
    /// Virtual time at which the session expires.
    pub expires: Millis,
}

/// A user row: the profile and the time before which its credentials
/// are revoked (0 when none are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub profile: Profile,
    pub revoked_before: Millis,
}

/// A refresh token row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshRow {
    /// Id shared by every token rotated from the same sign-in.
    pub family: String,
    pub user_id: u64,
    pub expires: Millis,
    /// Whether the token was already exchanged for a new one.
    pub used: bool,
}

/// Bytes held for live credentials.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateSize {
    /// Live credential rows or keys.
    pub entries: u64,
    /// Bytes of their stored values: tokens, ids and timestamps.
    pub bytes: u64,
}

/// A store failure, with the backend named for the error message.
#[derive(Debug, thiserror::Error)]
#[error("{store} store: {message}")]
pub struct StoreError {
    pub store: String,
    pub message: String,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Storage for users and sessions, counting every operation it performs.
///
/// Methods marked "uncounted" prepare or inspect a run and are not part of
/// any figure; every other method adds to [`Store::counts`].
pub trait Store {
    /// Short description for reports, such as `sqlite (memory)`.
    fn describe(&self) -> String;

    /// Adds a user row before its first sign-in (uncounted).
    fn seed_user(&mut self, profile: &Profile) -> StoreResult<()>;

    /// Reads a user by id, as a sign-in's account lookup does (1 read).
    fn find_user(&mut self, id: u64) -> StoreResult<Option<UserRow>>;

    /// Writes new profile fields for a user (1 write).
    fn update_user(&mut self, profile: &Profile) -> StoreResult<()>;

    /// Marks every credential a user signed in with before `before` as
    /// revoked, on the user row (1 write).
    fn set_user_revoked_before(&mut self, user_id: u64, before: Millis) -> StoreResult<()>;

    /// Inserts a session row (1 write).
    fn create_session(&mut self, token: &str, user_id: u64, expires: Millis) -> StoreResult<()>;

    /// Reads a session joined to its user in one query (1 read).
    fn session_and_user(&mut self, token: &str) -> StoreResult<Option<(SessionRow, Profile)>>;

    /// Moves a session's expiry (1 write).
    fn update_session_expiry(&mut self, token: &str, expires: Millis) -> StoreResult<()>;

    /// Deletes one session (1 write).
    fn delete_session(&mut self, token: &str) -> StoreResult<()>;

    /// Deletes every session of a user, as a ban does (1 write).
    fn delete_user_sessions(&mut self, user_id: u64) -> StoreResult<()>;

    /// Measures the sessions still live at `now` (uncounted).
    fn session_state(&mut self, now: Millis) -> StoreResult<StateSize>;

    /// Adds a token id to the denylist until `expires`, when the token it
    /// blocks expires too (1 write).
    fn deny_token(&mut self, jti: &str, expires: Millis) -> StoreResult<()>;

    /// Denies every token of a user issued before `before`, until
    /// `expires` (1 write).
    fn deny_user_before(
        &mut self,
        user_id: u64,
        before: Millis,
        expires: Millis,
    ) -> StoreResult<()>;

    /// Checks in one query whether a token is denied by its id or by its
    /// user's revocation time (1 read).
    fn is_denied(&mut self, jti: &str, user_id: u64, issued_at: Millis) -> StoreResult<bool>;

    /// Measures the denylist entries still live at `now` (uncounted).
    fn denylist_state(&mut self, now: Millis) -> StoreResult<StateSize>;

    /// Inserts a refresh token into its rotation family (1 write).
    fn insert_refresh(&mut self, token: &str, row: &RefreshRow) -> StoreResult<()>;

    /// Reads a refresh token (1 read).
    fn find_refresh(&mut self, token: &str) -> StoreResult<Option<RefreshRow>>;

    /// Marks a refresh token as rotated, keeping it to detect reuse (1 write).
    fn mark_refresh_used(&mut self, token: &str) -> StoreResult<()>;

    /// Deletes every refresh token of a family (1 write).
    fn delete_refresh_family(&mut self, family: &str) -> StoreResult<()>;

    /// Deletes every refresh token of a user (1 write).
    fn delete_user_refresh(&mut self, user_id: u64) -> StoreResult<()>;

    /// Measures the refresh tokens still live at `now`, rotated ones
    /// included (uncounted).
    fn refresh_state(&mut self, now: Millis) -> StoreResult<StateSize>;

    /// Operations performed so far.
    fn counts(&self) -> OpCounts;
}

/// Where a strategy keeps its state, parsed from a store URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite::memory:`: a private in-memory database.
    SqliteMemory,
    /// `sqlite:PATH`: a file in WAL mode.
    SqliteFile(std::path::PathBuf),
    /// `postgres://` or `postgresql://`: a PostgreSQL server.
    Postgres(RemoteStore),
    /// `redis://`: a Redis server.
    Redis(RemoteStore),
}

/// A store server reached by URL, with the time allowed for connecting and
/// for each operation. Its `Debug` output redacts the password too.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteStore {
    /// The URL as given, password included: never print it, print
    /// [`redact_url`] of it.
    pub url: String,
    pub timeout: std::time::Duration,
}

impl StoreUrl {
    /// Parses `sqlite::memory:`, `sqlite:PATH`, `postgres://...` or
    /// `redis://...`. Server URLs are checked for syntax only; nothing
    /// connects until [`StoreUrl::open`].
    pub fn parse(url: &str) -> Result<StoreUrl, String> {
        if url == "sqlite::memory:" {
            return Ok(StoreUrl::SqliteMemory);
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            if path.starts_with(":memory:") {
                return Err(format!(
                    "store URL \"{url}\" has text after \":memory:\"; use \"sqlite::memory:\" or \"sqlite:PATH\""
                ));
            }
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(format!(
                    "store URL \"{url}\" has no path; use \"sqlite:PATH\" or \"sqlite::memory:\""
                ));
            }
            return Ok(StoreUrl::SqliteFile(path.into()));
        }
        let remote = RemoteStore {
            url: url.to_string(),
            timeout: DEFAULT_STORE_TIMEOUT,
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            postgres::check_url(url)?;
            return Ok(StoreUrl::Postgres(remote));
        }
        if url.starts_with("redis://") {
            redis::check_url(url)?;
            return Ok(StoreUrl::Redis(remote));
        }
        let scheme = url.split(':').next().unwrap_or(url);
        Err(format!(
            "unsupported store URL scheme \"{scheme}\"; use \"sqlite::memory:\", \"sqlite:PATH\", \
             \"postgres://USER:PASSWORD@HOST:PORT/DB\" or \"redis://HOST:PORT\""
        ))
    }

    /// Sets the connect and per-operation timeout of a server store; SQLite
    /// stores ignore it.
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> StoreUrl {
        if let StoreUrl::Postgres(remote) | StoreUrl::Redis(remote) = &mut self {
            remote.timeout = timeout;
        }
        self
    }

    /// Opens the store for one strategy and empties it; `namespace` keeps
    /// the tables or keys of strategies sharing one database apart.
    pub fn open(&self, namespace: &str) -> StoreResult<Box<dyn Store>> {
        match self {
            StoreUrl::SqliteMemory => Ok(Box::new(SqliteStore::open_in_memory()?)),
            StoreUrl::SqliteFile(path) => Ok(Box::new(SqliteStore::open_file(path, namespace)?)),
            StoreUrl::Postgres(remote) => Ok(Box::new(PostgresStore::open(remote, namespace)?)),
            StoreUrl::Redis(remote) => Ok(Box::new(RedisStore::open(remote, namespace)?)),
        }
    }

    /// Connects to a store that [`StoreUrl::open`] already prepared, keeping
    /// its contents, as a second application node would. A private
    /// in-memory SQLite database cannot be shared, so it is an error here.
    pub fn attach(&self, namespace: &str) -> StoreResult<Box<dyn Store>> {
        match self {
            StoreUrl::SqliteMemory => Err(StoreError {
                store: "sqlite (memory)".to_string(),
                message: "a private in-memory database cannot be shared; use sqlite:PATH"
                    .to_string(),
            }),
            StoreUrl::SqliteFile(path) => Ok(Box::new(SqliteStore::attach_file(path, namespace)?)),
            StoreUrl::Postgres(remote) => Ok(Box::new(PostgresStore::attach(remote, namespace)?)),
            StoreUrl::Redis(remote) => Ok(Box::new(RedisStore::attach(remote, namespace)?)),
        }
    }
}

/// Prints the URL with any password replaced by `***`.
impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::SqliteMemory => f.write_str("sqlite::memory:"),
            StoreUrl::SqliteFile(path) => write!(f, "sqlite:{}", path.display()),
            StoreUrl::Postgres(remote) | StoreUrl::Redis(remote) => {
                f.write_str(&redact_url(&remote.url))
            }
        }
    }
}
