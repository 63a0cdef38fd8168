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

use super::{
    OpCounts, Profile, RefreshRow, SessionRow, StateSize, Store, StoreError, StoreResult, UserRow,
};
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
    set_revoked_before: String,
    deny_token: String,
    deny_user: String,
    is_denied: String,
    denylist_state: String,
    insert_refresh: String,
    find_refresh: String,
    mark_refresh_used: String,
    delete_refresh_family: String,
    delete_user_refresh: String,
    refresh_state: String,
}

impl Statements {
    fn new(prefix: &str) -> Self {
        let users = format!("{prefix}_users");
        let sessions = format!("{prefix}_sessions");
        let denylist = format!("{prefix}_denylist");
        let refresh = format!("{prefix}_refresh");
        Statements {
            insert_user: format!("INSERT OR REPLACE INTO {users} (id, name, email, image) VALUES (?1, ?2, ?3, ?4)"),
            find_user: format!("SELECT id, name, email, image, revoked_before FROM {users} WHERE id = ?1"),
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
            set_revoked_before: format!("UPDATE {users} SET revoked_before = ?2 WHERE id = ?1"),
            deny_token: format!(
                "INSERT INTO {denylist} (key, before, expires) VALUES (?1, 0, ?2) \
                 ON CONFLICT(key) DO UPDATE SET expires = excluded.expires"
            ),
            deny_user: format!(
                "INSERT INTO {denylist} (key, before, expires) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(key) DO UPDATE SET before = excluded.before, expires = excluded.expires"
            ),
            is_denied: format!(
                "SELECT EXISTS (SELECT 1 FROM {denylist} WHERE key = ?1) \
                 OR EXISTS (SELECT 1 FROM {denylist} WHERE key = ?2 AND before > ?3)"
            ),
            denylist_state: format!(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(key) + 16), 0) FROM {denylist} WHERE expires >= ?1"
            ),
            insert_refresh: format!(
                "INSERT INTO {refresh} (token, family, user_id, expires, used) VALUES (?1, ?2, ?3, ?4, ?5)"
            ),
            find_refresh: format!("SELECT family, user_id, expires, used FROM {refresh} WHERE token = ?1"),
            mark_refresh_used: format!("UPDATE {refresh} SET used = 1 WHERE token = ?1"),
            delete_refresh_family: format!("DELETE FROM {refresh} WHERE family = ?1"),
            delete_user_refresh: format!("DELETE FROM {refresh} WHERE user_id = ?1"),
            refresh_state: format!(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(token) + LENGTH(family) + 17), 0) FROM {refresh} WHERE expires >= ?1"
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
        Self::init(conn, label, &format!("authcmp_{}", table_name(namespace)))
    }

    /// Opens a database file that [`SqliteStore::open_file`] prepared,
    /// keeping its rows, as another application node sharing the file would.
    /// Waits up to 5 s for a lock another connection holds.
    pub fn attach_file(path: &Path, namespace: &str) -> StoreResult<Self> {
        let label = format!("sqlite ({})", path.display());
        let conn = Connection::open(path).map_err(|e| error(&label, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| error(&label, e))?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(|e| error(&label, e))?;
        conn.set_prepared_statement_cache_capacity(32);
        let prefix = format!("authcmp_{}", table_name(namespace));
        Ok(SqliteStore {
            conn,
            label,
            sql: Statements::new(&prefix),
            counts: OpCounts::default(),
        })
    }

    /// Creates the tables. The sessions and denylist tables are
    /// `WITHOUT ROWID`, so their B-tree is keyed by the token itself. A
    /// lookup by token then searches that one B-tree, where a rowid table
    /// needs the token's index and then the table.
    fn init(conn: Connection, label: String, prefix: &str) -> StoreResult<Self> {
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(|e| error(&label, e))?;
        conn.set_prepared_statement_cache_capacity(32);
        let schema = format!(
            "DROP TABLE IF EXISTS {prefix}_refresh;
             DROP TABLE IF EXISTS {prefix}_denylist;
             DROP TABLE IF EXISTS {prefix}_sessions;
             DROP TABLE IF EXISTS {prefix}_users;
             CREATE TABLE {prefix}_users (
                 id INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 email TEXT NOT NULL,
                 image TEXT NOT NULL,
                 revoked_before INTEGER NOT NULL DEFAULT 0
             );
             CREATE TABLE {prefix}_sessions (
                 session_token TEXT PRIMARY KEY,
                 user_id INTEGER NOT NULL REFERENCES {prefix}_users(id),
                 expires INTEGER NOT NULL
             ) WITHOUT ROWID;
             CREATE INDEX {prefix}_sessions_user_id ON {prefix}_sessions(user_id);
             CREATE TABLE {prefix}_denylist (
                 key TEXT PRIMARY KEY,
                 before INTEGER NOT NULL,
                 expires INTEGER NOT NULL
             ) WITHOUT ROWID;
             CREATE TABLE {prefix}_refresh (
                 token TEXT PRIMARY KEY,
                 family TEXT NOT NULL,
                 user_id INTEGER NOT NULL,
                 expires INTEGER NOT NULL,
                 used INTEGER NOT NULL
             );
             CREATE INDEX {prefix}_refresh_family ON {prefix}_refresh(family);
             CREATE INDEX {prefix}_refresh_user_id ON {prefix}_refresh(user_id);"
        );
        conn.execute_batch(&schema).map_err(|e| error(&label, e))?;
        Ok(SqliteStore {
            conn,
            label,
            sql: Statements::new(prefix),
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

    /// Measures live rows with an uncounted `COUNT`/`SUM` query.
    fn state(&self, pick: fn(&Statements) -> &str, now: Millis) -> StoreResult<StateSize> {
        let mut stmt = self
            .conn
            .prepare_cached(pick(&self.sql))
            .map_err(|e| error(&self.label, e))?;
        stmt.query_row(params![to_i64(now)], |row| {
            Ok(StateSize {
                entries: row.get::<_, i64>(0)? as u64,
                bytes: row.get::<_, i64>(1)? as u64,
            })
        })
        .map_err(|e| error(&self.label, e))
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

/// A namespace with every character but letters and digits as `_`.
fn table_name(namespace: &str) -> String {
    namespace
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
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

    fn find_user(&mut self, id: u64) -> StoreResult<Option<UserRow>> {
        self.counts.reads += 1;
        let mut stmt = self
            .conn
            .prepare_cached(&self.sql.find_user)
            .map_err(|e| error(&self.label, e))?;
        stmt.query_row(params![to_i64(id)], |row| {
            let mut profile = read_profile(row, 1)?;
            profile.id = row.get::<_, i64>(0)? as u64;
            Ok(UserRow {
                profile,
                revoked_before: row.get::<_, i64>(4)? as u64,
            })
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
        self.state(|sql| &sql.session_state, now)
    }

    fn set_user_revoked_before(&mut self, user_id: u64, before: Millis) -> StoreResult<()> {
        self.write(
            |sql| &sql.set_revoked_before,
            params![to_i64(user_id), to_i64(before)],
        )
    }

    fn deny_token(&mut self, jti: &str, expires: Millis) -> StoreResult<()> {
        self.write(
            |sql| &sql.deny_token,
            params![format!("jti:{jti}"), to_i64(expires)],
        )
    }

    fn deny_user_before(
        &mut self,
        user_id: u64,
        before: Millis,
        expires: Millis,
    ) -> StoreResult<()> {
        let key = format!("user:{user_id}");
        self.write(
            |sql| &sql.deny_user,
            params![key, to_i64(before), to_i64(expires)],
        )
    }

    fn is_denied(&mut self, jti: &str, user_id: u64, issued_at: Millis) -> StoreResult<bool> {
        self.counts.reads += 1;
        let mut stmt = self
            .conn
            .prepare_cached(&self.sql.is_denied)
            .map_err(|e| error(&self.label, e))?;
        let params = params![
            format!("jti:{jti}"),
            format!("user:{user_id}"),
            to_i64(issued_at)
        ];
        stmt.query_row(params, |row| row.get::<_, bool>(0))
            .map_err(|e| error(&self.label, e))
    }

    fn denylist_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        self.state(|sql| &sql.denylist_state, now)
    }

    fn insert_refresh(&mut self, token: &str, row: &RefreshRow) -> StoreResult<()> {
        let params = params![
            token,
            row.family,
            to_i64(row.user_id),
            to_i64(row.expires),
            row.used
        ];
        self.write(|sql| &sql.insert_refresh, params)
    }

    fn find_refresh(&mut self, token: &str) -> StoreResult<Option<RefreshRow>> {
        self.counts.reads += 1;
        let mut stmt = self
            .conn
            .prepare_cached(&self.sql.find_refresh)
            .map_err(|e| error(&self.label, e))?;
        stmt.query_row(params![token], |row| {
            Ok(RefreshRow {
                family: row.get(0)?,
                user_id: row.get::<_, i64>(1)? as u64,
                expires: row.get::<_, i64>(2)? as u64,
                used: row.get(3)?,
            })
        })
        .optional()
        .map_err(|e| error(&self.label, e))
    }

    fn mark_refresh_used(&mut self, token: &str) -> StoreResult<()> {
        self.write(|sql| &sql.mark_refresh_used, params![token])
    }

    fn delete_refresh_family(&mut self, family: &str) -> StoreResult<()> {
        self.write(|sql| &sql.delete_refresh_family, params![family])
    }

    fn delete_user_refresh(&mut self, user_id: u64) -> StoreResult<()> {
        self.write(|sql| &sql.delete_user_refresh, params![to_i64(user_id)])
    }

    fn refresh_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        self.state(|sql| &sql.refresh_state, now)
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

    /// Runs `EXPLAIN QUERY PLAN` on `sql` and returns its `detail` column.
    fn query_plan(store: &SqliteStore, sql: &str) -> Vec<String> {
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let count = stmt.parameter_count();
        let params = vec!["x"; count];
        stmt.query_map(rusqlite::params_from_iter(params), |row| row.get(3))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn token_lookups_search_one_btree() {
        let store = SqliteStore::open_in_memory().unwrap();
        assert_eq!(
            query_plan(&store, &store.sql.session_and_user),
            [
                "SEARCH s USING PRIMARY KEY (session_token=?)",
                "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)"
            ]
        );
        for plan in query_plan(&store, &store.sql.is_denied) {
            assert!(
                !plan.starts_with("SEARCH") || plan.ends_with("USING PRIMARY KEY (key=?)"),
                "{plan}"
            );
        }
        assert_eq!(
            query_plan(&store, &store.sql.update_expiry),
            ["SEARCH authcmp_sessions USING PRIMARY KEY (session_token=?)"]
        );
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

    #[test]
    fn denylist_by_token_and_by_user() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        assert!(!store.is_denied("a", 1, 100).unwrap());
        store.deny_token("a", 1_000).unwrap();
        assert!(store.is_denied("a", 1, 100).unwrap());
        store.deny_user_before(2, 500, 2_000).unwrap();
        assert!(store.is_denied("b", 2, 499).unwrap());
        assert!(!store.is_denied("b", 2, 500).unwrap());
        assert_eq!(
            store.counts(),
            OpCounts {
                reads: 4,
                writes: 2
            }
        );
        assert_eq!(store.denylist_state(1_500).unwrap().entries, 1);
    }

    #[test]
    fn refresh_rotation_rows() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let row = RefreshRow {
            family: "f".into(),
            user_id: 1,
            expires: 10,
            used: false,
        };
        store.insert_refresh("t1", &row).unwrap();
        store.mark_refresh_used("t1").unwrap();
        assert!(store.find_refresh("t1").unwrap().unwrap().used);
        store.insert_refresh("t2", &row).unwrap();
        assert_eq!(store.refresh_state(0).unwrap().entries, 2);
        store.delete_refresh_family("f").unwrap();
        assert_eq!(store.find_refresh("t2").unwrap(), None);
        assert_eq!(
            store.counts(),
            OpCounts {
                reads: 2,
                writes: 4
            }
        );
    }

    #[test]
    fn user_row_carries_revocation() {
        let mut store = SqliteStore::open_in_memory().unwrap();
        store.seed_user(&Profile::generated(1, 0, 0)).unwrap();
        assert_eq!(store.find_user(1).unwrap().unwrap().revoked_before, 0);
        store.set_user_revoked_before(1, 42).unwrap();
        assert_eq!(store.find_user(1).unwrap().unwrap().revoked_before, 42);
    }
}
