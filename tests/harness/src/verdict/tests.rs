//! The verdict on canned console logs: a harness that cannot fail is worthless.

use super::*;

fn judge_file(name: &str) -> Verdict {
    let path = format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let lines: Vec<&str> = text.lines().collect();
    judge(&lines, &["skeleton".to_string(), "selftest".to_string()])
}

#[test]
fn clean_run_passes() {
    let v = judge_file("pass.log");
    assert!(v.passed(), "{:?}", v.problems);
    assert_eq!((v.passed, v.failed, v.skipped), (4, 0, 1));
    assert_eq!(
        v.suites,
        vec![("skeleton".into(), 2, 3), ("selftest".into(), 2, 2)]
    );
}

#[test]
fn failing_test_fails_the_run() {
    let v = judge_file("failing-test.log");
    assert!(!v.passed());
    assert_eq!(v.failed, 1);
    assert_eq!(
        v.problems,
        vec![Problem::TestFailed {
            suite: "skeleton".into(),
            line: 9
        }]
    );
}

#[test]
fn oops_fails_a_run_whose_tests_all_passed() {
    let v = judge_file("oops.log");
    assert!(!v.passed());
    assert_eq!((v.passed, v.failed), (4, 1));
    assert!(
        matches!(&v.problems[..], [Problem::Splats { first: Splat { kind: "BUG", .. }, count }] if *count >= 4)
    );
}

#[test]
fn arm64_warning_fails_the_run() {
    let v = judge_file("warning-arm64.log");
    assert!(matches!(
        &v.problems[..],
        [Problem::Splats {
            first: Splat {
                kind: "WARNING/BUG",
                ..
            },
            ..
        }]
    ));
}

#[test]
fn hung_guest_fails_with_missing_results() {
    let v = judge_file("hang.log");
    assert!(!v.passed());
    assert!(v.problems.contains(&Problem::Unfinished));
    assert!(v.problems.contains(&Problem::BadResults {
        suite: "selftest".into(),
        line: 11,
        planned: 2,
        got: 1
    }));
}

#[test]
fn missing_result_counts_as_failure() {
    let v = judge_file("missing-result.log");
    assert_eq!(v.failed, 1);
    assert!(matches!(
        &v.problems[..],
        [Problem::BadResults {
            planned: 2,
            got: 1,
            ..
        }]
    ));
}

#[test]
fn missing_suite_and_bad_status() {
    let lines = [
        "# Subtest: skeleton",
        "1..1",
        "ok 1 a",
        "rkp-guest: done status=2",
    ];
    let v = judge(&lines, &["skeleton".into(), "selftest".into()]);
    assert_eq!(
        v.problems,
        vec![
            Problem::MissingSuite("selftest".into()),
            Problem::GuestStatus(2)
        ]
    );
    assert_eq!(v.failed, 2);
}

#[test]
fn misnumbered_results_fail() {
    let lines = [
        "# Subtest: s",
        "1..2",
        "ok 1 a",
        "ok 1 b",
        "rkp-guest: done status=0",
    ];
    let v = judge(&lines, &["s".into()]);
    assert!(matches!(
        &v.problems[..],
        [Problem::BadResults {
            planned: 2,
            got: 2,
            ..
        }]
    ));
}

#[test]
fn script_runs_judge_only_the_kernel_and_the_end() {
    let ok = ["hello", "rkp-guest: done status=3"];
    assert!(judge_script(&ok).passed());
    assert_eq!(judge_script(&["hello"]).problems, vec![Problem::Unfinished]);
}
