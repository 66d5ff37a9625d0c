// SPDX-License-Identifier: GPL-2.0

//! The functions client modules call (exported GPL by `exports.c`), with Linux's semantics
//! and errnos. The safe API in `rust/client/` wraps them.

use kernel::{ffi::c_int, prelude::*};

use crate::abi::{RawKprobe, RawKretprobe};
use crate::engine;

/// Registers `num` probes from `ps` in order with `register`; on the first failure,
/// unregisters the ones already registered with `unregister` and returns that error.
///
/// # Safety
///
/// `ps` must point to `num` pointers that `register` and `unregister` accept.
unsafe fn register_batch<R>(
    ps: *const *mut R,
    num: c_int,
    register: unsafe extern "C" fn(*mut R) -> c_int,
    unregister: unsafe extern "C" fn(*const *mut R, c_int),
) -> c_int {
    if num <= 0 || ps.is_null() {
        pr_info!("cannot register a batch of {num} probes: EINVAL\n");
        return EINVAL.to_errno();
    }
    // SAFETY: `ps` points to `num` pointers.
    let probes = unsafe { core::slice::from_raw_parts(ps, num as usize) };
    for (i, &p) in probes.iter().enumerate() {
        // SAFETY: Per the function's safety requirement.
        let ret = unsafe { register(p) };
        if ret != 0 {
            // SAFETY: The first `i` were registered above.
            unsafe { unregister(ps, i as c_int) };
            return ret;
        }
    }
    0
}

/// The live engine, for a call about the probe `p`: `EINVAL` for a null probe, `ENODEV` when
/// rkprobes is going away.
fn engine_for<T>(p: *const T) -> Result<&'static engine::Engine> {
    if p.is_null() {
        return Err(EINVAL);
    }
    engine::current().ok_or(ENODEV)
}

fn errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `register_kprobe()`.
///
/// # Safety
///
/// `p` must point to a valid, pinned [`RawKprobe`] that stays valid until it is unregistered,
/// with handlers callable from any CPU in NMI-like context until then.
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_register_kprobe(p: *mut RawKprobe) -> c_int {
    // SAFETY: Per the function's safety requirement (`p` is not null).
    errno(engine_for(p).and_then(|engine| unsafe { engine.register(p) }))
}

/// `register_kprobes()`: registers `num` probes in order; on the first failure the ones
/// already registered are unregistered and that error is returned. `EINVAL` if `num <= 0`.
///
/// # Safety
///
/// `ps` must point to `num` pointers, each as [`rkp_register_kprobe`] requires.
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_register_kprobes(
    ps: *const *mut RawKprobe,
    num: c_int,
) -> c_int {
    if num <= 0 || ps.is_null() {
        pr_info!("cannot register a batch of {num} probes: EINVAL\n");
        return EINVAL.to_errno();
    }
    // SAFETY: `ps` points to `num` pointers.
    let probes = unsafe { core::slice::from_raw_parts(ps, num as usize) };
    if probes.iter().any(|p| p.is_null()) {
        return EINVAL.to_errno();
    }
    // SAFETY: Per the function's safety requirement (no pointer is null).
    errno(
        engine::current()
            .ok_or(ENODEV)
            .and_then(|engine| unsafe { engine.register_batch(probes) }),
    )
}

/// `unregister_kprobe()`. When it returns, no CPU runs the probe's handlers.
///
/// # Safety
///
/// `p` must point to a valid [`RawKprobe`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_unregister_kprobe(p: *mut RawKprobe) {
    // SAFETY: Per the function's safety requirement.
    unsafe { rkp_unregister_kprobes(&p, 1) };
}

/// `unregister_kprobes()`: one grace period for the whole batch; unregistered probes are
/// skipped; nothing happens if `num <= 0`.
///
/// # Safety
///
/// `ps` must point to `num` pointers to valid [`RawKprobe`]s.
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_unregister_kprobes(ps: *const *mut RawKprobe, num: c_int) {
    let Some(engine) = engine::current() else {
        return;
    };
    if num <= 0 || ps.is_null() {
        return;
    }
    // SAFETY: `ps` points to `num` pointers, each to a valid probe.
    unsafe { engine.unregister(core::slice::from_raw_parts(ps, num as usize)) };
}

/// `enable_kprobe()`: `EINVAL` if `p` is not registered or its code is gone.
///
/// # Safety
///
/// `p` must point to a valid [`RawKprobe`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_enable_kprobe(p: *mut RawKprobe) -> c_int {
    // SAFETY: Per the function's safety requirement (`p` is not null).
    errno(engine_for(p).and_then(|engine| unsafe { engine.set_enabled(p, true) }))
}

/// `disable_kprobe()`: `EINVAL` if `p` is not registered.
///
/// # Safety
///
/// `p` must point to a valid [`RawKprobe`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_disable_kprobe(p: *mut RawKprobe) -> c_int {
    // SAFETY: Per the function's safety requirement (`p` is not null).
    errno(engine_for(p).and_then(|engine| unsafe { engine.set_enabled(p, false) }))
}

/// `register_kretprobe()`: `EINVAL` unless the target is a function's entry (or the
/// instruction after its `ENDBR`), `E2BIG` if `data_size` exceeds 4096, and every error of
/// [`rkp_register_kprobe`].
///
/// # Safety
///
/// `rp` must point to a valid, pinned [`RawKretprobe`] that stays valid until it is
/// unregistered, with handlers callable from any CPU in NMI-like context until then.
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_register_kretprobe(rp: *mut RawKretprobe) -> c_int {
    // SAFETY: Per the function's safety requirement (`rp` is not null).
    errno(engine_for(rp).and_then(|engine| unsafe { engine.register_kretprobe(rp) }))
}

/// `register_kretprobes()`: in order, all or none; `EINVAL` if `num <= 0`.
///
/// # Safety
///
/// `rps` must point to `num` pointers, each as [`rkp_register_kretprobe`] requires.
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_register_kretprobes(
    rps: *const *mut RawKretprobe,
    num: c_int,
) -> c_int {
    // SAFETY: Per the function\'s safety requirement.
    unsafe { register_batch(rps, num, rkp_register_kretprobe, rkp_unregister_kretprobes) }
}

/// `unregister_kretprobes()`: afterwards no handler runs; calls still inside the functions
/// return normally; nothing happens if `num <= 0`.
///
/// # Safety
///
/// `rps` must point to `num` pointers to valid [`RawKretprobe`]s.
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_unregister_kretprobes(
    rps: *const *mut RawKretprobe,
    num: c_int,
) {
    let Some(engine) = engine::current() else {
        return;
    };
    if num <= 0 || rps.is_null() {
        return;
    }
    // SAFETY: `rps` points to `num` pointers, each to a valid probe.
    unsafe { engine.unregister_kretprobes(core::slice::from_raw_parts(rps, num as usize)) };
}

/// The ABI version of `include/rkprobes.h` (`RKP_ABI_VERSION`): the layouts in
/// [`crate::abi`] and the calls' meanings. Bump both together.
const ABI_VERSION: u32 = 1;

/// Calls `register` if a C module was built against this ABI; `EPROTO` (and a log line)
/// otherwise.
fn with_abi(abi: u32, register: impl FnOnce() -> c_int) -> c_int {
    if abi == ABI_VERSION {
        return register();
    }
    pr_err!("a module built against rkprobes ABI {abi} cannot use ABI {ABI_VERSION}: EPROTO\n");
    EPROTO.to_errno()
}

/// [`rkp_register_kprobe`] for C modules (`include/rkprobes.h`), which pass their ABI version.
///
/// # Safety
///
/// As [`rkp_register_kprobe`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_register_kprobe_abi(p: *mut RawKprobe, abi: u32) -> c_int {
    // SAFETY: Per the function's safety requirement.
    with_abi(abi, || unsafe { rkp_register_kprobe(p) })
}

/// [`rkp_register_kprobes`] for C modules.
///
/// # Safety
///
/// As [`rkp_register_kprobes`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_register_kprobes_abi(
    ps: *const *mut RawKprobe,
    num: c_int,
    abi: u32,
) -> c_int {
    // SAFETY: Per the function's safety requirement.
    with_abi(abi, || unsafe { rkp_register_kprobes(ps, num) })
}

/// [`rkp_register_kretprobe`] for C modules.
///
/// # Safety
///
/// As [`rkp_register_kretprobe`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_register_kretprobe_abi(
    rp: *mut RawKretprobe,
    abi: u32,
) -> c_int {
    // SAFETY: Per the function's safety requirement.
    with_abi(abi, || unsafe { rkp_register_kretprobe(rp) })
}

/// [`rkp_register_kretprobes`] for C modules.
///
/// # Safety
///
/// As [`rkp_register_kretprobes`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rkp_register_kretprobes_abi(
    rps: *const *mut RawKretprobe,
    num: c_int,
    abi: u32,
) -> c_int {
    // SAFETY: Per the function's safety requirement.
    with_abi(abi, || unsafe { rkp_register_kretprobes(rps, num) })
}
