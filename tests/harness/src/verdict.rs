//! Turns a console log and the list of expected suites into passed/failed counts and problems.

use crate::console;
use crate::ktap::{self, Outcome};
use crate::splat::{self, Splat};

/// Something that makes the run fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A `not ok` result.
    TestFailed { suite: String, line: usize },
    /// An expected suite never printed its `# Subtest:` line.
    MissingSuite(String),
    /// A suite printed no `1..N` plan.
    NoPlan { suite: String, line: usize },
    /// A suite printed fewer results than planned, or numbered them wrongly.
    BadResults {
        suite: String,
        line: usize,
        planned: usize,
        got: usize,
    },
    /// The kernel printed splats (the first one, and how many markers in all).
    Splats { first: Splat, count: usize },
    /// The guest never said it was done: it hung, crashed or was killed by the timeout.
    Unfinished,
    /// The guest said it was done, with a non-zero status.
    GuestStatus(i32),
}

/// The result of a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Results that were `ok`.
    pub passed: usize,
    /// Results that were `not ok`, plus one for every other problem (a missing result counts
    /// once per result).
    pub failed: usize,
    /// Results that were `ok # SKIP`.
    pub skipped: usize,
    /// Why the run failed; empty when it passed.
    pub problems: Vec<Problem>,
    /// Per suite: name, results that passed, results planned.
    pub suites: Vec<(String, usize, usize)>,
}

impl Verdict {
    /// Whether the run passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty() && self.failed == 0
    }

    fn fail(&mut self, problem: Problem, weight: usize) {
        self.failed += weight;
        self.problems.push(problem);
    }
}

/// Judges a test run: `expected` names the suites that must have run.
pub fn judge(lines: &[&str], expected: &[String]) -> Verdict {
    let mut v = Verdict::default();
    let suites = ktap::parse(lines);
    for name in expected {
        if !suites.iter().any(|s| &s.name == name) {
            v.fail(Problem::MissingSuite(name.clone()), 1);
        }
    }
    for suite in &suites {
        let mut passed = 0;
        for r in &suite.results {
            match &r.outcome {
                Outcome::Pass => passed += 1,
                Outcome::Skip(_) => v.skipped += 1,
                Outcome::Fail(_) => v.fail(
                    Problem::TestFailed {
                        suite: suite.name.clone(),
                        line: r.line,
                    },
                    1,
                ),
            }
        }
        v.passed += passed;
        let got = suite.results.len();
        match suite.plan {
            None => v.fail(
                Problem::NoPlan {
                    suite: suite.name.clone(),
                    line: suite.line,
                },
                1,
            ),
            Some(planned) => {
                let numbered = suite
                    .results
                    .iter()
                    .enumerate()
                    .all(|(i, r)| r.number == i + 1);
                if got != planned || !numbered {
                    let problem = Problem::BadResults {
                        suite: suite.name.clone(),
                        line: suite.line,
                        planned,
                        got,
                    };
                    v.fail(problem, planned.saturating_sub(got).max(1));
                }
            }
        }
        v.suites
            .push((suite.name.clone(), passed, suite.plan.unwrap_or(got)));
    }
    judge_kernel_and_guest(&mut v, lines, true);
    v
}

/// Judges a run that executed a user script: splats and an unfinished guest fail it; the
/// script's own exit status is the caller's to pass on.
pub fn judge_script(lines: &[&str]) -> Verdict {
    let mut v = Verdict::default();
    judge_kernel_and_guest(&mut v, lines, false);
    v
}

fn judge_kernel_and_guest(v: &mut Verdict, lines: &[&str], status_matters: bool) {
    let splats = splat::find(lines);
    if let Some(first) = splats.first() {
        v.fail(
            Problem::Splats {
                first: first.clone(),
                count: splats.len(),
            },
            1,
        );
    }
    match console::guest_status(lines) {
        None => v.fail(Problem::Unfinished, 1),
        Some(0) => {}
        Some(status) if status_matters => v.fail(Problem::GuestStatus(status), 1),
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests;
