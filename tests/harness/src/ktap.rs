//! KTAP suites and results, as in-kernel tests (`pr_info!`) and guest scripts (`/dev/kmsg`)
//! print them: `# Subtest: NAME`, a plan `1..N`, then `ok N desc` / `not ok N desc [# reason]`.

use crate::console;

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `ok N desc`.
    Pass,
    /// `ok N desc # SKIP reason`.
    Skip(String),
    /// `not ok N desc [# reason]`.
    Fail(Option<String>),
}

/// One `ok`/`not ok` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// The number the test printed.
    pub number: usize,
    /// The description after the number.
    pub description: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Index of the console line.
    pub line: usize,
}

/// A `# Subtest:` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suite {
    /// The name after `# Subtest:` (empty for results printed outside any suite).
    pub name: String,
    /// The `1..N` plan, if one was printed.
    pub plan: Option<usize>,
    /// The results in console order.
    pub results: Vec<TestResult>,
    /// Index of the console line that opened the suite.
    pub line: usize,
}

/// One KTAP line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `# Subtest: NAME`.
    Subtest(String),
    /// `1..N`.
    Plan(usize),
    /// `ok`/`not ok`, without its console line index.
    Result {
        number: usize,
        description: String,
        outcome: Outcome,
    },
}

/// Parses one console line as KTAP, looking through the timestamp and a module's log prefix.
pub fn parse_line(line: &str) -> Option<Line> {
    let message = console::message(line);
    parse_message(message.trim_start()).or_else(|| {
        console::without_log_prefix(message).and_then(|m| parse_message(m.trim_start()))
    })
}

fn parse_message(m: &str) -> Option<Line> {
    if let Some(name) = m.strip_prefix("# Subtest: ") {
        return Some(Line::Subtest(name.trim().to_string()));
    }
    if let Some(n) = m.strip_prefix("1..") {
        return n.trim().parse().ok().map(Line::Plan);
    }
    let (passed, rest) = if let Some(r) = m.strip_prefix("ok ") {
        (true, r)
    } else {
        (false, m.strip_prefix("not ok ")?)
    };
    let (number, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let number = number.parse().ok()?;
    let (description, directive) = match rest.split_once(" # ") {
        Some((d, dir)) => (d, Some(dir.trim())),
        None => (rest.strip_suffix(" #").unwrap_or(rest), None),
    };
    let outcome = match (passed, directive) {
        (true, Some(dir)) if dir.len() >= 4 && dir[..4].eq_ignore_ascii_case("SKIP") => {
            Outcome::Skip(dir[4..].trim().to_string())
        }
        (true, _) => Outcome::Pass,
        (false, dir) => Outcome::Fail(dir.map(str::to_string)),
    };
    Some(Line::Result {
        number,
        description: description.trim().to_string(),
        outcome,
    })
}

/// Groups the KTAP lines of a console log into suites, in order.
pub fn parse(lines: &[&str]) -> Vec<Suite> {
    let mut suites: Vec<Suite> = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(parsed) = parse_line(line) else {
            continue;
        };
        if let Line::Subtest(name) = parsed {
            suites.push(Suite {
                name,
                plan: None,
                results: Vec::new(),
                line: index,
            });
            continue;
        }
        if suites.is_empty() {
            suites.push(Suite {
                line: index,
                ..Suite::default()
            });
        }
        let suite = suites.last_mut().expect("pushed above");
        match parsed {
            Line::Plan(n) if suite.plan.is_none() && suite.results.is_empty() => {
                suite.plan = Some(n)
            }
            // A second plan, or a plan after results, starts a new unnamed block.
            Line::Plan(n) => suites.push(Suite {
                plan: Some(n),
                line: index,
                ..Suite::default()
            }),
            Line::Result {
                number,
                description,
                outcome,
            } => suite.results.push(TestResult {
                number,
                description,
                outcome,
                line: index,
            }),
            Line::Subtest(_) => unreachable!("handled above"),
        }
    }
    suites
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            parse_line("[    1.5] # Subtest: skel"),
            Some(Line::Subtest("skel".into()))
        );
        assert_eq!(
            parse_line("[    1.5] rkp_selftest: 1..12"),
            Some(Line::Plan(12))
        );
        assert_eq!(
            parse_line("not ok 3 enabled rejects 'x' # got 0"),
            Some(Line::Result {
                number: 3,
                description: "enabled rejects 'x'".into(),
                outcome: Outcome::Fail(Some("got 0".into()))
            })
        );
        assert_eq!(
            parse_line("    ok 2 nested # SKIP no smp"),
            Some(Line::Result {
                number: 2,
                description: "nested".into(),
                outcome: Outcome::Skip("no smp".into())
            })
        );
        assert_eq!(parse_line("booting ok 1 x"), None);
        assert_eq!(parse_line("ok x"), None);
        assert_eq!(parse_line("1..x"), None);
    }

    #[test]
    fn groups_suites() {
        let log = [
            "# Subtest: a",
            "1..2",
            "ok 1 x",
            "noise",
            "not ok 2 y",
            "# Subtest: b",
            "1..1",
            "ok 1 z",
        ];
        let suites = parse(&log);
        assert_eq!(suites.len(), 2);
        assert_eq!(suites[0].name, "a");
        assert_eq!(suites[0].plan, Some(2));
        assert_eq!(suites[0].results.len(), 2);
        assert_eq!(suites[0].results[1].outcome, Outcome::Fail(None));
        assert_eq!(suites[1].results[0].line, 7);
    }
}
