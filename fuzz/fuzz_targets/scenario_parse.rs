//! Parses arbitrary text as a scenario file, then runs the checks that
//! `bench` runs before a replay. Any panic is a bug: bad input must come
//! back as an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(scenario) = authcmp::scenario::parse("fuzz.toml", text) {
        let _ = scenario.scripted_events();
        let _ = authcmp::limits::check_size(&scenario, false);
        for cohort in &scenario.cohorts {
            let _ = authcmp::limits::cohort_timeline(cohort);
        }
    }
});
