//! SQLite through `rusqlite` (bundled): the embedded default store.
//!
//! Each statement is prepared once and kept in rusqlite's statement cache.
//! The connection turns on SQLite's query-planner stability guarantee
//! (`SQLITE_DBCONFIG_ENABLE_QPSG`): without it, SQLite re-prepares the
//! session-join-user lookup on every call once rusqlite clears its bindings
//! on return to the cache, which roughly triples the cost of a lookup.

use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OptionalExtension, StatementStatus};

use super::{OpCounts, Profile, SessionRow, StateSize, Store, StoreError, StoreResult};
use crate::time::Millis;

/// SQL text of every statement, with the table names of one namespace.
struct Statements {
    insert_user: String,
    find_user: String,
    update_user: String,
    create_session: String,
    session_and_user: String,
    update_expiry: String,
    delete_session: String,
    delete_user_sessions: String,
    session_state: String,
}

impl Statements {
    fn new(users: &str, sessions: &str) -> Self {
        Statements {
            insert_user: format!("INSERT OR REPLACE INTO {users} (id, name, email, image) VALUES (?1, ?2, ?3, ?4)"),
            find_user: format!("SELECT id, name, email, image FROM {users} WHERE id = ?1"),
            update_user: format!("UPDATE {users} SET name = ?2, email = ?3, image = ?4 WHERE id = ?1"),
            create_session: format!("INSERT INTO {sessions} (session_token, user_id, expires) VALUES (?1, ?2, ?3)"),
            session_and_user: format!(
                "SELECT s.user_id, s.expires, u.name, u.email, u.image FROM {sessions} s \
                 JOIN {users} u ON u.id = s.user_id WHERE s.session_token = ?1"
            ),
            update_expiry: format!("UPDATE {sessions} SET expires = ?2 WHERE session_token = ?1"),
            delete_session: format!("DELETE FROM {sessions} WHERE session_token = ?1"),
            delete_user_sessions: format!("DELETE FROM {sessions} WHERE user_id = ?1"),
            session_state: format!(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(session_token) + 16), 0) FROM {sessions} WHERE expires >= ?1"
            ),
        }
    }
}

/// A SQLite database holding a users table and a sessions table.
pub struct SqliteStore {
    conn: Connection,
    label: String,
    sql: Statements,
    counts: OpCounts,
}

impl SqliteStore {
    /// Opens a private in-memory database.
    pub fn open_in_memory() -> StoreResult<Self> {
        let label = "sqlite (memory)".to_string();
        let conn = Connection::open_in_memory().map_err(|e| error(&label, e))?;
        Self::init(conn, label, "authcmp")
    }

    /// Opens or creates a database file in WAL mode. The tables are named
    /// `authcmp_<namespace>_users` and `authcmp_<namespace>_sessions`, and
    /// are emptied first so that each run starts from the same state.
    pub fn open_file(path: &Path, namespace: &str) -> StoreResult<Self> {
        let label = format!("sqlite ({})", path.display());
        let conn = Connection::open(path).map_err(|e| error(&label, e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| error(&label, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| error(&label, e))?;
        let prefix: String = namespace
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        Self::init(conn, label, &format!("authcmp_{prefix}"))
    }

    fn init(conn: Connection, label: String, prefix: &str) -> StoreResult<Self> {
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(|e| error(&label, e))?;
        conn.set_prepared_statement_cache_capacity(32);
        let users = format!("{prefix}_users");
        let sessions = format!("{prefix}_sessions");
        let schema = format!(
            "DROP TABLE IF EXISTS {sessions};
             DROP TABLE IF EXISTS {users};
             CREATE TABLE {users} (
                 id INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 email TEXT NOT NULL,
                 image TEXT NOT NULL
             );
             CREATE TABLE {sessions} (
                 session_token TEXT PRIMARY KEY,
                 user_id INTEGER NOT NULL REFERENCES {users}(id),
                 expires INTEGER NOT NULL
             );
             CREATE INDEX {sessions}_user_id ON {sessions}(user_id);"
        );
        conn.execute_batch(&schema).map_err(|e| error(&label, e))?;
        Ok(SqliteStore {
            conn,
            label,
            sql: Statements::new(&users, &sessions),
            counts: OpCounts::default(),
        })
    }

    /// Times SQLite has re-prepared the session lookup since it was first
    /// prepared; 0 while the query-planner stability guarantee holds.
    pub fn lookup_reprepares(&self) -> StoreResult<i32> {
        let stmt = self
            .conn
            .prepare_cached(&self.sql.session_and_user)
            .map_err(|e| error(&self.label, e))?;
        Ok(stmt.get_status(StatementStatus::RePrepare))
    }

    /// Runs one counted write; `pick` selects its SQL.
    fn write(
        &mut self,
        pick: fn(&Statements) -> &str,
        params: impl rusqlite::Params,
    ) -> StoreResult<()> {
        self.counts.writes += 1;
        let mut stmt = self
            .conn
            .prepare_cached(pick(&self.sql))
            .map_err(|e| error(&self.label, e))?;
        stmt.execute(params).map_err(|e| error(&self.label, e))?;
        Ok(())
    }
}

fn error(label: &str, err: rusqlite::Error) -> StoreError {
    StoreError {
        store: label.to_string(),
        message: err.to_string(),
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn read_profile(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Profile> {
    Ok(Profile {
        id: 0,
        name: row.get(first)?,
        email: row.get(first + 1)?,
        image: row.get(first + 2)?,
    })
}

impl Store for SqliteStore {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn seed_user(&mut self, profile: &Profile) -> StoreResult<()> {
        let mut stmt = self
            .conn
            .prepare_cached(&self.sql.insert_user)
            .map_err(|e| error(&self.label, e))?;
        stmt.execute(params![
            to_i64(profile.id),
            profile.name,
            profile.email,
            profile.image
        ])
        .map_err(|e| error(&self.label, e))?;
        Ok(())
    }

    fn find_user(&mut self, id: u64) -> StoreResult<Option<Profile>> {
        self.counts.reads += 1;
        let mut stmt = self
            .conn
            .prepare_cached(&self.sql.find_user)
            .map_err(|e| error(&self.label, e))?;
        stmt.query_row(params![to_i64(id)], |row| {
            let mut profile = read_profile(row, 1)?;
            profile.id = row.get::<_, i64>(0)? as u64;
            Ok(profile)
        })
        .optional()
        .map_err(|e| error(&self.label, e))
    }

    fn update_user(&mut self, profile: &Profile) -> StoreResult<()> {
        self.write(
            |sql| &sql.update_user,
            params![
                to_i64(profile.id),
                profile.name,
                profile.email,
                profile.image
            ],
        )
    }

    fn create_session(&mut self, token: &str, user_id: u64, expires: Millis) -> StoreResult<()> {
        self.write(
            |sql| &sql.create_session,
            params![token, to_i64(user_id), to_i64(expires)],
        )
    }

    fn session_and_user(&mut self, token: &str) -> StoreResult<Option<(SessionRow, Profile)>> {
        self.counts.reads += 1;
        let mut stmt = self
            .conn
            .prepare_cached(&self.sql.session_and_user)
            .map_err(|e| error(&self.label, e))?;
        stmt.query_row(params![token], |row| {
            let user_id = row.get::<_, i64>(0)? as u64;
            let session = SessionRow {
                user_id,
                expires: row.get::<_, i64>(1)? as u64,
            };
            let mut profile = read_profile(row, 2)?;
            profile.id = user_id;
            Ok((session, profile))
        })
        .optional()
        .map_err(|e| error(&self.label, e))
    }

    fn update_session_expiry(&mut self, token: &str, expires: Millis) -> StoreResult<()> {
        self.write(|sql| &sql.update_expiry, params![token, to_i64(expires)])
    }

    fn delete_session(&mut self, token: &str) -> StoreResult<()> {
        self.write(|sql| &sql.delete_session, params![token])
    }

    fn delete_user_sessions(&mut self, user_id: u64) -> StoreResult<()> {
        self.write(|sql| &sql.delete_user_sessions, params![to_i64(user_id)])
    }

    fn session_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        let mut stmt = self
            .conn
            .prepare_cached(&self.sql.session_state)
            .map_err(|e| error(&self.label, e))?;
        stmt.query_row(params![to_i64(now)], |row| {
            Ok(StateSize {
                entries: row.get::<_, i64>(0)? as u64,
                bytes: row.get::<_, i64>(1)? as u64,
            })
        })
        .map_err(|e| error(&self.label, e))
    }

    fn counts(&self) -> OpCounts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_one_read_and_not_reprepared() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        for id in 1..=100 {
            store.seed_user(&Profile::generated(id, 0, 0)).unwrap();
            store
                .create_session(&format!("token-{id}"), id, 1_000)
                .unwrap();
        }
        let before = store.counts();
        for id in 1..=100 {
            let (session, profile) = store
                .session_and_user(&format!("token-{id}"))
                .unwrap()
                .unwrap();
            assert_eq!(session.user_id, id);
            assert_eq!(profile.name, format!("User {id}"));
        }
        assert_eq!(
            store.counts().since(before),
            OpCounts {
                reads: 100,
                writes: 0
            }
        );
        assert_eq!(store.lookup_reprepares().unwrap(), 0);
    }

    #[test]
    fn state_counts_live_sessions() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        store.seed_user(&Profile::generated(1, 0, 0)).unwrap();
        store.create_session(&"a".repeat(36), 1, 500).unwrap();
        store.create_session(&"b".repeat(36), 1, 2_000).unwrap();
        let state = store.session_state(1_000).unwrap();
        assert_eq!(
            state,
            StateSize {
                entries: 1,
                bytes: 52
            }
        );
        store.delete_user_sessions(1).unwrap();
        assert_eq!(store.session_state(0).unwrap().entries, 0);
    }

    #[test]
    fn file_store_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = SqliteStore::open_file(&path, "authjs-database").unwrap();
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
