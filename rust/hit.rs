// SPDX-License-Identifier: GPL-2.0

//! The hit path: runs in the breakpoint trap, in NMI-like context with interrupts off. It
//! takes no locks and allocates nothing: it finds the probe in the RCU-published snapshot,
//! keeps its state in this CPU's stack, and calls the handlers.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use kernel::{bindings, prelude::*, sync::atomic::Atomic};

use crate::abi::{RawKprobe, FLAG_DISABLED, FLAG_GONE};
use crate::arch::{Arch, Returns, Step, Trap};
use crate::engine::Engine;
use crate::kretprobes;
use crate::percpu::{status, CpuState, Frame};
use crate::snapshot::Entry;

/// A probe's `flags` as a `core` atomic on the same memory: one instruction per access on the
/// hit path, where the kernel crate's `Atomic` makes two out-of-line calls (`rust/percpu.rs`).
pub(crate) fn core_u32(a: &Atomic<u32>) -> &AtomicU32 {
    // SAFETY: `Atomic<u32>` is `repr(transparent)` over an `UnsafeCell<i32>`: the size and
    // alignment of `AtomicU32` (asserted below); both access the memory only atomically.
    unsafe { &*core::ptr::from_ref(a).cast::<AtomicU32>() }
}

/// A probe's counters as `core` atomics, as [`core_u32`].
pub(crate) fn core_usize(a: &Atomic<usize>) -> &AtomicUsize {
    // SAFETY: As in `core_u32`, for `Atomic<usize>` (an `UnsafeCell<isize>`) and `AtomicUsize`.
    unsafe { &*core::ptr::from_ref(a).cast::<AtomicUsize>() }
}

const _: () = {
    use core::mem::{align_of, size_of};
    assert!(size_of::<Atomic<u32>>() == size_of::<AtomicU32>());
    assert!(align_of::<Atomic<u32>>() == align_of::<AtomicU32>());
    assert!(size_of::<Atomic<usize>>() == size_of::<AtomicUsize>());
    assert!(align_of::<Atomic<usize>>() == align_of::<AtomicUsize>());
};

fn for_each_enabled(entry: &Entry, mut f: impl FnMut(&RawKprobe, *mut RawKprobe) -> bool) {
    for &p in entry.probes() {
        // SAFETY: Probes in a published snapshot stay valid until a grace period after they
        // leave it; we are inside a read-side critical section.
        let probe = unsafe { &*p };
        let flags = core_u32(&probe.flags).load(Ordering::Relaxed);
        if flags & (FLAG_DISABLED | FLAG_GONE) == 0 && !f(probe, p) {
            return;
        }
    }
}

fn post_handlers(entry: &Entry, regs: &mut bindings::pt_regs) {
    for_each_enabled(entry, |probe, p| {
        if let Some(post) = probe.post_handler {
            // SAFETY: The ABI contract: handlers are callable in this context while the probe
            // is registered; `regs` is the trapped context.
            unsafe { post(p, regs, 0) };
        }
        true
    });
}

/// Counts a hit on `entry` that runs no handlers.
fn missed(entry: &Entry) {
    for_each_enabled(entry, |probe, _| {
        core_usize(&probe.nmissed).fetch_add(1, Ordering::Relaxed);
        true
    });
}

/// Runs the pre-handlers of `entry`; says whether one redirected execution, and whether the
/// hit may be boosted (no post-handler).
fn pre_handlers(entry: &Entry, regs: &mut bindings::pt_regs) -> (bool, bool) {
    let mut skip = false;
    let mut may_boost = true;
    for_each_enabled(entry, |probe, p| {
        core_usize(&probe.nhit).fetch_add(1, Ordering::Relaxed);
        may_boost &= probe.post_handler.is_none();
        if let Some(pre) = probe.pre_handler {
            // SAFETY: As in `post_handlers`.
            skip = unsafe { pre(p, regs) } != 0;
        }
        // The first pre-handler that redirects execution ends the walk, as in Linux.
        !skip
    });
    (skip, may_boost)
}

/// Runs the probed instruction: emulated now (then the post-handlers), or in the slot,
/// boosted if `may_boost` (no post-handler to run at the end of the slot).
fn step(
    entry: &Entry,
    frame: &Frame,
    cpu: &CpuState,
    regs: &mut bindings::pt_regs,
    may_boost: bool,
) {
    // SAFETY: `code` lives as long as its snapshot entry.
    let code = unsafe { &*entry.code };
    match Arch::single_step(&code.probe, regs, may_boost) {
        Step::Boosted => cpu.pop(),
        Step::Emulated => {
            if frame.status() == status::ACTIVE {
                frame.set_status(status::SSDONE);
                post_handlers(entry, regs);
            }
            cpu.pop();
        }
        Step::InSlot { interrupts_were_on } => {
            frame.set_interrupts_were_on(interrupts_were_on);
            if frame.status() == status::ACTIVE {
                frame.set_status(status::SS);
            }
        }
    }
}

/// Handles a breakpoint; `false` if it is not rkprobes'.
fn on_breakpoint(engine: &Engine, regs: &mut bindings::pt_regs) -> bool {
    let cpu = engine.cpus.this_cpu();
    let addr = Arch::breakpoint_addr(regs);
    // No `rcu::read_lock()`: traps run with interrupts off, which RCU counts as a read-side
    // critical section. Every call made here is to code rkprobes blacklists (its own text,
    // `rust_helper_*`), so none can trap again.

    // The end of a single-step: only frames that stepped have an entry (a return frame has
    // none, and a trap while return handlers run may be anybody's breakpoint). Checked before
    // the trampoline: a backend may end its slots where hooked returns go.
    if let Some(frame) = cpu
        .top()
        .filter(|f| matches!(f.status(), status::SS | status::REENTER))
    {
        let s = frame.status();
        let entry = frame.entry();
        // SAFETY: As in `step`.
        let code = unsafe { &*entry.code };
        if Arch::is_slot_trap(&code.probe, regs) {
            Arch::finish_slot(&code.probe, regs, frame.interrupts_were_on());
            if s == status::SS {
                frame.set_status(status::SSDONE);
                post_handlers(entry, regs);
            }
            cpu.pop();
            return true;
        }
    }

    if addr == Arch::trampoline() {
        return returned(engine, regs);
    }

    if let Some(entry) = engine.snapshot().and_then(|s| s.find(addr)) {
        // SAFETY: As in `step`.
        if Arch::to_detour(unsafe { &(*entry.code).probe }, regs) {
            // The probe is (being) optimized: its detour calls the handlers.
            return true;
        }
        if cpu.running() {
            // A probe hit while another is handled on this CPU: count it missed and only
            // run the instruction (Linux's reenter_kprobe()).
            missed(entry);
            let Some(frame) = cpu.push(entry, status::REENTER) else {
                pr_err!("probe at {addr:#x} hit nested too deeply; cannot continue\n");
                return false;
            };
            // A nested hit runs no post-handler.
            step(entry, frame, cpu, regs, true);
            return true;
        }
        let Some(frame) = cpu.push(entry, status::ACTIVE) else {
            return false;
        };
        let (skip, may_boost) = pre_handlers(entry, regs);
        if skip {
            cpu.pop();
        } else {
            step(entry, frame, cpu, regs, may_boost);
        }
        return true;
    }

    // A breakpoint rkprobes just removed, hit by a CPU that was already on its way here.
    Arch::retry_if_stale(regs)
}

/// A hooked return at the trampoline: runs its return handlers and sends the CPU on to the
/// real return address; `false` if no call is pending there (a bug). Probes hit inside the
/// return handlers count as missed.
fn returned(engine: &Engine, regs: &mut bindings::pt_regs) -> bool {
    let cpu = engine.cpus.this_cpu();
    if cpu.push(core::ptr::null(), status::RETURN).is_none() {
        return false;
    }
    let handled = engine
        .snapshot()
        .is_some_and(|s| kretprobes::on_return(s.pools(), regs));
    cpu.pop();
    if !handled {
        pr_err!("return to the trampoline with no pending call\n");
    }
    handled
}

/// A hooked return reached the trampoline with `regs` and interrupts off (a backend whose
/// trampoline does not trap calls this); as [`returned`]. Calls pending on the trampoline
/// keep rkprobes loaded, so the engine is there.
#[cfg_attr(not(CONFIG_X86_64), allow(dead_code))]
pub(crate) fn on_hooked_return(regs: &mut bindings::pt_regs) -> bool {
    crate::engine::current().is_some_and(|engine| returned(engine, regs))
}

/// A jump-optimized probe at `addr` was hit: its detour saved `regs` (with `ip` as after a
/// breakpoint) and turned interrupts off. Runs the pre-handlers as a breakpoint hit would;
/// says whether one redirected execution (else the detour runs the replaced instructions).
/// Optimized probes have no post-handlers. A hit while a probe is handled on this CPU counts as
/// missed.
#[cfg_attr(not(CONFIG_X86_64), allow(dead_code))]
pub(crate) fn on_optimized(regs: &mut bindings::pt_regs, addr: usize) -> bool {
    let Some(engine) = crate::engine::current() else {
        return false;
    };
    // Interrupts are off: an RCU read-side critical section, as in the trap. A CPU preempted
    // in the detour before its `call` may get here after the probe is gone: then it finds no
    // entry, and runs the replaced instructions only.
    let Some(entry) = engine.snapshot().and_then(|s| s.find(addr)) else {
        return false;
    };
    let cpu = engine.cpus.this_cpu();
    if cpu.running() {
        missed(entry);
        return false;
    }
    if cpu.push(entry, status::ACTIVE).is_none() {
        return false;
    }
    let (skip, _) = pre_handlers(entry, regs);
    cpu.pop();
    skip
}

/// A breakpoint trapped in kernel mode with `regs` (the backend's trap entry calls this):
/// handles it and says whether it was rkprobes'.
pub(crate) fn on_trap(regs: &mut bindings::pt_regs) -> bool {
    match crate::engine::current() {
        Some(engine) => on_breakpoint(engine, regs),
        // Unloading: no probe is left, but a CPU may still meet a breakpoint removed just
        // before (the hook goes after the engine).
        None => Arch::retry_if_stale(regs),
    }
}
