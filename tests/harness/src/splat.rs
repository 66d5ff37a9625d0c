//! Kernel splats: anything on the console that says the kernel went wrong, whatever the tests
//! printed.

use crate::console;
use crate::ktap;

/// Text that only ever appears on the console when the kernel reports a problem, with the name
/// the verdict gives it.
const MARKERS: &[(&str, &str)] = &[
    // Lockdep and debugobjects reports that do not start with "WARNING:" or "BUG:" (first:
    // "ODEBUG: " contains "BUG: ").
    ("INFO: trying to register non-static key", "lockdep"),
    ("DEBUG_LOCKS_WARN_ON", "lockdep"),
    ("ODEBUG: ", "debugobjects"),
    ("------------[ cut here ]------------", "WARNING/BUG"),
    ("WARNING: ", "WARNING"),
    ("BUG: ", "BUG"),
    ("kernel BUG at ", "BUG"),
    ("Oops: ", "oops"),
    ("Oops - ", "oops"),
    ("general protection fault", "oops"),
    ("invalid opcode: ", "oops"),
    ("double fault: ", "oops"),
    ("Unable to handle kernel ", "oops"),
    ("Internal error: ", "oops"),
    ("Kernel panic", "panic"),
    ("Call Trace:", "call trace"),
    ("Call trace:", "call trace"),
    ("soft lockup", "lockup"),
    ("hard LOCKUP", "lockup"),
    ("detected stalls on CPUs", "RCU stall"),
    ("self-detected stall on CPU", "RCU stall"),
    ("rcu: INFO: ", "RCU stall"),
    (" blocked for more than ", "hung task"),
    ("UBSAN: ", "UBSAN"),
    ("KASAN: ", "KASAN"),
    ("list_add corruption", "list corruption"),
    ("list_del corruption", "list corruption"),
    ("---[ end trace", "end trace"),
];

/// A console line with a splat marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splat {
    /// Index of the console line.
    pub line: usize,
    /// What kind of problem the marker names.
    pub kind: &'static str,
}

/// Finds every splat marker in a console log. KTAP lines are skipped, so that a test's
/// description cannot be taken for a splat.
pub fn find(lines: &[&str]) -> Vec<Splat> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| ktap::parse_line(l).is_none())
        .filter_map(|(i, l)| {
            let m = console::message(l);
            MARKERS
                .iter()
                .find(|(text, _)| m.contains(text))
                .map(|&(_, kind)| Splat { line: i, kind })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        let log = [
            "[    1.0] rkprobes: loaded",
            "[    1.1] WARNING: CPU: 0 PID: 1 at lib/foo.c:12 bar+0x1/0x2",
            "[    1.2] ok 1 WARNING: in a description is not a splat",
            "[    1.3] rcu: INFO: rcu_sched self-detected stall on CPU",
        ];
        let found = find(&log);
        assert_eq!(
            found,
            vec![
                Splat {
                    line: 1,
                    kind: "WARNING"
                },
                Splat {
                    line: 3,
                    kind: "RCU stall"
                }
            ]
        );
    }

    #[test]
    fn debug_kernel_reports() {
        let log = [
            "[    2.0] WARNING: possible circular locking dependency detected",
            "[    2.1] WARNING: suspicious RCU usage",
            "[    2.2] INFO: trying to register non-static key.",
            "[    2.3] ODEBUG: free active (active state 0) object: 0000 object type: timer_list",
            "[    2.4] BUG: sleeping function called from invalid context at mm/slub.c:4000",
        ];
        let kinds: Vec<_> = find(&log).into_iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            ["WARNING", "WARNING", "lockdep", "debugobjects", "BUG"]
        );
    }

    #[test]
    fn clean_boot_has_none() {
        let log = [
            "Linux version 7.3.4",
            "Run /init as init process",
            "rkp-guest: done status=0",
        ];
        assert!(find(&log).is_empty());
    }
}
