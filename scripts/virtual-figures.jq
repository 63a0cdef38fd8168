# Keep the virtual-clock figures of an `authcmp bench --format json` report:
# drop the start time, wall and timed times, and every latency figure, but
# keep the counts of timed calls. Two builds that replay the same scenario
# and seed must give the same output:
#
#   diff <(jq -S -f scripts/virtual-figures.jq old.json) \
#        <(jq -S -f scripts/virtual-figures.jq new.json)
del(.run.started_at, .run.wall_ms, .run.timed_ms, .run.wall_per_timed)
| .strategies |= map(.latency |= {verify_count: .verify.count, login_count: .login.count})
| walk(if type == "object" then with_entries(select(.key | test("_ns$") | not)) else . end)
