//! Placeholder bench target so that `cargo bench` has a harness to build.

fn main() {}
