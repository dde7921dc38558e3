#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    entraide_fuzz_harness::contained_panics_are_not_crashes();
    entraide_fuzz_harness::sync_frame::run(data)
});
