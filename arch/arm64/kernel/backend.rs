// SPDX-License-Identifier: GPL-2.0

//! The arm64 backend: a hardware breakpoint at the probe address (Linux 7.3 gives modules no
//! `BRK` hook), the displaced instruction simulated in the handler when it reads the PC, or
//! run in an out-of-line slot with interrupts masked; the slot branches to the landing,
//! whose own hardware breakpoint brings the CPU back to move it past the probed instruction.
//! Hooked returns go to the landing too.
//!
//! Every armed probe address takes one breakpoint register on every CPU, and the landing one
//! more; when none is free, arming fails with `ENOSPC`.

// Classification and simulation are shared with the host crate `rkp-arm64-insn`, where
// `cargo test` covers them.
#[allow(dead_code, unreachable_pub)]
#[path = "../insn/src/classify.rs"]
mod classify;
#[allow(dead_code, unreachable_pub)]
#[path = "../insn/src/simulate.rs"]
mod simulate;

use kernel::{
    bindings,
    error::to_result,
    ffi::{c_int, c_void},
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
};

use self::classify::{Plan, Refusal};
use self::simulate::Machine;
use crate::arch::{Arming, Function, Insns, Optimize, Returns, Step, Trap};
use crate::slots::Slots;

extern "C" {
    fn rkp_hwbp_init() -> c_int;
    fn rkp_hwbp_exit();
    fn rkp_hwbp_register(addr: usize, err: *mut c_int) -> *mut c_void;
    fn rkp_hwbp_unregister(bp: *mut c_void);
    fn rkp_text_write(addr: usize, src: *const u8, len: usize) -> c_int;
    /// `slot_area.S`: the first slot.
    static rkp_slot_area: [u8; SLOT_SIZE * SLOT_COUNT];
    /// `slot_area.S`: where slots end and hooked returns go.
    static rkp_landing: [u8; 4];
}

/// Bytes per out-of-line slot: the instruction and the branch to the landing.
const SLOT_SIZE: usize = 8;
/// Slots in `slot_area.S` (`RKP_SLOT_AREA_SIZE / RKP_SLOT_SIZE` in `rkp_arm64.h`).
const SLOT_COUNT: usize = 1024;

/// Functions on the breakpoint path that `NOKPROBE_SYMBOL()` or `noinstr` do not cover. None:
/// the CPU masks debug exceptions (`PSTATE.D`) from the exception entry until its return, so
/// a hardware breakpoint cannot fire again inside the path; a probe there misses those calls.
const TRAP_PATH: &[&[u8]] = &[];

/// `PSTATE.I`: IRQs masked.
const PSR_I: u64 = 1 << 7;
/// `PSTATE.BTYPE`: what kind of branch reached the instruction (BTI).
const PSR_BTYPE: u64 = 3 << 10;

/// An execute hardware breakpoint on every online CPU (and every CPU that comes online while
/// [`TrapHook`] lives), registered until dropped.
struct HwBreakpoint(*mut c_void);

impl HwBreakpoint {
    /// Registers a breakpoint at `addr`; `ENOSPC` when a CPU has no breakpoint register free.
    fn new(addr: usize) -> Result<Self> {
        let mut err: c_int = 0;
        // SAFETY: `err` is valid for writes; any address is acceptable (perf validates it).
        let bp = unsafe { rkp_hwbp_register(addr, &mut err) };
        if bp.is_null() {
            to_result(err)?;
            return Err(EINVAL);
        }
        Ok(Self(bp))
    }
}

impl Drop for HwBreakpoint {
    fn drop(&mut self) {
        // SAFETY: Registered in `new`. Unregistering removes the breakpoint from every CPU
        // through cross-calls, which wait for a CPU inside the handler.
        unsafe { rkp_hwbp_unregister(self.0) };
    }
}

// SAFETY: The handle is only passed back to perf, from any thread.
unsafe impl Send for HwBreakpoint {}
// SAFETY: As above; shared references do nothing with it.
unsafe impl Sync for HwBreakpoint {}

/// The CPU hotplug state that gives every breakpoint to CPUs coming online; removed when
/// dropped.
struct Hotplug;

impl Hotplug {
    fn new() -> Result<Self> {
        // SAFETY: No preconditions; undone when dropped.
        to_result(unsafe { rkp_hwbp_init() })?;
        Ok(Self)
    }
}

impl Drop for Hotplug {
    fn drop(&mut self) {
        // SAFETY: Set up in `new`. No breakpoint is left: probes are all unregistered before
        // rkprobes unloads, and `TrapHook` drops the landing's first.
        unsafe { rkp_hwbp_exit() };
    }
}

/// What routes breakpoints to rkprobes while it lives: the hotplug state, and the landing's
/// breakpoint (probes' breakpoints come and go with the probes). Fields drop in order.
#[pin_data]
pub(crate) struct TrapHook {
    _landing: HwBreakpoint,
    _hotplug: Hotplug,
}

fn landing() -> usize {
    (&raw const rkp_landing) as usize
}

/// The hardware breakpoints' perf overflow handler (`hwbp.c`), in the debug exception with
/// interrupts and debug exceptions masked.
///
/// # Safety
///
/// `regs` is the trapped kernel context.
#[no_mangle]
unsafe extern "C" fn rkp_arm64_on_breakpoint(regs: *mut bindings::pt_regs) {
    // SAFETY: The trapped context, ours for the exception.
    let regs = unsafe { &mut *regs };
    if !crate::hit::on_trap(regs) {
        // Only rkprobes' breakpoints call this, and returning would trap again at once.
        panic!("rkprobes: unhandled breakpoint at {:#x}", pc(regs));
    }
}

/// Reads text without faulting.
fn text_read(addr: usize) -> Result<u32> {
    let mut insn = 0u32;
    // SAFETY: `insn` is valid for 4 bytes of writes; the source is read without faulting.
    let ret = unsafe {
        bindings::copy_from_kernel_nofault(
            (&raw mut insn).cast(),
            addr as *const c_void,
            core::mem::size_of::<u32>(),
        )
    };
    if ret == 0 {
        Ok(u32::from_le(insn))
    } else {
        Err(EFAULT)
    }
}

/// The instruction under a probe, prepared for simulation or the slot.
pub(crate) struct Probe {
    /// The probe address.
    pub(crate) addr: usize,
    insn: u32,
    plan: Plan,
    /// The slot the copy runs in (`Plan::OutOfLine` only).
    slot: Option<usize>,
    /// The breakpoint while armed (changed under the engine's mutex; the hit path never
    /// reads it).
    armed: Atomic<usize>,
}

impl Probe {
    /// Validates `addr` in `func` and prepares the instruction there.
    ///
    /// Errors as Linux's arm64 `arch_prepare_kprobe()`: `EINVAL` for a misaligned address, an
    /// instruction that cannot run out of line or be simulated, or one inside a load/store
    /// exclusive sequence; `ENOMEM` when no slot is free.
    fn prepare(addr: usize, func: &Function, slots: &mut Slots) -> Result<Self> {
        if addr % 4 != 0 {
            pr_info!("cannot probe {addr:#x}: not a multiple of 4: EINVAL\n");
            return Err(EINVAL);
        }
        if addr + 4 > func.start + func.size {
            pr_info!("cannot probe {addr:#x}: no whole instruction left in its function: EINVAL\n");
            return Err(EINVAL);
        }
        let insn = text_read(addr)?;
        let plan = classify::classify(insn).map_err(|r: Refusal| {
            pr_info!(
                "cannot prepare the instruction {insn:#010x} at {addr:#x}: {} (errno {})\n",
                r.reason(),
                r.errno()
            );
            Error::from_errno(-r.errno())
        })?;
        let before = (1..=(addr - func.start) / 4).map_while(|i| text_read(addr - 4 * i).ok());
        if classify::in_atomic_sequence(before) {
            pr_info!("cannot probe {addr:#x}: inside a load/store exclusive sequence: EINVAL\n");
            return Err(EINVAL);
        }
        let mut probe = Probe {
            addr,
            insn,
            plan,
            slot: None,
            armed: Atomic::new(0),
        };
        if plan == Plan::OutOfLine {
            let slot = slots.alloc().ok_or_else(|| {
                pr_info!("cannot probe {addr:#x}: no out-of-line slot left: ENOMEM\n");
                ENOMEM
            })?;
            let bytes = insn.to_le_bytes();
            // SAFETY: `bytes` is valid for 4 bytes; the slot is ours and no CPU runs it.
            if let Err(e) = to_result(unsafe { rkp_text_write(slot, bytes.as_ptr(), 4) }) {
                slots.free(slot);
                return Err(e);
            }
            probe.slot = Some(slot);
        }
        Ok(probe)
    }
}

fn user_regs(regs: &bindings::pt_regs) -> &bindings::user_pt_regs {
    // SAFETY: Both members of the union are plain `u64`s in the same layout.
    unsafe { &regs.__bindgen_anon_1.user_regs }
}

fn user_regs_mut(regs: &mut bindings::pt_regs) -> &mut bindings::user_pt_regs {
    // SAFETY: As in `user_regs`.
    unsafe { &mut regs.__bindgen_anon_1.user_regs }
}

fn pc(regs: &bindings::pt_regs) -> usize {
    user_regs(regs).pc as usize
}

/// Moves the CPU to `to`, as a branch that needs no landing pad (`BTYPE` 0).
fn set_pc(regs: &mut bindings::pt_regs, to: usize) {
    let r = user_regs_mut(regs);
    r.pc = to as u64;
    r.pstate &= !PSR_BTYPE;
}

/// The context of `regs` as the simulation sees it.
struct Regs<'a>(&'a mut bindings::pt_regs);

impl Machine for Regs<'_> {
    fn reg(&self, n: u32) -> u64 {
        user_regs(self.0).regs.get(n as usize).copied().unwrap_or(0)
    }
    fn set_reg(&mut self, n: u32, value: u64) {
        if let Some(r) = user_regs_mut(self.0).regs.get_mut(n as usize) {
            *r = value;
        }
    }
    fn set_pc(&mut self, pc: u64) {
        set_pc(self.0, pc as usize);
    }
    fn nzcv(&self) -> u32 {
        user_regs(self.0).pstate as u32
    }
    fn load(&self, addr: u64, bytes: usize) -> u64 {
        // SAFETY: A literal of the probed kernel code: mapped, aligned kernel data.
        unsafe {
            if bytes == 8 {
                core::ptr::read_volatile(addr as *const u64)
            } else {
                u64::from(core::ptr::read_volatile(addr as *const u32))
            }
        }
    }
}

/// The arm64 backend.
pub(crate) struct Backend;

impl Insns for Backend {
    type Probe = Probe;

    const SLOT_SIZE: usize = SLOT_SIZE;
    const SLOT_COUNT: usize = SLOT_COUNT;

    fn slot_area() -> usize {
        // Only the address is taken; nothing reads the area through Rust.
        (&raw const rkp_slot_area) as usize
    }

    /// With `CONFIG_DYNAMIC_FTRACE` a function starts (after any `BTI`) with two NOPs that
    /// ftrace turns into `mov x9, x30; bl <trampoline>` and back whenever tracing of the
    /// function changes; the site is the second. A prepared copy of either would go stale.
    fn ftrace_site(start: usize, size: usize) -> Option<usize> {
        [start + 4, start + 8]
            .into_iter()
            .filter(|&site| site + 4 <= start + size)
            .find(|&site| crate::sites::is_ftrace_site(site))
    }

    /// A probe at the function's entry or on ftrace's two instructions goes after them: the
    /// registers there are those of the entry (ftrace's trampoline restores x30 and returns
    /// there), and `x30` is not signed yet (`paciasp` comes after). Return probes hook there.
    fn canonical_addr(addr: usize, func: &Function) -> usize {
        match func.ftrace_site {
            // A misaligned address stays, to be refused.
            Some(site) if addr % 4 == 0 && (func.start..site + 4).contains(&addr) => site + 4,
            _ => addr,
        }
    }

    fn prepare<'a>(
        addr: usize,
        func: &Function,
        slots: &mut Slots,
        _recover: impl Fn(usize) -> Option<&'a Probe>,
    ) -> Result<Probe> {
        Probe::prepare(addr, func, slots)
    }

    fn addr(probe: &Probe) -> usize {
        probe.addr
    }

    fn release(probe: &mut Probe, slots: &mut Slots) {
        if let Some(slot) = probe.slot.take() {
            slots.free(slot);
        }
    }
}

/// No jump optimization on arm64 (yet): every probe stays a breakpoint.
impl Optimize for Backend {}

impl Arming for Backend {
    /// Places the probe's hardware breakpoint on every CPU; `ENOSPC` when a CPU has no
    /// breakpoint register free.
    fn arm(probe: &Probe) -> Result {
        let bp = HwBreakpoint::new(probe.addr).inspect_err(|e| {
            if *e == ENOSPC {
                pr_info!(
                    "cannot arm the probe at {:#x}: no hardware breakpoint register free: ENOSPC\n",
                    probe.addr
                );
            }
        })?;
        probe.armed.store(bp.0 as usize, Relaxed);
        core::mem::forget(bp);
        Ok(())
    }

    /// Removes the breakpoint from every CPU (which waits for a CPU in the handler or in the
    /// probe's slot: both run with interrupts masked).
    fn disarm(probe: &Probe) -> Result {
        let bp = probe.armed.xchg(0, Relaxed);
        if bp != 0 {
            drop(HwBreakpoint(bp as *mut c_void));
        }
        Ok(())
    }

    /// The breakpoint goes; there is nothing to restore.
    fn forget(probe: &Probe) {
        let _ = Self::disarm(probe);
    }
}

impl Trap for Backend {
    type Hook = TrapHook;

    const TRAP_PATH: &'static [&'static [u8]] = TRAP_PATH;

    /// Sets up the hotplug state and registers the landing's breakpoint.
    fn hook() -> impl PinInit<TrapHook, Error> {
        try_pin_init!(TrapHook {
            _hotplug: Hotplug::new()?,
            _landing: HwBreakpoint::new(landing()).inspect_err(|e| {
                pr_err!(
                    "cannot place the hardware breakpoint of the landing (errno {})\n",
                    e.to_errno()
                );
            })?,
        }? Error)
    }

    /// A hardware breakpoint traps before the instruction runs.
    fn breakpoint_addr(regs: &bindings::pt_regs) -> usize {
        pc(regs)
    }

    /// A hardware breakpoint is gone once `disarm` returns: no stale trap can arrive.
    fn retry_if_stale(_regs: &mut bindings::pt_regs) -> bool {
        false
    }

    /// Never boosts: a branch back from the slot would not reach kernel text from module
    /// text on every layout (B reaches +-128 MiB).
    fn single_step(probe: &Probe, regs: &mut bindings::pt_regs, _may_boost: bool) -> Step {
        match (probe.plan, probe.slot) {
            (Plan::Simulate(sim), _) => {
                simulate::simulate(sim, probe.insn, probe.addr as u64, &mut Regs(regs));
                Step::Emulated
            }
            (Plan::OutOfLine, Some(slot)) => {
                let r = user_regs_mut(regs);
                let interrupts_were_on = r.pstate & PSR_I == 0;
                r.pstate |= PSR_I;
                set_pc(regs, slot);
                Step::InSlot { interrupts_were_on }
            }
            (Plan::OutOfLine, None) => unreachable!("out-of-line probes always have a slot"),
        }
    }

    /// The landing, while this probe's copy ran (the hit path checks that first).
    fn is_slot_trap(probe: &Probe, regs: &bindings::pt_regs) -> bool {
        probe.slot.is_some() && pc(regs) == landing()
    }

    /// Branches never run out of line, so the copy always falls through to the landing.
    fn finish_slot(probe: &Probe, regs: &mut bindings::pt_regs, interrupts_were_on: bool) {
        set_pc(regs, probe.addr + 4);
        if interrupts_were_on {
            user_regs_mut(regs).pstate &= !PSR_I;
        }
    }
}

impl Returns for Backend {
    /// The landing.
    fn trampoline() -> usize {
        landing()
    }

    /// At the entry (before `paciasp` signs `x30`), swaps `x30`. The frame is the stack
    /// pointer, which is the same at the entry and after the return.
    fn hook_return(regs: &mut bindings::pt_regs, to: usize) -> (usize, usize) {
        let r = user_regs_mut(regs);
        let ret = core::mem::replace(&mut r.regs[30], to as u64);
        (ret as usize, r.sp as usize)
    }

    fn returned_frame(regs: &bindings::pt_regs) -> usize {
        Self::stack_pointer(regs)
    }

    /// `x30` holds the real return address too, as after a direct return.
    fn return_to(regs: &mut bindings::pt_regs, to: usize) {
        user_regs_mut(regs).regs[30] = to as u64;
        set_pc(regs, to);
    }

    fn stack_pointer(regs: &bindings::pt_regs) -> usize {
        user_regs(regs).sp as usize
    }
}
