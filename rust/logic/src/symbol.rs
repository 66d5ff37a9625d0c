// SPDX-License-Identifier: GPL-2.0

//! What `sprint_symbol()` prints for an address: `name+0xoff/0xsize [module]`, or `0x...`
//! when the address is in no symbol.

/// An address described relative to its symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Described<'a> {
    /// The symbol's name.
    pub name: &'a [u8],
    /// Offset of the address in the symbol.
    pub offset: usize,
    /// The symbol's size.
    pub size: usize,
    /// Its module, if any.
    pub module: Option<&'a [u8]>,
}

fn hex(s: &[u8]) -> Option<usize> {
    let digits = s.strip_prefix(b"0x")?;
    usize::from_str_radix(core::str::from_utf8(digits).ok()?, 16).ok()
}

/// Parses `sprint_symbol()` output; `None` when the address is in no symbol.
pub fn parse(s: &[u8]) -> Option<Described<'_>> {
    let (body, module) = match s.iter().position(|&c| c == b' ') {
        Some(sp) => {
            let m = s[sp + 1..].strip_prefix(b"[")?.strip_suffix(b"]")?;
            // A build ID may follow the module name: "[mod 0123abcd]".
            let m = m.split(|&c| c == b' ').next()?;
            (&s[..sp], Some(m))
        }
        None => (s, None),
    };
    let plus = body.iter().rposition(|&c| c == b'+')?;
    let (name, rest) = (&body[..plus], &body[plus + 1..]);
    let slash = rest.iter().position(|&c| c == b'/')?;
    let offset = hex(&rest[..slash])?;
    let size = hex(&rest[slash + 1..])?;
    (!name.is_empty()).then_some(Described {
        name,
        offset,
        size,
        module,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(
            parse(b"kernel_clone+0x4/0x3a0"),
            Some(Described {
                name: b"kernel_clone",
                offset: 4,
                size: 0x3a0,
                module: None
            })
        );
        assert_eq!(
            parse(b"rkp_target_add+0x0/0x20 [rkp_selftest]"),
            Some(Described {
                name: b"rkp_target_add",
                offset: 0,
                size: 0x20,
                module: Some(b"rkp_selftest")
            })
        );
        assert_eq!(
            parse(b"f+0x1/0x2 [m 0011aabb]").and_then(|d| d.module),
            Some(&b"m"[..])
        );
        assert_eq!(parse(b"0xffffffff81000000"), None);
        // C++-style or Rust v0 names may contain '+'-free punctuation; the last '+' splits.
        assert_eq!(
            parse(b"_RNvCs1_3foo3bar+0x10/0x20").map(|d| d.offset),
            Some(0x10)
        );
    }
}
