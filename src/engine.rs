//! The replay engine: one event stream, fed to every strategy in turn.
//!
//! The engine generates a block of [`BLOCK`] events, feeds the whole block
//! to the first strategy, then to the next, and so on, before it generates
//! the next block. A block takes tens of milliseconds of wall time per
//! strategy, so machine drift during a run still spreads evenly over the
//! strategies. Each strategy meanwhile verifies a long run of requests
//! with its own code and data in the CPU caches. Fed one event at a time, a
//! strategy's verify p50 depended on the others in the run: `jwt` measured
//! 1.13-1.23x higher in `default.toml` with all seven strategies than with
//! two, and with blocks of 4,096 events 0.98-1.02x.
//!
//! Each strategy has its own clients (cookie jars) and trackers, because
//! the same request can be accepted by one strategy and rejected by
//! another.

use quanta::Clock;
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::cookie::{CookieJar, Holder, SetCookie};
use crate::metrics::{ActionOps, Metrics};
use crate::scenario::{JarId, Scenario};
use crate::store::{OpCounts, Profile, StateSize, StoreError};
use crate::strategy::{Setup, Strategy, Verification};
use crate::time::Millis;
use crate::workload::{Action, Event, Workload};

/// A strategy failed at runtime (a store error), naming the strategy.
#[derive(Debug, thiserror::Error)]
#[error("strategy {label}: {source}")]
pub struct EngineError {
    pub label: String,
    #[source]
    pub source: StoreError,
}

/// What one strategy did over a run.
pub struct LaneResult {
    pub setup: Setup,
    /// The store it used, as the store describes itself.
    pub store: String,
    pub metrics: Metrics,
    /// Server-side state left for live credentials at the end.
    pub state: StateSize,
}

/// The outcome of a whole run.
pub struct RunResult {
    pub lanes: Vec<LaneResult>,
    /// Events the workload produced, counted once for all strategies.
    pub events: u64,
    /// Requests and replays in the workload.
    pub requests: u64,
    /// Virtual time of the last event.
    pub span: Millis,
    /// Most users active at once.
    pub peak_active_users: usize,
    /// Wall time of the whole run, in nanoseconds.
    pub wall_ns: u128,
}

/// Revocation being tracked on one credential.
#[derive(Clone, Copy, Debug)]
struct Watch {
    revoked_at: Millis,
    last_accept: Option<Millis>,
    /// Whether the credential was rejected since its revocation.
    rejected: bool,
    /// Index of the credential's probe sample in the metrics, if sampled.
    sample: Option<usize>,
}

/// One client of one user: a device, or a copy of a device's cookies.
struct Client {
    jar: CookieJar,
    signed_in: bool,
    /// Increases with each sign-in on the device.
    credential: u64,
    /// For copies: the device and credential the copy was taken from.
    source: Option<(JarId, u64)>,
    watch: Option<Watch>,
    /// Time of the oldest profile change this device has not yet seen.
    stale_since: Option<Millis>,
    /// Whether the device saw an outdated profile since `stale_since`.
    saw_stale: bool,
}

impl Client {
    fn new(holder: Holder) -> Self {
        Client {
            jar: CookieJar::new(holder),
            signed_in: false,
            credential: 0,
            source: None,
            watch: None,
            stale_since: None,
            saw_stale: false,
        }
    }
}

/// One strategy with its clients and metrics.
struct Lane {
    setup: Setup,
    /// Clock for sign-in and verify calls: the TSC where the CPU has an
    /// invariant one, which costs less to read than `Instant::now` through
    /// `clock_gettime`, and the OS clock elsewhere.
    clock: Clock,
    strategy: Box<dyn Strategy>,
    metrics: Metrics,
    users: FxHashMap<u64, Vec<Option<Client>>>,
}

/// Events generated and buffered before the first strategy replays them.
pub const BLOCK: usize = 4096;

/// Current profile of each active user, shared by lanes and built once
/// per user rather than once per event.
struct Profiles {
    active: FxHashMap<u64, (u32, Rc<Profile>)>,
    /// Name padding of each cohort.
    padding: Vec<usize>,
}

impl Profiles {
    fn current(&mut self, user: u64, cohort: usize) -> Rc<Profile> {
        let padding = self.padding[cohort];
        self.active
            .entry(user)
            .or_insert_with(|| (0, Rc::new(Profile::generated(user, 0, padding))))
            .1
            .clone()
    }

    fn change(&mut self, user: u64, cohort: usize) {
        let padding = self.padding[cohort];
        let entry = self
            .active
            .entry(user)
            .or_insert_with(|| (0, Rc::new(Profile::generated(user, 0, padding))));
        entry.0 += 1;
        entry.1 = Rc::new(Profile::generated(user, entry.0, padding));
    }
}

/// Replays `scenario` with `seed` against every setup.
pub fn run(scenario: &Scenario, setups: &[Setup], seed: u64) -> Result<RunResult, EngineError> {
    run_with_progress(scenario, setups, seed, &mut |_| {})
}

/// Replays like [`run`], calling `progress` with the count of events run
/// so far after each event.
pub fn run_with_progress(
    scenario: &Scenario,
    setups: &[Setup],
    seed: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<RunResult, EngineError> {
    let never = AtomicBool::new(false);
    let result = run_until(scenario, setups, seed, &never, progress)?;
    Ok(result.expect("a run whose stop flag is never set runs to its end"))
}

/// Replays like [`run_with_progress`], checking `stop` before each event.
/// Returns `Ok(None)` when `stop` was set before the last event.
pub fn run_until(
    scenario: &Scenario,
    setups: &[Setup],
    seed: u64,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
) -> Result<Option<RunResult>, EngineError> {
    let started = Instant::now();
    let clock = Clock::new();
    let mut lanes = Vec::with_capacity(setups.len());
    for setup in setups {
        let strategy = setup.build().map_err(|source| EngineError {
            label: setup.label.clone(),
            source,
        })?;
        lanes.push(Lane {
            setup: setup.clone(),
            clock: clock.clone(),
            strategy,
            metrics: Metrics::new(),
            users: FxHashMap::default(),
        });
    }
    let mut profiles = Profiles {
        active: FxHashMap::default(),
        padding: scenario.cohorts.iter().map(|c| c.name_padding).collect(),
    };
    let mut workload = Workload::new(scenario, seed);
    let (mut events, mut requests, mut span, mut peak) = (0u64, 0u64, 0, 0);
    let mut block: Vec<(Event, Option<Rc<Profile>>)> = Vec::with_capacity(BLOCK);
    loop {
        block.clear();
        while block.len() < BLOCK {
            let Some(event) = workload.next() else {
                break;
            };
            events += 1;
            span = event.at;
            peak = peak.max(workload.active_users());
            if matches!(event.action, Action::Request { .. } | Action::Replay { .. }) {
                requests += 1;
            }
            if let Action::UpdateProfile { .. } = event.action {
                profiles.change(event.user, event.cohort);
            }
            let profile = match event.action {
                Action::Revoke { .. } => None,
                _ => Some(profiles.current(event.user, event.cohort)),
            };
            if let Action::Finish = event.action {
                profiles.active.remove(&event.user);
            }
            block.push((event, profile));
        }
        if block.is_empty() {
            break;
        }
        for lane in &mut lanes {
            for (event, profile) in &block {
                if stop.load(Ordering::Relaxed) {
                    return Ok(None);
                }
                lane.apply(scenario, event, profile.as_deref())
                    .map_err(|source| EngineError {
                        label: lane.setup.label.clone(),
                        source,
                    })?;
            }
        }
        progress(events);
    }
    let mut results = Vec::with_capacity(lanes.len());
    for mut lane in lanes {
        lane.finish_all();
        let state = lane
            .strategy
            .server_state(span)
            .map_err(|source| EngineError {
                label: lane.setup.label.clone(),
                source,
            })?;
        results.push(LaneResult {
            store: lane.strategy.store().describe(),
            setup: lane.setup,
            metrics: lane.metrics,
            state,
        });
    }
    Ok(Some(RunResult {
        lanes: results,
        events,
        requests,
        span,
        peak_active_users: peak,
        wall_ns: started.elapsed().as_nanos(),
    }))
}

impl Lane {
    fn apply(
        &mut self,
        scenario: &Scenario,
        event: &Event,
        profile: Option<&Profile>,
    ) -> Result<(), StoreError> {
        let now = event.at;
        match &event.action {
            Action::Revoke { users } => return self.revoke(users, now),
            Action::Finish => {
                self.finish(event.user);
                return Ok(());
            }
            _ => {}
        }
        let profile = profile.expect("user events come with the user's profile");
        // One map lookup per event: the user's steps below work on `clients`.
        let clients = match self.users.entry(event.user) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                self.strategy.store().seed_user(profile)?;
                let jars = scenario.cohorts[event.cohort].jars.len();
                entry.insert((0..jars).map(|_| None).collect())
            }
        };
        let mut user = UserLane {
            clock: &self.clock,
            strategy: self.strategy.as_mut(),
            metrics: &mut self.metrics,
            clients,
        };
        match event.action {
            Action::Login { device } => user.login(profile, device, now),
            Action::Request { device } => user.request(profile, device, now),
            Action::UpdateProfile { device } => user.update_profile(profile, device, now),
            Action::Logout { device } => user.logout(device, now),
            Action::CopyCookie { device, to } => {
                user.copy(device, to);
                Ok(())
            }
            Action::Replay { copy } => user.replay(copy, now),
            Action::Finish | Action::Revoke { .. } => Ok(()),
        }
    }

    fn counts(&mut self) -> OpCounts {
        self.strategy.store().counts()
    }

    fn revoke(&mut self, users: &[u64], now: Millis) -> Result<(), StoreError> {
        for user in users {
            let Some(clients) = self.users.get_mut(user) else {
                continue;
            };
            for client in clients.iter_mut().flatten() {
                let live = if client.source.is_some() {
                    !client.jar.is_empty()
                } else {
                    client.signed_in
                };
                if live && client.watch.is_none() {
                    client.watch = Some(Watch::new(now, self.metrics.revocation.start_sample(now)));
                    self.metrics.revocation.tracked += 1;
                }
            }
            let before = self.counts();
            self.strategy.revoke_user(*user, now)?;
            let ops = self.counts().since(before);
            self.metrics.revoke.add(ops);
        }
        Ok(())
    }

    /// Closes the trackers of a user whose script has ended.
    fn finish(&mut self, user: u64) {
        if let Some(clients) = self.users.remove(&user) {
            close_trackers(&mut self.metrics, clients);
        }
    }

    fn finish_all(&mut self) {
        let users: Vec<u64> = self.users.keys().copied().collect();
        for user in users {
            self.finish(user);
        }
    }
}

/// One user's clients in one lane, with the lane's strategy and metrics:
/// what a user's step works on.
struct UserLane<'a> {
    clock: &'a Clock,
    strategy: &'a mut dyn Strategy,
    metrics: &'a mut Metrics,
    clients: &'a mut [Option<Client>],
}

impl UserLane<'_> {
    fn client(&mut self, jar: JarId, holder: Holder) -> &mut Client {
        self.clients[jar as usize].get_or_insert_with(|| Client::new(holder))
    }

    /// Returns the client that an earlier step of the user created.
    fn existing_client(&mut self, jar: JarId) -> &mut Client {
        self.clients[jar as usize]
            .as_mut()
            .expect("a client exists once a step has used it")
    }

    fn counts(&mut self) -> OpCounts {
        self.strategy.store().counts()
    }

    fn login(&mut self, profile: &Profile, device: JarId, now: Millis) -> Result<(), StoreError> {
        let before = self.counts();
        let client =
            self.clients[device as usize].get_or_insert_with(|| Client::new(Holder::Browser));
        let started = self.clock.raw();
        let set_cookies = self.strategy.login(profile, &client.jar, now)?;
        let nanos = self.clock.delta_as_nanos(started, self.clock.raw());
        Metrics::record(
            &mut self.metrics.login_latency,
            &mut self.metrics.timed_ns,
            nanos,
        );
        let ops = self.counts().since(before);
        self.metrics.login.add(ops);
        let client = self.existing_client(device);
        client.jar.apply(&set_cookies, now);
        client.signed_in = true;
        client.credential += 1;
        client.watch = None;
        Ok(())
    }

    /// Verifies a client's cookies, timing the call and counting its store
    /// operations and bytes; the client applies the returned cookies.
    fn verify(&mut self, jar_id: JarId, now: Millis) -> Result<Verification, StoreError> {
        let before = self.counts();
        let client = self.clients[jar_id as usize]
            .as_mut()
            .expect("a client exists once a step has used it");
        client.jar.expire(now);
        let cookie_len = client.jar.header_len();
        let chunks = client.jar.len();
        let started = self.clock.raw();
        let verification = self.strategy.verify(&client.jar, now)?;
        let nanos = self.clock.delta_as_nanos(started, self.clock.raw());
        client.jar.apply(&verification.set_cookies, now);

        let m = &mut *self.metrics;
        Metrics::record(&mut m.verify_latency, &mut m.timed_ns, nanos);
        m.cookie_bytes.add(cookie_len);
        m.max_chunks = m.max_chunks.max(chunks);
        if !verification.set_cookies.is_empty() {
            m.set_cookie_responses += 1;
            m.set_cookie_bytes += verification
                .set_cookies
                .iter()
                .map(SetCookie::header_len)
                .sum::<usize>() as u64;
        }
        let ops = self.counts().since(before);
        self.metrics.verify.add(ops);
        if verification.outcome.is_ok() {
            self.metrics.accepted += 1;
        } else {
            self.metrics.rejected += 1;
        }
        Ok(verification)
    }

    fn request(&mut self, profile: &Profile, device: JarId, now: Millis) -> Result<(), StoreError> {
        let signed_in = self.client(device, Holder::Browser).signed_in;
        if !signed_in {
            self.metrics.signed_out_requests += 1;
            return Ok(());
        }
        let verification = self.verify(device, now)?;
        let m = &mut *self.metrics;
        let client = self.clients[device as usize]
            .as_mut()
            .expect("a client exists once a step has used it");
        match verification.outcome {
            Ok(identity) => {
                if let Some(watch) = client.watch.as_mut() {
                    note_accept(m, watch, now);
                }
                if identity.name == profile.name {
                    if let Some(since) = client.stale_since.take() {
                        m.staleness.delays.push(now - since);
                        client.saw_stale = false;
                    }
                } else {
                    m.staleness.stale_reads += 1;
                    client.saw_stale = true;
                }
                Ok(())
            }
            Err(_) => {
                if let Some(watch) = client.watch.as_mut() {
                    note_rejection(m, watch, now);
                    client.signed_in = false;
                    client.jar.clear();
                    Ok(())
                } else {
                    // The credential was not revoked, so it expired: the user signs in again.
                    self.metrics.forced_sign_ins += 1;
                    self.login(profile, device, now)
                }
            }
        }
    }

    fn replay(&mut self, copy: JarId, now: Millis) -> Result<(), StoreError> {
        if self.client(copy, Holder::Copy).jar.is_empty() {
            self.metrics.signed_out_requests += 1;
            return Ok(());
        }
        let verification = self.verify(copy, now)?;
        let m = &mut *self.metrics;
        let client = self.clients[copy as usize]
            .as_mut()
            .expect("a client exists once a step has used it");
        match verification.outcome {
            Ok(_) => {
                if let Some(watch) = client.watch.as_mut() {
                    note_accept(m, watch, now);
                }
            }
            Err(_) => {
                if let Some(watch) = client.watch.as_mut() {
                    note_rejection(m, watch, now);
                }
            }
        }
        Ok(())
    }

    fn update_profile(
        &mut self,
        profile: &Profile,
        device: JarId,
        now: Millis,
    ) -> Result<(), StoreError> {
        let before = self.counts();
        let client =
            self.clients[device as usize].get_or_insert_with(|| Client::new(Holder::Browser));
        let set_cookies = self.strategy.update_profile(profile, &client.jar, now)?;
        let ops = self.counts().since(before);
        self.metrics.profile_update.add(ops);
        self.metrics.staleness.changes += 1;
        self.existing_client(device).jar.apply(&set_cookies, now);
        for client in self.clients.iter_mut().flatten() {
            if client.source.is_none() && client.signed_in && client.stale_since.is_none() {
                client.stale_since = Some(now);
                client.saw_stale = false;
            }
        }
        Ok(())
    }

    fn logout(&mut self, device: JarId, now: Millis) -> Result<(), StoreError> {
        let client = self.client(device, Holder::Browser);
        if !client.signed_in {
            return Ok(());
        }
        let credential = client.credential;
        let before = self.counts();
        let client = self.clients[device as usize]
            .as_mut()
            .expect("a client exists once a step has used it");
        let set_cookies = self.strategy.logout(&client.jar, now)?;
        let ops = self.counts().since(before);
        self.metrics.logout.add(ops);
        let client = self.existing_client(device);
        client.jar.apply(&set_cookies, now);
        client.jar.clear();
        client.signed_in = false;
        for copy in self.clients.iter_mut().flatten() {
            if copy.source == Some((device, credential)) && copy.watch.is_none() {
                copy.watch = Some(Watch::new(now, self.metrics.revocation.start_sample(now)));
                self.metrics.revocation.tracked += 1;
            }
        }
        Ok(())
    }

    fn copy(&mut self, device: JarId, to: JarId) {
        let source = self.client(device, Holder::Browser);
        let copied = Client {
            jar: source.jar.copy_for_attacker(),
            signed_in: true,
            credential: 0,
            source: Some((device, source.credential)),
            watch: None,
            stale_since: None,
            saw_stale: false,
        };
        self.clients[to as usize] = Some(copied);
    }
}

impl Watch {
    fn new(revoked_at: Millis, sample: Option<usize>) -> Self {
        Watch {
            revoked_at,
            last_accept: None,
            rejected: false,
            sample,
        }
    }
}

/// Counts an accept of a revoked credential.
fn note_accept(m: &mut Metrics, watch: &mut Watch, now: Millis) {
    watch.last_accept = Some(now);
    m.revocation.stale_accepts += 1;
    m.revocation.present(watch.sample, now, true);
    m.revocation.last_accept = m.revocation.last_accept.max(now - watch.revoked_at);
}

/// Records the delay of a revoked credential's first rejection. Later
/// presentations are still tracked: a cache on another node can accept
/// the credential again after one node rejected it.
fn note_rejection(m: &mut Metrics, watch: &mut Watch, now: Millis) {
    m.revocation.present(watch.sample, now, false);
    if watch.rejected {
        return;
    }
    watch.rejected = true;
    m.revocation.delays.push(now - watch.revoked_at);
    let from = watch
        .last_accept
        .unwrap_or(watch.revoked_at)
        .max(watch.revoked_at);
    m.revocation.resolution = m.revocation.resolution.max(now - from);
}

fn close_trackers(m: &mut Metrics, clients: Vec<Option<Client>>) {
    for client in clients.into_iter().flatten() {
        if let Some(watch) = client.watch.filter(|w| !w.rejected) {
            if watch.last_accept.is_some() {
                m.revocation.never += 1;
            } else {
                m.revocation.unprobed += 1;
            }
        }
        if client.stale_since.is_some() {
            if client.saw_stale {
                m.staleness.never += 1;
            } else {
                m.staleness.unobserved += 1;
            }
        }
    }
}

/// Operations of an action per occurrence, for reports.
pub fn per_action(ops: &ActionOps) -> (f64, f64) {
    if ops.count == 0 {
        return (0.0, 0.0);
    }
    (
        ops.ops.reads as f64 / ops.count as f64,
        ops.ops.writes as f64 / ops.count as f64,
    )
}
