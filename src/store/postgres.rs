//! PostgreSQL through `tokio-postgres`, with a `deadpool-postgres` pool.
//!
//! The [`Store`] trait is synchronous because the engine replays events one
//! at a time on a virtual clock, so each store owns a current-thread tokio
//! runtime and blocks on every call. Each trait call is one SQL statement
//! and one round trip, counted as one read or one write, exactly as the
//! SQLite store counts it. Statements are prepared once per connection and
//! cached by the pool (`prepare_cached`). Every operation, connecting
//! included, is bounded by the store's timeout.

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::{
    redact_url, OpCounts, Profile, RefreshRow, RemoteStore, SessionRow, StateSize, Store,
    StoreError, StoreResult, UserRow,
};
use crate::time::Millis;

/// Connections a store keeps open. The replay engine uses one at a time;
/// the second lets a broken connection be replaced without waiting.
const POOL_SIZE: usize = 2;

/// Checks the syntax of a `postgres://` URL without connecting.
pub(super) fn check_url(url: &str) -> Result<(), String> {
    url.parse::<tokio_postgres::Config>()
        .map(|_| ())
        .map_err(|e| format!("invalid PostgreSQL URL \"{}\": {e}", redact_url(url)))
}

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
            // Like SQLite's INSERT OR REPLACE: a seeded user starts unrevoked.
            insert_user: format!(
                "INSERT INTO {users} (id, name, email, image) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, \
                 image = excluded.image, revoked_before = 0"
            ),
            find_user: format!("SELECT id, name, email, image, revoked_before FROM {users} WHERE id = $1"),
            update_user: format!("UPDATE {users} SET name = $2, email = $3, image = $4 WHERE id = $1"),
            create_session: format!("INSERT INTO {sessions} (session_token, user_id, expires) VALUES ($1, $2, $3)"),
            session_and_user: format!(
                "SELECT s.user_id, s.expires, u.name, u.email, u.image FROM {sessions} s \
                 JOIN {users} u ON u.id = s.user_id WHERE s.session_token = $1"
            ),
            update_expiry: format!("UPDATE {sessions} SET expires = $2 WHERE session_token = $1"),
            delete_session: format!("DELETE FROM {sessions} WHERE session_token = $1"),
            delete_user_sessions: format!("DELETE FROM {sessions} WHERE user_id = $1"),
            session_state: format!(
                "SELECT COUNT(*)::BIGINT, COALESCE(SUM(LENGTH(session_token) + 16), 0)::BIGINT \
                 FROM {sessions} WHERE expires >= $1"
            ),
            set_revoked_before: format!("UPDATE {users} SET revoked_before = $2 WHERE id = $1"),
            deny_token: format!(
                "INSERT INTO {denylist} (key, issued_before, expires) VALUES ($1, 0, $2) \
                 ON CONFLICT (key) DO UPDATE SET expires = excluded.expires"
            ),
            deny_user: format!(
                "INSERT INTO {denylist} (key, issued_before, expires) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET issued_before = excluded.issued_before, \
                 expires = excluded.expires"
            ),
            is_denied: format!(
                "SELECT EXISTS (SELECT 1 FROM {denylist} WHERE key = $1) \
                 OR EXISTS (SELECT 1 FROM {denylist} WHERE key = $2 AND issued_before > $3)"
            ),
            denylist_state: format!(
                "SELECT COUNT(*)::BIGINT, COALESCE(SUM(LENGTH(key) + 16), 0)::BIGINT \
                 FROM {denylist} WHERE expires >= $1"
            ),
            insert_refresh: format!(
                "INSERT INTO {refresh} (token, family, user_id, expires, used) VALUES ($1, $2, $3, $4, $5)"
            ),
            find_refresh: format!("SELECT family, user_id, expires, used FROM {refresh} WHERE token = $1"),
            mark_refresh_used: format!("UPDATE {refresh} SET used = TRUE WHERE token = $1"),
            delete_refresh_family: format!("DELETE FROM {refresh} WHERE family = $1"),
            delete_user_refresh: format!("DELETE FROM {refresh} WHERE user_id = $1"),
            refresh_state: format!(
                "SELECT COUNT(*)::BIGINT, \
                 COALESCE(SUM(LENGTH(token) + LENGTH(family) + 17), 0)::BIGINT \
                 FROM {refresh} WHERE expires >= $1"
            ),
        }
    }
}

/// Creates the tables of one namespace, dropping earlier ones so that each
/// run starts empty. Sessions reference their user, as in the SQLite store,
/// whose bundled build enforces foreign keys.
fn schema(prefix: &str) -> String {
    format!(
        "DROP TABLE IF EXISTS {prefix}_refresh, {prefix}_denylist, {prefix}_sessions, {prefix}_users;
         CREATE TABLE {prefix}_users (
             id BIGINT PRIMARY KEY,
             name TEXT NOT NULL,
             email TEXT NOT NULL,
             image TEXT NOT NULL,
             revoked_before BIGINT NOT NULL DEFAULT 0
         );
         CREATE TABLE {prefix}_sessions (
             session_token TEXT PRIMARY KEY,
             user_id BIGINT NOT NULL REFERENCES {prefix}_users (id),
             expires BIGINT NOT NULL
         );
         CREATE INDEX {prefix}_sessions_user_id ON {prefix}_sessions (user_id);
         CREATE TABLE {prefix}_denylist (
             key TEXT PRIMARY KEY,
             issued_before BIGINT NOT NULL,
             expires BIGINT NOT NULL
         );
         CREATE TABLE {prefix}_refresh (
             token TEXT PRIMARY KEY,
             family TEXT NOT NULL,
             user_id BIGINT NOT NULL,
             expires BIGINT NOT NULL,
             used BOOLEAN NOT NULL
         );
         CREATE INDEX {prefix}_refresh_family ON {prefix}_refresh (family);
         CREATE INDEX {prefix}_refresh_user_id ON {prefix}_refresh (user_id);"
    )
}

/// Table-name prefix of a namespace: `authcmp_` and the namespace in lower
/// case, with every other character than a letter or digit as `_`.
fn table_prefix(namespace: &str) -> String {
    let name: String = namespace
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("authcmp_{name}")
}

/// A PostgreSQL database holding one namespace's users, sessions, denylist
/// and refresh tokens in tables named `authcmp_<namespace>_*`.
pub struct PostgresStore {
    runtime: Runtime,
    pool: Pool,
    label: String,
    timeout: Duration,
    sql: Statements,
    counts: OpCounts,
}

impl PostgresStore {
    /// Connects and creates the namespace's tables, dropping earlier ones.
    pub fn open(remote: &RemoteStore, namespace: &str) -> StoreResult<Self> {
        let store = Self::connect(remote, namespace)?;
        let prefix = table_prefix(namespace);
        store.block_on(async {
            let client = store.pool.get().await.map_err(|e| chain(&e))?;
            // Concurrent runs on one database would otherwise race on the
            // catalog; the lock is released at the end of the transaction.
            let batch = format!(
                "BEGIN; SELECT pg_advisory_xact_lock(7461723); {} COMMIT;",
                schema(&prefix)
            );
            client.batch_execute(&batch).await.map_err(|e| chain(&e))
        })?;
        Ok(store)
    }

    /// Connects to tables that [`PostgresStore::open`] created, keeping
    /// their rows.
    pub fn attach(remote: &RemoteStore, namespace: &str) -> StoreResult<Self> {
        let store = Self::connect(remote, namespace)?;
        store.block_on(async {
            let _client = store.pool.get().await.map_err(|e| chain(&e))?;
            Ok(())
        })?;
        Ok(store)
    }

    fn connect(remote: &RemoteStore, namespace: &str) -> StoreResult<Self> {
        let label = redact_url(&remote.url);
        let fail = |message: String| StoreError {
            store: label.clone(),
            message,
        };
        let mut config: tokio_postgres::Config =
            remote.url.parse().map_err(|e| chain(&e)).map_err(fail)?;
        config.connect_timeout(remote.timeout);
        if config.get_application_name().is_none() {
            config.application_name("authcmp");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the async runtime: {e}")))?;
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        Ok(PostgresStore {
            runtime,
            pool,
            label,
            timeout: remote.timeout,
            sql: Statements::new(&table_prefix(namespace)),
            counts: OpCounts::default(),
        })
    }

    /// Runs `future` to completion within the store's timeout.
    fn block_on<T>(&self, future: impl Future<Output = Result<T, String>>) -> StoreResult<T> {
        let timeout = self.timeout;
        self.runtime
            .block_on(async { tokio::time::timeout(timeout, future).await })
            .unwrap_or_else(|_| {
                Err(format!(
                    "no answer within {} (set --store-timeout to wait longer)",
                    humantime::format_duration(timeout)
                ))
            })
            .map_err(|message| StoreError {
                store: self.label.clone(),
                message,
            })
    }

    /// Runs one prepared statement that returns at most one row.
    fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Option<Row>> {
        self.block_on(async {
            let client = self.pool.get().await.map_err(|e| chain(&e))?;
            let statement = client.prepare_cached(sql).await.map_err(|e| chain(&e))?;
            client
                .query_opt(&statement, params)
                .await
                .map_err(|e| chain(&e))
        })
    }

    fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Row> {
        let row = self.query_opt(sql, params)?;
        row.ok_or_else(|| StoreError {
            store: self.label.clone(),
            message: "query returned no row".to_string(),
        })
    }

    /// Runs one counted write.
    fn write(
        &mut self,
        sql: fn(&Statements) -> &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<()> {
        self.counts.writes += 1;
        let sql = sql(&self.sql);
        self.block_on(async {
            let client = self.pool.get().await.map_err(|e| chain(&e))?;
            let statement = client.prepare_cached(sql).await.map_err(|e| chain(&e))?;
            client
                .execute(&statement, params)
                .await
                .map(|_| ())
                .map_err(|e| chain(&e))
        })
    }

    /// Measures live rows with an uncounted `COUNT`/`SUM` query.
    fn state(&self, sql: fn(&Statements) -> &str, now: Millis) -> StoreResult<StateSize> {
        let row = self.query_one(sql(&self.sql), &[&to_i64(now)])?;
        Ok(StateSize {
            entries: row.get::<_, i64>(0) as u64,
            bytes: row.get::<_, i64>(1) as u64,
        })
    }
}

/// Formats an error with its causes, which `tokio-postgres` keeps apart
/// ("error connecting to server: Connection refused (os error 111)").
fn chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn read_profile(row: &Row, first: usize, id: u64) -> Profile {
    Profile {
        id,
        name: row.get(first),
        email: row.get(first + 1),
        image: row.get(first + 2),
    }
}

impl Store for PostgresStore {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn seed_user(&mut self, profile: &Profile) -> StoreResult<()> {
        let sql = self.sql.insert_user.clone();
        self.query_opt(
            &sql,
            &[
                &to_i64(profile.id),
                &profile.name,
                &profile.email,
                &profile.image,
            ],
        )?;
        Ok(())
    }

    fn find_user(&mut self, id: u64) -> StoreResult<Option<UserRow>> {
        self.counts.reads += 1;
        let row = self.query_opt(&self.sql.find_user, &[&to_i64(id)])?;
        Ok(row.map(|row| UserRow {
            profile: read_profile(&row, 1, row.get::<_, i64>(0) as u64),
            revoked_before: row.get::<_, i64>(4) as u64,
        }))
    }

    fn update_user(&mut self, profile: &Profile) -> StoreResult<()> {
        self.write(
            |sql| &sql.update_user,
            &[
                &to_i64(profile.id),
                &profile.name,
                &profile.email,
                &profile.image,
            ],
        )
    }

    fn set_user_revoked_before(&mut self, user_id: u64, before: Millis) -> StoreResult<()> {
        self.write(
            |sql| &sql.set_revoked_before,
            &[&to_i64(user_id), &to_i64(before)],
        )
    }

    fn create_session(&mut self, token: &str, user_id: u64, expires: Millis) -> StoreResult<()> {
        self.write(
            |sql| &sql.create_session,
            &[&token, &to_i64(user_id), &to_i64(expires)],
        )
    }

    fn session_and_user(&mut self, token: &str) -> StoreResult<Option<(SessionRow, Profile)>> {
        self.counts.reads += 1;
        let row = self.query_opt(&self.sql.session_and_user, &[&token])?;
        Ok(row.map(|row| {
            let user_id = row.get::<_, i64>(0) as u64;
            let session = SessionRow {
                user_id,
                expires: row.get::<_, i64>(1) as u64,
            };
            (session, read_profile(&row, 2, user_id))
        }))
    }

    fn update_session_expiry(&mut self, token: &str, expires: Millis) -> StoreResult<()> {
        self.write(|sql| &sql.update_expiry, &[&token, &to_i64(expires)])
    }

    fn delete_session(&mut self, token: &str) -> StoreResult<()> {
        self.write(|sql| &sql.delete_session, &[&token])
    }

    fn delete_user_sessions(&mut self, user_id: u64) -> StoreResult<()> {
        self.write(|sql| &sql.delete_user_sessions, &[&to_i64(user_id)])
    }

    fn session_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        self.state(|sql| &sql.session_state, now)
    }

    fn deny_token(&mut self, jti: &str, expires: Millis) -> StoreResult<()> {
        let key = format!("jti:{jti}");
        self.write(|sql| &sql.deny_token, &[&key, &to_i64(expires)])
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
            &[&key, &to_i64(before), &to_i64(expires)],
        )
    }

    fn is_denied(&mut self, jti: &str, user_id: u64, issued_at: Millis) -> StoreResult<bool> {
        self.counts.reads += 1;
        let jti_key = format!("jti:{jti}");
        let user_key = format!("user:{user_id}");
        let row = self.query_one(
            &self.sql.is_denied,
            &[&jti_key, &user_key, &to_i64(issued_at)],
        )?;
        Ok(row.get::<_, bool>(0))
    }

    fn denylist_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        self.state(|sql| &sql.denylist_state, now)
    }

    fn insert_refresh(&mut self, token: &str, row: &RefreshRow) -> StoreResult<()> {
        self.write(
            |sql| &sql.insert_refresh,
            &[
                &token,
                &row.family,
                &to_i64(row.user_id),
                &to_i64(row.expires),
                &row.used,
            ],
        )
    }

    fn find_refresh(&mut self, token: &str) -> StoreResult<Option<RefreshRow>> {
        self.counts.reads += 1;
        let row = self.query_opt(&self.sql.find_refresh, &[&token])?;
        Ok(row.map(|row| RefreshRow {
            family: row.get(0),
            user_id: row.get::<_, i64>(1) as u64,
            expires: row.get::<_, i64>(2) as u64,
            used: row.get(3),
        }))
    }

    fn mark_refresh_used(&mut self, token: &str) -> StoreResult<()> {
        self.write(|sql| &sql.mark_refresh_used, &[&token])
    }

    fn delete_refresh_family(&mut self, family: &str) -> StoreResult<()> {
        self.write(|sql| &sql.delete_refresh_family, &[&family])
    }

    fn delete_user_refresh(&mut self, user_id: u64) -> StoreResult<()> {
        self.write(|sql| &sql.delete_user_refresh, &[&to_i64(user_id)])
    }

    fn refresh_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        self.state(|sql| &sql.refresh_state, now)
    }

    fn counts(&self) -> OpCounts {
        self.counts
    }
}
