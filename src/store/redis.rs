//! Redis through the `redis` crate: one multiplexed async connection.
//!
//! The [`Store`] trait is synchronous because the engine replays events one
//! at a time on a virtual clock, so each store owns a current-thread tokio
//! runtime and blocks on every call. Each trait call is one round trip to
//! the server (one command, one `MULTI`/`EXEC` transaction, one pipeline or
//! one Lua script), counted as one read or one write like the SQL stores
//! count one statement. Each method's doc names the commands it sends.
//!
//! Keys of a namespace start with `authcmp:<namespace>:` and are deleted
//! when the store is opened:
//!
//! | key | type | contents |
//! |---|---|---|
//! | `u:<id>` | hash | `name`, `email`, `image`, `revoked_before` |
//! | `s:<token>` | hash | `user_id`, `expires`; TTL until `expires` |
//! | `us:<id>` | set | session tokens of a user, for a ban |
//! | `d:jti:<jti>`, `d:user:<id>` | hash | `issued_before`, `expires`; TTL until `expires` |
//! | `r:<token>` | hash | `family`, `user_id`, `expires`, `used`; TTL until `expires` |
//! | `rf:<family>`, `ru:<id>` | set | refresh tokens of a family, of a user |
//! | `origin` | string | wall-clock Unix milliseconds of virtual time 0 |
//!
//! Expiry times are virtual milliseconds. A key's TTL ends at `origin +
//! expires` in wall time, so virtual time 0 is the moment the store was
//! opened. A replay covers virtual time faster than wall time, so a key
//! outlives its virtual expiry and a verify still finds it expired and
//! deletes it, as on SQL. The state figures count live keys whose `expires`
//! is not yet past at the virtual `now`.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, AsyncConnectionConfig, Script};
use tokio::runtime::Runtime;

use super::{
    redact_url, OpCounts, Profile, RefreshRow, RemoteStore, SessionRow, StateSize, Store,
    StoreError, StoreResult, UserRow,
};
use crate::time::Millis;

/// Checks the syntax of a `redis://` URL without connecting.
pub(super) fn check_url(url: &str) -> Result<(), String> {
    redis::Client::open(url)
        .map(|_| ())
        .map_err(|e| format!("invalid Redis URL \"{}\": {e}", redact_url(url)))
}

/// Reads a session and its user in one round trip; `ARGV[1]` is the user
/// key prefix. Returns nil when either is missing, like the SQL join.
const SESSION_AND_USER: &str = r"
local s = redis.call('HMGET', KEYS[1], 'user_id', 'expires')
if not s[1] then return false end
local u = redis.call('HMGET', ARGV[1] .. s[1], 'name', 'email', 'image')
if not u[1] then return false end
return {s[1], s[2], u[1], u[2], u[3]}
";

/// Sets hash fields only when the hash exists, as an SQL `UPDATE` of a
/// missing row changes nothing. `ARGV[1]` is an absolute expiry in Unix
/// milliseconds, or empty to keep the TTL; the rest are field-value pairs.
const UPDATE_IF_EXISTS: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if ARGV[1] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return 1
";

/// Deletes every key whose name is `ARGV[1]` followed by a member of the
/// set `KEYS[1]`, then the set itself.
const DELETE_MEMBERS: &str = r"
local members = redis.call('SMEMBERS', KEYS[1])
for _, member in ipairs(members) do redis.call('DEL', ARGV[1] .. member) end
redis.call('DEL', KEYS[1])
return #members
";

/// A Redis database holding one namespace's keys.
pub struct RedisStore {
    runtime: Runtime,
    connection: MultiplexedConnection,
    label: String,
    timeout: Duration,
    prefix: String,
    /// Wall-clock Unix milliseconds of virtual time 0.
    origin: u64,
    session_and_user: Script,
    update_if_exists: Script,
    delete_members: Script,
    counts: OpCounts,
}

/// Key prefix of a namespace, with characters that `SCAN MATCH` would read
/// as a pattern replaced by `_`.
fn key_prefix(namespace: &str) -> String {
    let name: String = namespace
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("authcmp:{name}:")
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl RedisStore {
    /// Connects, deletes the namespace's keys and starts its virtual clock.
    pub fn open(remote: &RemoteStore, namespace: &str) -> StoreResult<Self> {
        let mut store = Self::connect(remote, namespace)?;
        let origin = wall_ms();
        let prefix = store.prefix.clone();
        let mut connection = store.connection.clone();
        store.block_on(async move {
            let keys = scan(&mut connection, &prefix, "*").await?;
            for batch in keys.chunks(1000) {
                let _: () = connection.unlink(batch).await?;
            }
            let _: () = connection.set(format!("{prefix}origin"), origin).await?;
            Ok(())
        })?;
        store.origin = origin;
        Ok(store)
    }

    /// Connects to keys that [`RedisStore::open`] prepared, keeping them.
    pub fn attach(remote: &RemoteStore, namespace: &str) -> StoreResult<Self> {
        let mut store = Self::connect(remote, namespace)?;
        let key = format!("{}origin", store.prefix);
        let mut connection = store.connection.clone();
        let origin: Option<u64> = store.block_on(async move { connection.get(key).await })?;
        store.origin = origin.ok_or_else(|| StoreError {
            store: store.label.clone(),
            message: format!("namespace \"{namespace}\" was never opened"),
        })?;
        Ok(store)
    }

    fn connect(remote: &RemoteStore, namespace: &str) -> StoreResult<Self> {
        let label = redact_url(&remote.url);
        let fail = |message: String| StoreError {
            store: label.clone(),
            message,
        };
        let client = redis::Client::open(remote.url.as_str()).map_err(|e| fail(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the async runtime: {e}")))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(remote.timeout))
            .set_response_timeout(Some(remote.timeout));
        let session_and_user = Script::new(SESSION_AND_USER);
        let update_if_exists = Script::new(UPDATE_IF_EXISTS);
        let delete_members = Script::new(DELETE_MEMBERS);
        let connection = runtime
            .block_on(async {
                let connect = async {
                    let mut connection = client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await?;
                    // Loaded now so that each counted call is one EVALSHA.
                    for script in [&session_and_user, &update_if_exists, &delete_members] {
                        script.prepare_invoke().load_async(&mut connection).await?;
                    }
                    Ok::<_, redis::RedisError>(connection)
                };
                tokio::time::timeout(remote.timeout, connect).await
            })
            .map_err(|_| fail(timeout_message(remote.timeout)))?
            .map_err(|e| fail(e.to_string()))?;
        Ok(RedisStore {
            runtime,
            connection,
            label,
            timeout: remote.timeout,
            prefix: key_prefix(namespace),
            origin: 0,
            session_and_user,
            update_if_exists,
            delete_members,
            counts: OpCounts::default(),
        })
    }

    /// Runs `future` to completion within the store's timeout.
    fn block_on<T>(&self, future: impl Future<Output = redis::RedisResult<T>>) -> StoreResult<T> {
        let result = self
            .runtime
            .block_on(async { tokio::time::timeout(self.timeout, future).await });
        let message = match result {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => e.to_string(),
            Err(_) => timeout_message(self.timeout),
        };
        Err(StoreError {
            store: self.label.clone(),
            message,
        })
    }

    fn key(&self, kind: &str, id: impl std::fmt::Display) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// Wall-clock Unix milliseconds at which a key expiring at virtual
    /// time `expires` is dropped.
    fn deadline(&self, expires: Millis) -> u64 {
        self.origin.saturating_add(expires)
    }

    /// Runs the update script on `key` (one counted write).
    fn update(
        &mut self,
        key: String,
        expires: Option<Millis>,
        fields: &[(&str, String)],
    ) -> StoreResult<()> {
        self.counts.writes += 1;
        let mut invocation = self.update_if_exists.key(key);
        invocation.arg(expires.map_or(String::new(), |e| self.deadline(e).to_string()));
        for (field, value) in fields {
            invocation.arg(*field).arg(value);
        }
        let mut connection = self.connection.clone();
        self.block_on(async move { invocation.invoke_async::<i64>(&mut connection).await })?;
        Ok(())
    }

    /// Runs the delete-members script on the set `set` (one counted write).
    fn delete_members(&mut self, set: String, member_kind: &str) -> StoreResult<()> {
        self.counts.writes += 1;
        let member_prefix = format!("{}{member_kind}:", self.prefix);
        let mut invocation = self.delete_members.key(set);
        invocation.arg(member_prefix);
        let mut connection = self.connection.clone();
        self.block_on(async move { invocation.invoke_async::<i64>(&mut connection).await })?;
        Ok(())
    }

    /// Sends one `MULTI`/`EXEC` transaction (one counted write).
    fn transaction(&mut self, pipe: redis::Pipeline) -> StoreResult<()> {
        self.counts.writes += 1;
        let mut connection = self.connection.clone();
        self.block_on(async move { pipe.query_async::<()>(&mut connection).await })
    }

    /// Reads `fields` of every live hash of `kind` (uncounted): a `SCAN`,
    /// then one pipelined `HMGET` per batch of keys.
    fn scan_hashes(
        &self,
        kind: &str,
        fields: &[&str],
    ) -> StoreResult<Vec<(String, Vec<Option<String>>)>> {
        let prefix = self.prefix.clone();
        let pattern = format!("{kind}:*");
        let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        let mut connection = self.connection.clone();
        self.block_on(async move {
            let keys = scan(&mut connection, &prefix, &pattern).await?;
            let mut rows = Vec::with_capacity(keys.len());
            for batch in keys.chunks(500) {
                let mut pipe = redis::pipe();
                for key in batch {
                    pipe.cmd("HMGET").arg(key).arg(&fields);
                }
                let values: Vec<Vec<Option<String>>> = pipe.query_async(&mut connection).await?;
                let names = batch.iter().map(|k| k[prefix.len()..].to_string());
                rows.extend(names.zip(values));
            }
            Ok(rows)
        })
    }
}

fn timeout_message(timeout: Duration) -> String {
    format!(
        "no answer within {} (set --store-timeout to wait longer)",
        humantime::format_duration(timeout)
    )
}

/// Lists the keys under `prefix` matching `pattern` with `SCAN`, which
/// does not block the server the way `KEYS` does.
async fn scan(
    connection: &mut MultiplexedConnection,
    prefix: &str,
    pattern: &str,
) -> redis::RedisResult<Vec<String>> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, mut batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}{pattern}"))
            .arg("COUNT")
            .arg(1000)
            .query_async(connection)
            .await?;
        keys.append(&mut batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

fn parse_u64(value: &Option<String>) -> u64 {
    value.as_deref().and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Counts rows whose `expires` (field 0) is at or after `now`, with `size`
/// giving each row's bytes.
fn live_state(
    rows: &[(String, Vec<Option<String>>)],
    now: Millis,
    size: impl Fn(&str, &[Option<String>]) -> u64,
) -> StateSize {
    let mut state = StateSize::default();
    for (key, fields) in rows {
        if fields[0].is_some() && parse_u64(&fields[0]) >= now {
            state.entries += 1;
            state.bytes += size(key, fields);
        }
    }
    state
}

impl Store for RedisStore {
    fn describe(&self) -> String {
        self.label.clone()
    }

    /// `DEL` then `HSET` in one transaction (uncounted), replacing the user
    /// like SQLite's `INSERT OR REPLACE`.
    fn seed_user(&mut self, profile: &Profile) -> StoreResult<()> {
        let key = self.key("u", profile.id);
        let mut pipe = redis::pipe();
        pipe.atomic().del(&key).ignore().hset_multiple(
            &key,
            &[
                ("name", profile.name.as_str()),
                ("email", profile.email.as_str()),
                ("image", profile.image.as_str()),
                ("revoked_before", "0"),
            ],
        );
        let mut connection = self.connection.clone();
        self.block_on(async move { pipe.query_async::<()>(&mut connection).await })
    }

    /// One `HMGET` (1 read).
    fn find_user(&mut self, id: u64) -> StoreResult<Option<UserRow>> {
        self.counts.reads += 1;
        let key = self.key("u", id);
        let mut connection = self.connection.clone();
        let fields: Vec<Option<String>> = self.block_on(async move {
            redis::cmd("HMGET")
                .arg(key)
                .arg(&["name", "email", "image", "revoked_before"])
                .query_async(&mut connection)
                .await
        })?;
        let [Some(name), Some(email), Some(image), revoked_before] =
            <[Option<String>; 4]>::try_from(fields).unwrap_or_default()
        else {
            return Ok(None);
        };
        Ok(Some(UserRow {
            profile: Profile {
                id,
                name,
                email,
                image,
            },
            revoked_before: parse_u64(&revoked_before),
        }))
    }

    /// The update script: `HSET` if the user exists (1 write).
    fn update_user(&mut self, profile: &Profile) -> StoreResult<()> {
        let key = self.key("u", profile.id);
        let fields = [
            ("name", profile.name.clone()),
            ("email", profile.email.clone()),
            ("image", profile.image.clone()),
        ];
        self.update(key, None, &fields)
    }

    /// The update script: `HSET` if the user exists (1 write).
    fn set_user_revoked_before(&mut self, user_id: u64, before: Millis) -> StoreResult<()> {
        let key = self.key("u", user_id);
        self.update(key, None, &[("revoked_before", before.to_string())])
    }

    /// `HSET`, `PEXPIREAT` and `SADD` to the user's set in one transaction
    /// (1 write).
    fn create_session(&mut self, token: &str, user_id: u64, expires: Millis) -> StoreResult<()> {
        let key = self.key("s", token);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                &key,
                &[
                    ("user_id", user_id.to_string()),
                    ("expires", expires.to_string()),
                ],
            )
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&key)
            .arg(self.deadline(expires))
            .ignore()
            .sadd(self.key("us", user_id), token)
            .ignore();
        self.transaction(pipe)
    }

    /// One script: `HMGET` of the session, then of its user (1 read).
    fn session_and_user(&mut self, token: &str) -> StoreResult<Option<(SessionRow, Profile)>> {
        self.counts.reads += 1;
        let mut invocation = self.session_and_user.key(self.key("s", token));
        invocation.arg(format!("{}u:", self.prefix));
        let mut connection = self.connection.clone();
        let row: Option<Vec<String>> =
            self.block_on(async move { invocation.invoke_async(&mut connection).await })?;
        let Some([user_id, expires, name, email, image]) =
            row.and_then(|r| <[String; 5]>::try_from(r).ok())
        else {
            return Ok(None);
        };
        let user_id = user_id.parse().unwrap_or(0);
        let session = SessionRow {
            user_id,
            expires: expires.parse().unwrap_or(0),
        };
        let profile = Profile {
            id: user_id,
            name,
            email,
            image,
        };
        Ok(Some((session, profile)))
    }

    /// The update script: `HSET` and `PEXPIREAT` if the session exists
    /// (1 write).
    fn update_session_expiry(&mut self, token: &str, expires: Millis) -> StoreResult<()> {
        let key = self.key("s", token);
        self.update(key, Some(expires), &[("expires", expires.to_string())])
    }

    /// One `DEL` (1 write). The token stays in its user's set until a ban
    /// deletes the set; deleting a missing key then does nothing.
    fn delete_session(&mut self, token: &str) -> StoreResult<()> {
        self.counts.writes += 1;
        let key = self.key("s", token);
        let mut connection = self.connection.clone();
        self.block_on(async move { connection.del::<_, ()>(key).await })
    }

    /// One script: `DEL` of every session in the user's set (1 write).
    fn delete_user_sessions(&mut self, user_id: u64) -> StoreResult<()> {
        let set = self.key("us", user_id);
        self.delete_members(set, "s")
    }

    /// `SCAN` and `HMGET` (uncounted); bytes as the SQL stores count them:
    /// the token plus 16 for the user id and expiry.
    fn session_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        let rows = self.scan_hashes("s", &["expires"])?;
        Ok(live_state(&rows, now, |key, _| {
            (key.len() - "s:".len()) as u64 + 16
        }))
    }

    /// `HSETNX`, `HSET` and `PEXPIREAT` in one transaction (1 write).
    fn deny_token(&mut self, jti: &str, expires: Millis) -> StoreResult<()> {
        let key = self.key("d", format!("jti:{jti}"));
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_nx(&key, "issued_before", 0)
            .ignore()
            .hset(&key, "expires", expires)
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&key)
            .arg(self.deadline(expires))
            .ignore();
        self.transaction(pipe)
    }

    /// `HSET` and `PEXPIREAT` in one transaction (1 write).
    fn deny_user_before(
        &mut self,
        user_id: u64,
        before: Millis,
        expires: Millis,
    ) -> StoreResult<()> {
        let key = self.key("d", format!("user:{user_id}"));
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(&key, &[("issued_before", before), ("expires", expires)])
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&key)
            .arg(self.deadline(expires))
            .ignore();
        self.transaction(pipe)
    }

    /// `EXISTS` of the token's entry and `HGET` of the user's, pipelined in
    /// one round trip (1 read).
    fn is_denied(&mut self, jti: &str, user_id: u64, issued_at: Millis) -> StoreResult<bool> {
        self.counts.reads += 1;
        let mut pipe = redis::pipe();
        pipe.exists(self.key("d", format!("jti:{jti}")))
            .hget(self.key("d", format!("user:{user_id}")), "issued_before");
        let mut connection = self.connection.clone();
        let (token_denied, before): (bool, Option<u64>) =
            self.block_on(async move { pipe.query_async(&mut connection).await })?;
        Ok(token_denied || before.is_some_and(|before| before > issued_at))
    }

    /// `SCAN` and `HMGET` (uncounted); bytes as the SQL stores count them.
    fn denylist_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        let rows = self.scan_hashes("d", &["expires"])?;
        Ok(live_state(&rows, now, |key, _| {
            (key.len() - "d:".len()) as u64 + 16
        }))
    }

    /// `HSET`, `PEXPIREAT` and `SADD` to the family's and the user's sets in
    /// one transaction (1 write).
    fn insert_refresh(&mut self, token: &str, row: &RefreshRow) -> StoreResult<()> {
        let key = self.key("r", token);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(
                &key,
                &[
                    ("family", row.family.clone()),
                    ("user_id", row.user_id.to_string()),
                    ("expires", row.expires.to_string()),
                    ("used", u8::from(row.used).to_string()),
                ],
            )
            .ignore()
            .cmd("PEXPIREAT")
            .arg(&key)
            .arg(self.deadline(row.expires))
            .ignore()
            .sadd(self.key("rf", &row.family), token)
            .ignore()
            .sadd(self.key("ru", row.user_id), token)
            .ignore();
        self.transaction(pipe)
    }

    /// One `HMGET` (1 read).
    fn find_refresh(&mut self, token: &str) -> StoreResult<Option<RefreshRow>> {
        self.counts.reads += 1;
        let key = self.key("r", token);
        let mut connection = self.connection.clone();
        let fields: Vec<Option<String>> = self.block_on(async move {
            redis::cmd("HMGET")
                .arg(key)
                .arg(&["family", "user_id", "expires", "used"])
                .query_async(&mut connection)
                .await
        })?;
        let [Some(family), user_id, expires, used] =
            <[Option<String>; 4]>::try_from(fields).unwrap_or_default()
        else {
            return Ok(None);
        };
        Ok(Some(RefreshRow {
            family,
            user_id: parse_u64(&user_id),
            expires: parse_u64(&expires),
            used: parse_u64(&used) != 0,
        }))
    }

    /// The update script: `HSET` if the token exists (1 write).
    fn mark_refresh_used(&mut self, token: &str) -> StoreResult<()> {
        let key = self.key("r", token);
        self.update(key, None, &[("used", "1".to_string())])
    }

    /// One script: `DEL` of every token in the family's set (1 write).
    fn delete_refresh_family(&mut self, family: &str) -> StoreResult<()> {
        let set = self.key("rf", family);
        self.delete_members(set, "r")
    }

    /// One script: `DEL` of every token in the user's set (1 write).
    fn delete_user_refresh(&mut self, user_id: u64) -> StoreResult<()> {
        let set = self.key("ru", user_id);
        self.delete_members(set, "r")
    }

    /// `SCAN` and `HMGET` (uncounted); bytes as the SQL stores count them:
    /// token, family, and 17 for the user id, expiry and used flag.
    fn refresh_state(&mut self, now: Millis) -> StoreResult<StateSize> {
        let rows = self.scan_hashes("r", &["expires", "family"])?;
        Ok(live_state(&rows, now, |key, fields| {
            let family = fields[1].as_deref().unwrap_or("");
            ((key.len() - "r:".len()) + family.len()) as u64 + 17
        }))
    }

    fn counts(&self) -> OpCounts {
        self.counts
    }
}
