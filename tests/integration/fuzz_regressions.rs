//! Every input a fuzz target (fuzz/, scripts/fuzz) once failed on, kept in
//! tests/fixtures/fuzz/TARGET/ and run through the target's exact code.
//! Hand-made hard cases sit beside them from the start.

use crate::common::repo;

fn run_all(target: &str, f: fn(&[u8])) -> usize {
    let dir = repo().join("tests/fixtures/fuzz").join(target);
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "md") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| f(&data));
        assert!(result.is_ok(), "{target}: {} panics", path.display());
        n += 1;
    }
    n
}

#[test]
fn cloudtrail_inputs() {
    assert!(run_all("cloudtrail", leastpriv::fuzzing::cloudtrail) > 0);
}

#[test]
fn policy_inputs() {
    assert!(run_all("policy", leastpriv::fuzzing::policy) > 0);
}

#[test]
fn iam_json_inputs() {
    assert!(run_all("iam_json", leastpriv::fuzzing::iam_json) > 0);
}
