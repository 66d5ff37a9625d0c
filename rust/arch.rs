// SPDX-License-Identifier: GPL-2.0

//! The architecture interface: what the arch-neutral core needs from a backend, as traits
//! that one type per architecture implements (`arch/<arch>/kernel/backend.rs`), chosen here
//! at compile time. The core names only [`Arch`] and the types and traits of this file.
//!
//! Adding an architecture is a folder `arch/<arch>/` whose `kernel/backend.rs` implements
//! these traits (with its C and assembly listed in `Kbuild`), and one `cfg` line below.

use kernel::{bindings::pt_regs, prelude::*};

use crate::slots::Slots;

#[cfg(CONFIG_X86_64)]
#[path = "../arch/x86/kernel/backend.rs"]
mod backend;
#[cfg(CONFIG_ARM64)]
#[path = "../arch/arm64/kernel/backend.rs"]
mod backend;
#[cfg(not(any(CONFIG_X86_64, CONFIG_ARM64)))]
compile_error!("rkprobes has no backend for this architecture (see arch/README.md)");

/// This architecture's backend.
pub(crate) use backend::Backend as Arch;

/// A probed address with its instruction prepared, as this architecture's backend keeps it.
pub(crate) type Probe = <Arch as Insns>::Probe;

/// What routes breakpoints to rkprobes while it lives.
pub(crate) type TrapHook = <Arch as Trap>::Hook;

/// The function a probe address is in.
pub(crate) struct Function {
    /// Its first byte.
    pub(crate) start: usize,
    /// Its size.
    pub(crate) size: usize,
    /// ftrace's site at its entry, if it has one and the backend uses ftrace's sites.
    pub(crate) ftrace_site: Option<usize>,
}

impl Function {
    /// The function at `[start, start + size)`. Process context (may ask ftrace).
    pub(crate) fn new(start: usize, size: usize) -> Self {
        Self {
            start,
            size,
            ftrace_site: Arch::ftrace_site(start, size),
        }
    }
}

/// Instruction preparation: where a probe really goes, whether its instruction can be
/// probed, and how it will run (simulated or emulated in the trap, or in an out-of-line slot).
pub(crate) trait Insns {
    /// A probed address with its instruction prepared. Shared by every probe at the address
    /// and read by the hit path without locks: changed only through atomics after preparation.
    type Probe: Send + Sync;

    /// Bytes per out-of-line slot.
    const SLOT_SIZE: usize;
    /// Out-of-line slots in the backend's slot area (a multiple of 64).
    const SLOT_COUNT: usize;

    /// The address of the first slot (in this module's text: a module cannot allocate
    /// executable memory).
    fn slot_area() -> usize;

    /// ftrace's site at the entry of the function at `[start, start + size)`, if it has one
    /// and the backend keeps probes off ftrace's sites. Process context.
    fn ftrace_site(start: usize, size: usize) -> Option<usize>;

    /// Where a probe at `addr` in `func` really goes (past landing pads and ftrace's site).
    fn canonical_addr(addr: usize, func: &Function) -> usize;

    /// Validates `addr` in `func` and prepares its instruction, taking a slot from `slots` if
    /// it runs out of line. `recover` gives the probe whose breakpoint rkprobes already
    /// placed at an address. Fails with Linux's errno for the architecture, and says why in
    /// the log.
    fn prepare<'a>(
        addr: usize,
        func: &Function,
        slots: &mut Slots,
        recover: impl Fn(usize) -> Option<&'a Self::Probe>,
    ) -> Result<Self::Probe>
    where
        Self::Probe: 'a;

    /// The probed address.
    fn addr(probe: &Self::Probe) -> usize;

    /// Gives the probe's slot back. The caller has made sure no CPU can still be in it.
    fn release(probe: &mut Self::Probe, slots: &mut Slots);
}

/// Putting breakpoints in place and taking them out. Process context, under the engine's
/// mutex.
pub(crate) trait Arming: Insns {
    /// Puts the probe's breakpoint in place.
    fn arm(probe: &Self::Probe) -> Result;

    /// Takes the probe's breakpoint out. When this returns, no CPU is inside the trap
    /// handler or a slot for a hit that saw the breakpoint.
    fn disarm(probe: &Self::Probe) -> Result;

    /// The probed text is being freed with the breakpoint in it: drop what the backend holds
    /// for it, restoring nothing.
    fn forget(probe: &Self::Probe);
}

/// Jump optimization: a probe whose breakpoint becomes a jump to a detour that calls the
/// pre-handlers and runs the instructions the jump replaced, with no trap. Process context,
/// under the engine's mutex. A backend that does not optimize keeps the defaults.
///
/// The order (`rust/engine/optimize.rs`): [`Optimize::prepare_jump`] writes the detour and from
/// then on sends breakpoint hits there ([`Trap::to_detour`]), so that no CPU enters the bytes the
/// jump replaces after the first; after an RCU-tasks grace period no task is left preempted in
/// them either, and [`Optimize::install_jump`] writes the jump. [`Optimize::remove_jump`] puts
/// the breakpoint back; its detour is reused only after another such grace period.
pub(crate) trait Optimize: Insns {
    /// Checks that `probe` can become a jump and prepares its detour. `recover` gives the
    /// probe whose breakpoint is at an address, `probed` whether any live probe is at one,
    /// `check_sites` what the kernel's tables say of a jump over `[lo, hi)` in the function
    /// `[start, end)` (arguments in that order). Says why not, for the log.
    fn prepare_jump<'a>(
        _probe: &Self::Probe,
        _slots: &mut Slots,
        _recover: impl Fn(usize) -> Option<&'a Self::Probe>,
        _probed: impl Fn(usize) -> bool,
        _check_sites: impl Fn(usize, usize, usize, usize) -> core::result::Result<(), &'static str>,
    ) -> core::result::Result<(), &'static str>
    where
        Self::Probe: 'a,
    {
        Err("this architecture has no jump-optimized probes")
    }

    /// Writes the jump of a probe whose detour is prepared.
    fn install_jump(_probe: &Self::Probe) -> Result {
        Ok(())
    }

    /// Puts the breakpoint back in place of the jump (if written) and retires the detour.
    fn remove_jump(_probe: &Self::Probe, _slots: &mut Slots) -> Result {
        Ok(())
    }

    /// How many bytes from the probe address the jump replaces, while its detour is prepared
    /// (0 otherwise).
    fn jump_len(_probe: &Self::Probe) -> usize {
        0
    }

    /// Whether the jump is written (the probe is listed `[OPTIMIZED]`).
    fn is_optimized(_probe: &Self::Probe) -> bool {
        false
    }
}

/// How a hit continues after the pre-handlers.
pub(crate) enum Step {
    /// The instruction was emulated or simulated: the post-handlers can run now.
    Emulated,
    /// The CPU will run the copy in the slot with interrupts off, then trap again;
    /// `interrupts_were_on` is restored by [`Trap::finish_slot`].
    InSlot { interrupts_were_on: bool },
    /// The CPU will run the copy in the slot, which then goes straight back to the probed
    /// code ("boosting": no second trap, so no post-handlers). Only x86 boosts.
    #[cfg_attr(not(CONFIG_X86_64), allow(dead_code))]
    Boosted,
}

/// Trap entry and resume: the hit path's side of the backend. Everything but [`Trap::hook`]
/// runs in the trap, with interrupts off.
pub(crate) trait Trap: Insns {
    /// What routes breakpoints to [`crate::hit::on_trap`] while it lives.
    type Hook: Send + Sync;

    /// Functions on the trap path that `NOKPROBE_SYMBOL()` and `noinstr` do not cover on
    /// every kernel: a probe there would trap again before the first trap is handled.
    const TRAP_PATH: &'static [&'static [u8]];

    /// Starts routing breakpoints to rkprobes.
    fn hook() -> impl PinInit<Self::Hook, Error>;

    /// While `probe` has a prepared detour (which calls the handlers), sends a breakpoint hit
    /// there and says so.
    fn to_detour(_probe: &Self::Probe, _regs: &mut pt_regs) -> bool {
        false
    }

    /// The probe address of the breakpoint that trapped with `regs`.
    fn breakpoint_addr(regs: &pt_regs) -> usize;

    /// A trap at no probe: if it is a breakpoint rkprobes removed while this CPU was on its
    /// way into the handler, makes the CPU run the original instruction and says so.
    fn retry_if_stale(regs: &mut pt_regs) -> bool;

    /// Carries out the probed instruction: emulates it, or sends the CPU to its slot; a
    /// backend may boost it (return [`Step::Boosted`]) when `may_boost` (no post-handler).
    fn single_step(probe: &Self::Probe, regs: &mut pt_regs, may_boost: bool) -> Step;

    /// Whether this trap ends `probe`'s run in its slot.
    fn is_slot_trap(probe: &Self::Probe, regs: &pt_regs) -> bool;

    /// Moves the CPU from the end of the slot to the instruction after the probe.
    fn finish_slot(probe: &Self::Probe, regs: &mut pt_regs, interrupts_were_on: bool);
}

/// Return-address hijack, for return probes on the trampoline route.
pub(crate) trait Returns {
    /// The address hooked returns go to. Its code gets to the return handlers either by a
    /// trap that the hit path recognises by this address, or by calling
    /// `hit::on_hooked_return` with the registers saved, interrupts off.
    fn trampoline() -> usize;

    /// At a function's entry, makes it return to `to`. Returns the real return address and
    /// the frame that identifies this call at its return ([`Returns::returned_frame`]).
    fn hook_return(regs: &mut pt_regs, to: usize) -> (usize, usize);

    /// At the trampoline: the frame of the call that returned.
    fn returned_frame(regs: &pt_regs) -> usize;

    /// At the trampoline: sends the CPU on to the real return address `to`.
    fn return_to(regs: &mut pt_regs, to: usize);

    /// The stack pointer of the trapped context.
    fn stack_pointer(regs: &pt_regs) -> usize;
}
