//! Console lines as the kernel and the guest wrote them.

/// The marker line the guest init prints (through `/dev/kmsg`) when it is done.
pub const DONE_MARKER: &str = "rkp-guest: done status=";

/// Returns the message of a console line: without the `\r` of the serial line and without the
/// printk timestamp (`[    1.234567] `).
pub fn message(line: &str) -> &str {
    let line = line.trim_end_matches('\r');
    if let Some(rest) = line.strip_prefix('[') {
        if let Some(end) = rest.find(']') {
            let stamp = &rest[..end];
            if !stamp.is_empty()
                && stamp
                    .chars()
                    .all(|c| c == ' ' || c == '.' || c.is_ascii_digit())
            {
                return rest[end + 1..]
                    .strip_prefix(' ')
                    .unwrap_or(&rest[end + 1..]);
            }
        }
    }
    line
}

/// Splits a module's log prefix (`rkprobes: `, added by `pr_info!`) off a message.
pub fn without_log_prefix(message: &str) -> Option<&str> {
    let (prefix, rest) = message.split_once(": ")?;
    let is_name = !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    is_name.then_some(rest)
}

/// The exit status the guest reported with [`DONE_MARKER`], if it got that far.
pub fn guest_status(lines: &[&str]) -> Option<i32> {
    lines.iter().rev().find_map(|l| {
        let m = message(l);
        m.strip_prefix(DONE_MARKER)
            .and_then(|s| s.trim().parse().ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_timestamp_and_cr() {
        assert_eq!(message("[    1.234567] ok 1 foo\r"), "ok 1 foo");
        assert_eq!(message("ok 1 foo"), "ok 1 foo");
        assert_eq!(message("[not a stamp] x"), "[not a stamp] x");
    }

    #[test]
    fn log_prefix() {
        assert_eq!(without_log_prefix("rkp_selftest: ok 1 a"), Some("ok 1 a"));
        assert_eq!(without_log_prefix("two words: ok 1 a"), None);
    }

    #[test]
    fn status() {
        let lines = ["boot", "[    2.0] rkp-guest: done status=3", "reboot"];
        assert_eq!(guest_status(&lines), Some(3));
        assert_eq!(guest_status(&["boot"]), None);
    }
}
