// SPDX-License-Identifier: GPL-2.0

//! Lines of `/proc/kallsyms`: `ffffffff81000000 T _stext` or, for a module,
//! `ffffffffc0000000 t foo\t[mod]`.

/// One symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Its address (0 for a reader that may not see kernel addresses).
    pub addr: usize,
    /// The type letter (`t`/`T` for text).
    pub kind: u8,
    /// The name.
    pub name: &'a [u8],
    /// The module, for module symbols.
    pub module: Option<&'a [u8]>,
}

impl Entry<'_> {
    /// Whether the symbol is in a text section.
    pub fn is_text(&self) -> bool {
        matches!(self.kind, b't' | b'T')
    }

    /// Whether this is the symbol `spec` names: `name`, or `module:name` as
    /// `kallsyms_lookup_name` accepts it.
    pub fn matches(&self, spec: &[u8]) -> bool {
        match spec.iter().position(|&c| c == b':') {
            Some(colon) => self.module == Some(&spec[..colon]) && self.name == &spec[colon + 1..],
            None => self.name == spec,
        }
    }
}

/// Parses one line (without its newline).
pub fn parse_line(line: &[u8]) -> Option<Entry<'_>> {
    let mut fields = line.splitn(3, |&c| c == b' ');
    let addr = fields.next()?;
    let kind = *fields.next()?.first()?;
    let rest = fields.next()?;
    let (name, module) = match rest.iter().position(|&c| c == b'\t') {
        Some(tab) => {
            let m = rest[tab + 1..].strip_prefix(b"[")?.strip_suffix(b"]")?;
            (&rest[..tab], Some(m))
        }
        None => (rest, None),
    };
    let addr = core::str::from_utf8(addr)
        .ok()
        .and_then(|a| usize::from_str_radix(a, 16).ok())?;
    (!name.is_empty()).then_some(Entry {
        addr,
        kind,
        name,
        module,
    })
}

/// Splits a buffer of `/proc/kallsyms` text into complete lines, calling `f` for each symbol
/// until it returns `Some`. Returns that value, and how many bytes were consumed (the rest is
/// an incomplete last line to keep for the next read).
pub fn scan<T>(buf: &[u8], mut f: impl FnMut(Entry<'_>) -> Option<T>) -> (Option<T>, usize) {
    let mut consumed = 0;
    while let Some(nl) = buf[consumed..].iter().position(|&c| c == b'\n') {
        let line = &buf[consumed..consumed + nl];
        consumed += nl + 1;
        if let Some(found) = parse_line(line).and_then(&mut f) {
            return (Some(found), consumed);
        }
    }
    (None, consumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            parse_line(b"ffffffff81000000 T _stext"),
            Some(Entry {
                addr: 0xffff_ffff_8100_0000,
                kind: b'T',
                name: b"_stext",
                module: None
            })
        );
        let e = parse_line(b"ffffffffc0000010 t foo_init\t[rkp_test]").unwrap();
        assert_eq!(
            (e.name, e.module, e.is_text()),
            (&b"foo_init"[..], Some(&b"rkp_test"[..]), true)
        );
        assert!(
            e.matches(b"foo_init")
                && e.matches(b"rkp_test:foo_init")
                && !e.matches(b"other:foo_init")
        );
        assert_eq!(
            parse_line(b"0000000000000000 D jiffies").map(|e| e.is_text()),
            Some(false)
        );
        assert_eq!(parse_line(b"garbage"), None);
    }

    #[test]
    fn scanning_keeps_partial_lines() {
        let buf = b"ffffffff81000000 T _stext\nffffffff81000010 t a\nffffffff8100";
        let mut seen = 0;
        let (found, used) = scan(buf, |e| {
            seen += 1;
            (e.name == b"nothing").then_some(())
        });
        assert_eq!((found, used, seen), (None, 47, 2));
        let (found, _) = scan(buf, |e| (e.name == b"a").then_some(e.addr));
        assert_eq!(found, Some(0xffff_ffff_8100_0010));
    }
}
