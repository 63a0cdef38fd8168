#!/usr/bin/env bash
# Runs every fuzz target one after another for SECONDS each (default 600),
# printing libFuzzer's closing statistics. Needs a nightly toolchain and
# cargo-fuzz: `cargo install cargo-fuzz`.
set -uo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
for target in scenario_parse jws_verify jwe_decode cookie_verify; do
    mkdir -p "corpus/$target"
    echo "== $target: ${seconds}s"
    cargo +nightly fuzz run --sanitizer none "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 \
        2>&1 | tail -n 40
    echo "== $target exit ${PIPESTATUS[0]}"
done
