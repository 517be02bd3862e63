//! Using the tool as a person would: logging, quiet mode, completions, man page.

use crate::common::leastpriv;

#[test]
fn verbose_logs_counts_on_stderr_and_keeps_stdout_clean() {
    let quiet = leastpriv()
        .args(["audit", "fixtures/demo", "--format", "json"])
        .run();
    quiet.code(0);
    assert_eq!(
        quiet.stderr, "",
        "no output on stderr by default when it is not a terminal"
    );
    let run = leastpriv()
        .args(["-v", "audit", "fixtures/demo", "--format", "json"])
        .run();
    run.code(0);
    assert!(
        run.stderr
            .contains("info: found 60 log file(s), 1 digest file(s) skipped"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("info: 277 records"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("stage "),
        "stage timings are debug output: {}",
        run.stderr
    );
    assert_eq!(run.stdout, quiet.stdout, "logging never changes the report");
    // -vv times each stage, in the order they run.
    let debug = leastpriv()
        .args(["-vv", "audit", "fixtures/demo", "--format", "json"])
        .run();
    debug.code(0);
    let stages: Vec<&str> = debug
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("debug: stage "))
        .map(|l| l.rsplit_once(": ").expect("stage: time").0)
        .collect();
    assert_eq!(
        stages,
        [
            "load catalog",
            "load rules",
            "read IAM",
            "read activity",
            "evaluate principals",
            "trust",
            "rules",
            "write the report"
        ],
        "{}",
        debug.stderr
    );
    assert!(debug
        .stderr
        .lines()
        .filter(|l| l.starts_with("debug: stage "))
        // The time, then the memory where the system says (Linux).
        .all(|l| l.ends_with(" ms") || (l.contains(" ms, RSS ") && l.ends_with(" MB)"))));
    assert_eq!(debug.stdout, quiet.stdout);
}

#[test]
fn quiet_hides_warnings_but_not_errors() {
    let damaged = [
        "audit",
        "--iam",
        "tests/fixtures/tiny/iam.json",
        "--cloudtrail",
        "tests/fixtures/bad-cloudtrail",
    ];
    let run = leastpriv().args(damaged).arg("--quiet").run();
    run.code(0);
    assert_eq!(run.stderr, "");
    let loud = leastpriv().args(damaged).run();
    assert!(loud.stderr.contains("warning: skipped"), "{}", loud.stderr);
    let err = leastpriv().args(["audit", "no-such-dir", "--quiet"]).run();
    err.code(2);
    assert!(err.stderr.starts_with("error: "), "{}", err.stderr);
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_leastpriv()"),
        ("zsh", "#compdef leastpriv"),
        ("fish", "complete -c leastpriv"),
    ] {
        let run = leastpriv().args(["completions", shell]).run();
        run.code(0);
        assert!(
            run.stdout.contains(marker),
            "{shell}: {}",
            &run.stdout[..run.stdout.len().min(200)]
        );
        assert!(
            run.stdout.contains("secrets"),
            "{shell} completes subcommands"
        );
    }
}

#[test]
fn man_page_is_roff_from_the_cli_definition() {
    let run = leastpriv().arg("man").run();
    run.code(0);
    assert!(
        run.stdout.contains(".TH leastpriv 1"),
        "{}",
        &run.stdout[..200]
    );
    assert!(run.stdout.contains("audit"));
}
