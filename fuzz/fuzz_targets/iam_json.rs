#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leastpriv::fuzzing::iam_json(data));
