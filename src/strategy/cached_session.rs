//! Auth.js-style database sessions behind an in-process cache on several
//! application nodes.
//!
//! Each node keeps the sessions it has read for `cache_ttl`. A load
//! balancer spreads requests over the nodes, round-robin or sticky by
//! session cookie. A sign-out deletes the row and clears the cache entry
//! of the node that handled it only, so the other nodes accept the old
//! cookie until their entry expires; a ban or a profile change likewise
//! reaches them only through expiry. With a TTL of 0 every read goes to
//! the store, exactly as `authjs-database` does.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use uuid::Uuid;

use super::database::{cookie_name, extension_due, DatabaseOptions};
use super::{span, Identity, Rejection, Strategy, Verification};
use crate::cookie::{delete_credential, CookieAttributes, CookieJar, Lifetime, SetCookie};
use crate::store::{Profile, SessionRow, Store, StoreResult};
use crate::time::{Millis, MINUTE};

/// How the load balancer picks a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balance {
    /// Each request goes to the next node in turn.
    RoundRobin,
    /// Requests with the same session cookie go to the same node.
    Sticky,
}

/// Options of `cached-session`.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedSessionOptions {
    pub session: DatabaseOptions,
    /// How long a node trusts a cached session; 0 disables the cache.
    pub cache_ttl: Millis,
    /// Application nodes, each with its own cache.
    pub nodes: usize,
    pub balance: Balance,
}

impl Default for CachedSessionOptions {
    fn default() -> Self {
        CachedSessionOptions {
            session: DatabaseOptions::default(),
            cache_ttl: MINUTE,
            nodes: 3,
            balance: Balance::RoundRobin,
        }
    }
}

impl CachedSessionOptions {
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let mut settings = self.session.settings();
        settings.push(("cache_ttl", span(self.cache_ttl)));
        settings.push(("nodes", self.nodes.to_string()));
        let balance = match self.balance {
            Balance::RoundRobin => "round-robin",
            Balance::Sticky => "sticky",
        };
        settings.push(("balance", balance.to_string()));
        settings
    }
}

/// A session as one node cached it.
#[derive(Clone, Debug)]
struct CacheEntry {
    session: SessionRow,
    profile: Profile,
    cached_at: Millis,
}

/// One node's cache, pruned of expired entries as it grows.
#[derive(Default)]
struct NodeCache {
    entries: HashMap<String, CacheEntry>,
    prune_at: usize,
}

impl NodeCache {
    fn fresh(&self, token: &str, ttl: Millis, now: Millis) -> Option<&CacheEntry> {
        self.entries.get(token).filter(|e| now < e.cached_at + ttl)
    }

    fn insert(&mut self, token: &str, entry: CacheEntry, ttl: Millis, now: Millis) {
        if self.entries.len() >= self.prune_at {
            self.entries.retain(|_, e| now < e.cached_at + ttl);
            self.prune_at = (self.entries.len() * 2).max(1024);
        }
        self.entries.insert(token.to_string(), entry);
    }
}

pub struct CachedSession {
    options: CachedSessionOptions,
    store: Box<dyn Store>,
    cookie: &'static str,
    attributes: CookieAttributes,
    caches: Vec<NodeCache>,
    next_node: usize,
}

impl CachedSession {
    pub fn new(options: CachedSessionOptions, store: Box<dyn Store>) -> Self {
        CachedSession {
            cookie: cookie_name(options.session.secure),
            attributes: CookieAttributes::session(options.session.secure),
            caches: (0..options.nodes.max(1))
                .map(|_| NodeCache::default())
                .collect(),
            next_node: 0,
            options,
            store,
        }
    }

    /// The node the load balancer sends a request with `token` to.
    fn pick_node(&mut self, token: &str) -> usize {
        match self.options.balance {
            Balance::RoundRobin => {
                let node = self.next_node;
                self.next_node = (self.next_node + 1) % self.caches.len();
                node
            }
            Balance::Sticky => {
                // SipHash with fixed keys: the same node on every run.
                let mut hasher = std::hash::DefaultHasher::new();
                token.hash(&mut hasher);
                (hasher.finish() % self.caches.len() as u64) as usize
            }
        }
    }

    fn session_cookie(&self, token: &str, expires: Millis) -> SetCookie {
        SetCookie {
            name: self.cookie.to_string(),
            value: token.to_string(),
            lifetime: Lifetime::Expires(expires),
            attributes: self.attributes.clone(),
        }
    }

    /// Reads a session through `node`'s cache, counting a store read on a miss.
    fn lookup(&mut self, node: usize, token: &str, now: Millis) -> StoreResult<Option<CacheEntry>> {
        let ttl = self.options.cache_ttl;
        if let Some(entry) = self.caches[node].fresh(token, ttl, now) {
            return Ok(Some(entry.clone()));
        }
        let Some((session, profile)) = self.store.session_and_user(token)? else {
            self.caches[node].entries.remove(token);
            return Ok(None);
        };
        let entry = CacheEntry {
            session,
            profile,
            cached_at: now,
        };
        if ttl > 0 {
            self.caches[node].insert(token, entry.clone(), ttl, now);
        }
        Ok(Some(entry))
    }
}

impl Strategy for CachedSession {
    fn login(
        &mut self,
        profile: &Profile,
        _jar: &CookieJar,
        now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        let user = self.store.find_user(profile.id)?;
        let user_id = user.map_or(profile.id, |row| row.profile.id);
        let token = Uuid::new_v4().to_string();
        let expires = now + self.options.session.max_age;
        self.store.create_session(&token, user_id, expires)?;
        Ok(vec![self.session_cookie(&token, expires)])
    }

    fn verify(&mut self, jar: &CookieJar, now: Millis) -> StoreResult<Verification> {
        let Some(token) = jar.get(self.cookie) else {
            return Ok(Verification {
                outcome: Err(Rejection::NoCredential),
                set_cookies: Vec::new(),
            });
        };
        let node = self.pick_node(token);
        let rejected = |this: &Self, reason| Verification {
            outcome: Err(reason),
            set_cookies: delete_credential(jar, this.cookie, &this.attributes),
        };
        let Some(mut entry) = self.lookup(node, token, now)? else {
            return Ok(rejected(self, Rejection::UnknownSession));
        };
        if entry.session.expires < now {
            self.store.delete_session(token)?;
            self.caches[node].entries.remove(token);
            return Ok(rejected(self, Rejection::Expired));
        }
        let session = &self.options.session;
        let new_expires = now + session.max_age;
        if extension_due(
            entry.session.expires,
            session.max_age,
            session.update_age,
            now,
        ) {
            self.store.update_session_expiry(token, new_expires)?;
            entry.session.expires = new_expires;
            if let Some(cached) = self.caches[node].entries.get_mut(token) {
                cached.session.expires = new_expires;
            }
        }
        Ok(Verification {
            outcome: Ok(Identity {
                subject: entry.session.user_id.to_string(),
                name: entry.profile.name,
            }),
            set_cookies: vec![self.session_cookie(token, new_expires)],
        })
    }

    fn update_profile(
        &mut self,
        profile: &Profile,
        _jar: &CookieJar,
        _now: Millis,
    ) -> StoreResult<Vec<SetCookie>> {
        self.store.update_user(profile)?;
        Ok(Vec::new())
    }

    fn logout(&mut self, jar: &CookieJar, _now: Millis) -> StoreResult<Vec<SetCookie>> {
        if let Some(token) = jar.get(self.cookie) {
            let node = self.pick_node(token);
            self.store.delete_session(token)?;
            self.caches[node].entries.remove(token);
        }
        Ok(delete_credential(jar, self.cookie, &self.attributes))
    }

    fn revoke_user(&mut self, user_id: u64, _now: Millis) -> StoreResult<()> {
        self.store.delete_user_sessions(user_id)
    }

    fn store(&mut self) -> &mut dyn Store {
        self.store.as_mut()
    }
}
