// SPDX-License-Identifier: GPL-2.0

//! The debugfs directory: `list`, `enabled` and `blacklist`, in Linux's formats and modes
//! (kernel/kprobes.c: 0400, 0600, 0400).

use kernel::{
    debugfs::Scope,
    fmt,
    prelude::*,
    str::kstrtobool_bytes,
    sync::atomic::{Atomic, Relaxed},
    uaccess::UserSliceReader, //
};

/// The directory name. A kernel with its own kprobes owns `kprobes`, so rkprobes steps aside.
#[cfg(not(CONFIG_KPROBES))]
pub(crate) const DIR_NAME: &CStr = c"kprobes";
#[cfg(CONFIG_KPROBES)]
pub(crate) const DIR_NAME: &CStr = c"rkprobes";

/// What the debugfs files show and change.
pub(crate) struct State {
    /// The global switch: `false` while every probe is disarmed.
    enabled: Atomic<bool>,
}

/// Creates the debugfs directory; it goes away when the returned scope is dropped.
pub(crate) fn create() -> impl PinInit<Scope<State>, Error> {
    let state = State {
        enabled: Atomic::new(true),
    };
    Scope::dir(Ok::<_, Error>(state), DIR_NAME, |state, dir| {
        dir.read_callback_file(c"list", state, &list_show);
        dir.read_write_callback_file(c"enabled", state, &enabled_show, &enabled_store);
        dir.read_callback_file(c"blacklist", state, &blacklist_show);
    })
}

fn list_show(_state: &State, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // No probes can be registered yet.
    Ok(())
}

fn blacklist_show(_state: &State, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // The blacklist comes with the probe engine.
    Ok(())
}

fn enabled_show(state: &State, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "{}", u8::from(state.enabled.load(Relaxed)))
}

/// Accepts what `kstrtobool_from_user` accepts (`1`, `y`, `on`, `0`, `n`, `off`, ...), as
/// Linux's `enabled` file does, and rejects anything else with `EINVAL`.
fn enabled_store(state: &State, reader: &mut UserSliceReader) -> Result {
    // kstrtobool_from_user() reads at most 11 bytes; only the first two decide.
    let mut buf = [0u8; 11];
    let n = reader.len().min(buf.len());
    reader.read_slice(&mut buf[..n])?;
    let enable = kstrtobool_bytes(&buf[..n])?;
    if state.enabled.xchg(enable, Relaxed) != enable {
        pr_info!(
            "Kprobes globally {}\n",
            if enable { "enabled" } else { "disabled" }
        );
    }
    Ok(())
}
