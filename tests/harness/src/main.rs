//! `rkp-console-check`: judges the console log of a test VM.
//!
//! ```text
//! rkp-console-check [--label NAME] [--suite SUITE]... LOG     # a test run
//! rkp-console-check --script LOG                             # a `make run` script run
//! ```
//!
//! A test run prints each suite's count, the problems with the console lines around them, and
//! ends with `N passed, N failed`; it exits 1 unless the run passed. A script run prints only
//! problems, and exits 1 on a problem or else with the guest script's status.

use std::process::ExitCode;

use rkp_harness::console;
use rkp_harness::verdict::{self, Problem};

struct Args {
    label: String,
    suites: Vec<String>,
    script: bool,
    log: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        label: String::new(),
        suites: Vec::new(),
        script: false,
        log: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--label" => args.label = it.next().ok_or("--label needs a value")?,
            "--suite" => args.suites.push(it.next().ok_or("--suite needs a value")?),
            "--script" => args.script = true,
            _ if a.starts_with('-') => return Err(format!("unknown option {a}")),
            _ if args.log.is_empty() => args.log = a,
            _ => return Err("one LOG only".into()),
        }
    }
    if args.log.is_empty() {
        return Err(
            "usage: rkp-console-check [--label NAME] [--suite SUITE]... [--script] LOG".into(),
        );
    }
    Ok(args)
}

/// Prints console lines `from..to` (clamped), numbered, with `mark` flagged.
fn excerpt(lines: &[&str], from: usize, to: usize, mark: usize) {
    let to = to.min(lines.len());
    for (i, line) in lines.iter().enumerate().take(to).skip(from) {
        let flag = if i == mark { ">>" } else { "  " };
        println!("  {flag} {:5} | {}", i + 1, line.trim_end_matches('\r'));
    }
}

fn report(label: &str, lines: &[&str], problem: &Problem) {
    match problem {
        Problem::TestFailed { suite, line } => {
            println!("{label}FAILED in suite {suite}:");
            excerpt(lines, line.saturating_sub(12), line + 1, *line);
        }
        Problem::MissingSuite(suite) => {
            println!("{label}suite {suite} never started (no '# Subtest: {suite}')")
        }
        Problem::NoPlan { suite, line } => {
            println!("{label}suite '{suite}' printed no 1..N plan:");
            excerpt(lines, *line, line + 5, *line);
        }
        Problem::BadResults {
            suite,
            line,
            planned,
            got,
        } => {
            println!(
                "{label}suite {suite}: planned {planned} results, got {got} (or misnumbered):"
            );
            excerpt(lines, *line, line + planned + 8, *line);
        }
        Problem::Splats { first, count } => {
            println!(
                "{label}kernel {} on the console ({count} splat lines in all); the first:",
                first.kind
            );
            excerpt(
                lines,
                first.line.saturating_sub(15),
                first.line + 45,
                first.line,
            );
        }
        Problem::Unfinished => {
            println!(
                "{label}the guest never finished (hang, crash or timeout); the console's end:"
            );
            excerpt(
                lines,
                lines.len().saturating_sub(40),
                lines.len(),
                usize::MAX,
            );
        }
        Problem::GuestStatus(s) => {
            println!("{label}the guest's test runner exited with status {s}")
        }
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("rkp-console-check: {e}");
            return ExitCode::from(2);
        }
    };
    let text = match std::fs::read(&args.log) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            eprintln!("rkp-console-check: {}: {e}", args.log);
            return ExitCode::from(2);
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let label = if args.label.is_empty() {
        String::new()
    } else {
        format!("{}: ", args.label)
    };

    if args.script {
        let v = verdict::judge_script(&lines);
        v.problems.iter().for_each(|p| report(&label, &lines, p));
        let status = console::guest_status(&lines).unwrap_or(1);
        if v.passed() && status != 0 {
            println!("{label}the guest script exited with status {status}");
        }
        return ExitCode::from(if v.passed() {
            status.clamp(0, 255) as u8
        } else {
            1
        });
    }

    let v = verdict::judge(&lines, &args.suites);
    for (suite, passed, planned) in &v.suites {
        println!("{label}{suite}: {passed}/{planned} passed");
    }
    v.problems.iter().for_each(|p| report(&label, &lines, p));
    let skipped = if v.skipped > 0 {
        format!(", {} skipped", v.skipped)
    } else {
        String::new()
    };
    println!("{label}{} passed, {} failed{skipped}", v.passed, v.failed);
    if v.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
