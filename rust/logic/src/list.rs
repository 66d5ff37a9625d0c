// SPDX-License-Identifier: GPL-2.0

//! Lines of the debugfs files in Linux's formats (kernel/kprobes.c `report_probe`,
//! `kprobe_blacklist_seq_show`).

use core::fmt::{self, Write};

/// One line of `list`.
#[derive(Clone, Copy)]
pub struct ListLine<'a> {
    /// The probe address, or `None` to print zeros for readers that may not see kernel
    /// addresses (`kallsyms_show_value`).
    pub addr: Option<usize>,
    /// `true` for a return probe (`r`), `false` for a kprobe (`k`).
    pub is_return: bool,
    /// The symbol and the offset in it, when the address is in one.
    pub symbol: Option<(&'a [u8], usize)>,
    /// The module the address is in.
    pub module: Option<&'a [u8]>,
    /// The probed code is gone.
    pub gone: bool,
    /// The probe waits for its module to load (rkprobes' deferred probes).
    pub deferred: bool,
    /// The probe is disabled.
    pub disabled: bool,
    /// The probe is a jump to a detour, not a breakpoint.
    pub optimized: bool,
    /// The probe hooks its function through ftrace.
    pub ftrace: bool,
}

fn bytes(f: &mut impl Write, b: &[u8]) -> fmt::Result {
    b.iter()
        .try_for_each(|&c| f.write_char(if c.is_ascii() { char::from(c) } else { '?' }))
}

impl ListLine<'_> {
    /// Writes the line, newline included: `"%px  %s  %s+0x%x  %s "` then the markers.
    pub fn write(&self, f: &mut impl Write) -> fmt::Result {
        let kind = if self.is_return { "r" } else { "k" };
        write!(f, "{:016x}  {kind}  ", self.addr.unwrap_or(0))?;
        if let Some((name, offset)) = self.symbol {
            bytes(f, name)?;
            write!(f, "+0x{:x}  ", offset as u32)?;
            match self.module {
                Some(m) => bytes(f, m)?,
                None => f.write_char(' ')?,
            }
            f.write_char(' ')?;
        } else {
            // Linux prints %pS here; without a symbol that is the bare address.
            write!(f, "0x{:x} ", self.addr.unwrap_or(0))?;
        }
        if self.gone {
            f.write_str("[GONE]")?;
        } else if self.deferred {
            f.write_str("[DEFERRED]")?;
        } else if self.disabled {
            f.write_str("[DISABLED]")?;
        }
        if self.optimized {
            f.write_str("[OPTIMIZED]")?;
        }
        if self.ftrace {
            f.write_str("[FTRACE]")?;
        }
        f.write_char('\n')
    }
}

/// Writes one line of `blacklist`: `"0x%px-0x%px\t%ps\n"` (`%ps` adds ` [mod]` for modules).
pub fn write_blacklist_line(
    f: &mut impl Write,
    range: Option<(usize, usize)>,
    name: &[u8],
    module: Option<&[u8]>,
) -> fmt::Result {
    let (start, end) = range.unwrap_or((0, 0));
    write!(f, "0x{start:016x}-0x{end:016x}\t")?;
    bytes(f, name)?;
    if let Some(m) = module {
        f.write_str(" [")?;
        bytes(f, m)?;
        f.write_char(']')?;
    }
    f.write_char('\n')
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    fn line(l: ListLine<'_>) -> String {
        let mut s = String::new();
        l.write(&mut s).unwrap();
        s
    }

    #[test]
    fn list_lines_match_linux() {
        let core = ListLine {
            addr: Some(0xffff_ffff_8123_4560),
            is_return: false,
            symbol: Some((b"vfs_read", 4)),
            module: None,
            gone: false,
            deferred: false,
            disabled: false,
            optimized: false,
            ftrace: false,
        };
        assert_eq!(line(core), "ffffffff81234560  k  vfs_read+0x4    \n");
        let module = ListLine {
            addr: Some(0xffff_ffff_c0a0_1000),
            is_return: true,
            symbol: Some((b"foo_fn", 0)),
            module: Some(b"foo_mod"),
            gone: false,
            deferred: false,
            disabled: true,
            optimized: false,
            ftrace: false,
        };
        assert_eq!(
            line(module),
            "ffffffffc0a01000  r  foo_fn+0x0  foo_mod [DISABLED]\n"
        );
        let hidden_gone = ListLine {
            addr: None,
            gone: true,
            disabled: true,
            ..module
        };
        assert_eq!(
            line(hidden_gone),
            "0000000000000000  r  foo_fn+0x0  foo_mod [GONE]\n"
        );
        // Linux's order: [GONE] or [DISABLED], then [FTRACE].
        let ftrace = ListLine {
            symbol: Some((b"kernel_clone", 4)),
            module: None,
            disabled: true,
            ftrace: true,
            ..core
        };
        assert_eq!(
            line(ftrace),
            "ffffffff81234560  k  kernel_clone+0x4    [DISABLED][FTRACE]\n"
        );
        // A probe that waits for its module: no address, its target as given.
        let waiting = ListLine {
            addr: Some(0),
            deferred: true,
            ..module
        };
        assert_eq!(
            line(waiting),
            "0000000000000000  r  foo_fn+0x0  foo_mod [DEFERRED]\n"
        );
        // [OPTIMIZED] between them, as Linux's report_probe() prints it.
        let optimized = ListLine {
            optimized: true,
            ..core
        };
        assert_eq!(
            line(optimized),
            "ffffffff81234560  k  vfs_read+0x4    [OPTIMIZED]\n"
        );
    }

    #[test]
    fn blacklist_lines() {
        let mut s = String::new();
        write_blacklist_line(
            &mut s,
            Some((0xffff_ffff_8100_0000, 0xffff_ffff_8100_0040)),
            b"exc_int3",
            None,
        )
        .unwrap();
        write_blacklist_line(&mut s, None, b"rkp_hit", Some(b"rkprobes")).unwrap();
        assert_eq!(
            s,
            "0xffffffff81000000-0xffffffff81000040\texc_int3\n\
             0x0000000000000000-0x0000000000000000\trkp_hit [rkprobes]\n"
        );
    }
}
