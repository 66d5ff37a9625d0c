// SPDX-License-Identifier: GPL-2.0

//! The debugfs directory: `list`, `enabled` and `blacklist`, in Linux's formats and modes
//! (kernel/kprobes.c: 0400, 0600, 0400).

use kernel::{
    bindings,
    debugfs::Scope,
    fmt,
    prelude::*,
    str::kstrtobool_bytes,
    uaccess::UserSliceReader, //
};

use crate::abi::{FLAG_DISABLED, FLAG_GONE};
use crate::engine;
use crate::kallsyms::Description;
use crate::logic::list::{write_blacklist_line, ListLine};

/// The directory name. A kernel with its own kprobes owns `kprobes`, so rkprobes steps aside.
#[cfg(not(CONFIG_KPROBES))]
pub(crate) const DIR_NAME: &CStr = c"kprobes";
#[cfg(CONFIG_KPROBES)]
pub(crate) const DIR_NAME: &CStr = c"rkprobes";

/// The files' data: they read and change the live engine ([`engine::current`]).
pub(crate) struct State;

/// Creates the debugfs directory; it goes away when the returned scope is dropped.
pub(crate) fn create() -> impl PinInit<Scope<State>, Error> {
    Scope::dir(Ok::<_, Error>(State), DIR_NAME, |state, dir| {
        dir.read_callback_file(c"list", state, &list_show);
        dir.read_write_callback_file(c"enabled", state, &enabled_show, &enabled_store);
        dir.read_callback_file(c"blacklist", state, &blacklist_show);
    })
}

/// Whether the reader may see kernel addresses. Linux asks `kallsyms_show_value()` (not
/// exported); the `list` file is root-only (0400), and root with `CAP_SYSLOG` sees them.
fn show_addresses() -> bool {
    // SAFETY: `capable` only checks the current task's credentials.
    unsafe { bindings::capable(bindings::CAP_SYSLOG as i32) }
}

fn list_show(_state: &State, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some(engine) = engine::current() else {
        return Ok(());
    };
    let show = show_addresses();
    engine.for_each_probe(|addr, flags, is_return, optimized, ftrace, waiting| {
        let desc = Description::of(addr);
        let parsed = desc.as_ref().and_then(|d| d.parsed());
        // A probe that waits for its module: its `module:symbol` target, no address.
        let target = waiting.and_then(|(spec, offset)| {
            let colon = spec.iter().position(|&c| c == b':')?;
            Some((&spec[..colon], &spec[colon + 1..], offset as usize))
        });
        let line = ListLine {
            addr: show.then_some(addr),
            is_return,
            symbol: match target {
                Some((_, name, offset)) => Some((name, offset)),
                None => parsed.map(|d| (d.name, d.offset)),
            },
            module: match target {
                Some((module, _, _)) => Some(module),
                None => parsed.and_then(|d| d.module),
            },
            gone: flags & FLAG_GONE != 0,
            deferred: waiting.is_some(),
            disabled: flags & FLAG_DISABLED != 0,
            optimized,
            ftrace,
        };
        line.write(f)
    })
}

fn blacklist_show(_state: &State, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some(engine) = engine::current() else {
        return Ok(());
    };
    let show = show_addresses();
    for &(start, end) in engine.blacklist.ranges() {
        let range = show.then_some((start, end));
        if let Some(area) = engine.blacklist.area_name(start) {
            write_blacklist_line(f, range, area, None)?;
            continue;
        }
        let desc = Description::of(start);
        let parsed = desc.as_ref().and_then(|d| d.parsed());
        let name = parsed.map_or(&b"?"[..], |d| d.name);
        write_blacklist_line(f, range, name, parsed.and_then(|d| d.module))?;
    }
    // Loaded modules' areas (rkprobes refuses them at registration as well).
    engine.sites.for_each_module_area(|area| {
        let module = Some(area.module.to_bytes());
        if let Some(what) = area.what {
            let range = show.then_some((area.start, area.end));
            return write_blacklist_line(f, range, what.to_bytes(), module);
        }
        let desc = Description::of(area.start);
        let parsed = desc.as_ref().and_then(|d| d.parsed());
        let end = area.start + parsed.map_or(1, |d| d.size);
        let name = parsed.map_or(&b"?"[..], |d| d.name);
        write_blacklist_line(f, show.then_some((area.start, end)), name, module)
    })
}

fn enabled_show(_state: &State, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(
        f,
        "{}",
        u8::from(engine::current().is_some_and(|e| e.globally_enabled()))
    )
}

/// Accepts what `kstrtobool_from_user` accepts (`1`, `y`, `on`, `0`, `n`, `off`, ...), as
/// Linux's `enabled` file does, and rejects anything else with `EINVAL`.
fn enabled_store(_state: &State, reader: &mut UserSliceReader) -> Result {
    // kstrtobool_from_user() reads at most 11 bytes; only the first two decide.
    let mut buf = [0u8; 11];
    let n = reader.len().min(buf.len());
    reader.read_slice(&mut buf[..n])?;
    let enable = kstrtobool_bytes(&buf[..n])?;
    engine::current()
        .ok_or(ENODEV)?
        .set_globally_enabled(enable)
}
