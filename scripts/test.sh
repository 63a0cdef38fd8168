#!/usr/bin/env bash
# Runs the whole test suite. This is the test command the README names and
# .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked "$@"
