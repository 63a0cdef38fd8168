//! The engine's own cost per event: a whole run with only the `noop`
//! strategy, which does no work. Criterion reports events per second; its
//! inverse is the harness overhead added to every timed call.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const SCENARIO: &str = r#"
name = "engine-overhead"
seed = 1
[[cohort]]
name = "u"
users = 200
ramp = "10m"
steps = [
  { login = {} },
  { requests = { count = 100, every = "10s", jitter = 0.5 } },
  { copy_cookie = { to = "copy" } },
  { logout = {} },
  { replay = { cookie = "copy", count = 10, every = "1m" } },
]
[[strategy]]
name = "noop"
"#;

fn engine(c: &mut Criterion) {
    let scenario = authcmp::scenario::parse("engine-overhead.toml", SCENARIO).unwrap();
    let events = authcmp::engine::run(&scenario, &scenario.strategies, 1)
        .unwrap()
        .events;
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(events));
    group.bench_function("noop-run", |b| {
        b.iter(|| authcmp::engine::run(&scenario, &scenario.strategies, 1).unwrap())
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
