//! Session stores: where server-side credentials and user rows live.
//!
//! Every backend counts its own operations at this layer, so that the store
//! reads and writes a figure reports are the ones the code path performed.

mod sqlite;

pub use sqlite::SqliteStore;

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
    fn find_user(&mut self, id: u64) -> StoreResult<Option<Profile>>;

    /// Writes new profile fields for a user (1 write).
    fn update_user(&mut self, profile: &Profile) -> StoreResult<()>;

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
}

impl StoreUrl {
    /// Parses `sqlite::memory:` or `sqlite:PATH`.
    pub fn parse(url: &str) -> Result<StoreUrl, String> {
        if url == "sqlite::memory:" {
            return Ok(StoreUrl::SqliteMemory);
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(format!(
                    "store URL \"{url}\" has no path; use \"sqlite:PATH\" or \"sqlite::memory:\""
                ));
            }
            return Ok(StoreUrl::SqliteFile(path.into()));
        }
        let scheme = url.split(':').next().unwrap_or(url);
        Err(format!(
            "unsupported store URL scheme \"{scheme}\"; use \"sqlite::memory:\" or \"sqlite:PATH\""
        ))
    }

    /// Opens the store for one strategy; `namespace` keeps the tables of
    /// strategies sharing one file apart.
    pub fn open(&self, namespace: &str) -> StoreResult<Box<dyn Store>> {
        match self {
            StoreUrl::SqliteMemory => Ok(Box::new(SqliteStore::open_in_memory()?)),
            StoreUrl::SqliteFile(path) => Ok(Box::new(SqliteStore::open_file(path, namespace)?)),
        }
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::SqliteMemory => f.write_str("sqlite::memory:"),
            StoreUrl::SqliteFile(path) => write!(f, "sqlite:{}", path.display()),
        }
    }
}
