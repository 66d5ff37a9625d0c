// SPDX-License-Identifier: GPL-2.0

//! The x86-64 backend: an `int3` at the probe address, the displaced instruction run in an
//! out-of-line slot followed by a second `int3` (or emulated in the trap handler), entry
//! through the die notifier's `DIE_INT3`.
//!
//! [`Backend`] implements the architecture interface (`rust/arch.rs`).

// The decoder, classification and emulation are shared with the host crate `rkp-x86-insn`,
// where `cargo test` covers them; not every item is used here.
#[allow(dead_code, unreachable_pub)]
#[path = "../insn/src/decode.rs"]
mod decode;
#[allow(dead_code, unreachable_pub)]
#[path = "../insn/src/emulate.rs"]
mod emulate;
#[allow(dead_code, unreachable_pub)]
#[path = "../insn/src/optimize.rs"]
mod optimize;
#[allow(dead_code, unreachable_pub)]
#[path = "../insn/src/prepare.rs"]
mod prepare;

use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use kernel::{
    bindings,
    error::to_result,
    ffi::{c_int, c_ulong, c_void},
    prelude::*,
};

use self::decode::MAX_INSN_LEN;
use self::emulate::{flags, Machine};
use self::prepare::{Plan, Refusal};
use crate::arch::{Arming, Function, Insns, Optimize, Returns, Step, Trap};
use crate::notifier::Notifier;
use crate::slots::Slots;

extern "C" {
    fn rkp_sync_all_cpus();
    fn rkp_text_write(addr: usize, src: *const u8, len: usize) -> c_int;
    fn rkp_die_int3_regs(val: usize, data: *mut c_void) -> *mut bindings::pt_regs;
}

/// Functions on the x86 breakpoint path, from the exception entry to the die notifier chain,
/// that `NOKPROBE_SYMBOL()` or `noinstr` do not already cover on every kernel: a probe in them
/// would trap again before rkprobes could handle the first trap.
const TRAP_PATH: &[&[u8]] = &[
    b"exc_int3",
    b"do_int3",
    b"do_int3_user",
    b"notify_die",
    b"atomic_notifier_call_chain",
    b"notifier_call_chain",
    b"irqentry_nmi_enter",
    b"irqentry_nmi_exit",
    b"smp_text_poke_int3_handler",
    b"kprobe_int3_handler",
    // The die chain's other breakpoint notifiers, called before rkprobes' (Linux's own int3
    // path calls no notifier, so it marks none of these).
    b"hw_breakpoint_exceptions_notify",
    b"arch_uprobe_exception_notify",
    b"kgdb_notify",
    b"__kgdb_notify",
    b"kgdb_ll_trap",
    // What the chain's RCU read side calls out of line on preemptible (and lockdep) kernels.
    b"__rcu_read_lock",
    b"__rcu_read_unlock",
    b"rcu_read_unlock_special",
    b"lock_acquire",
    b"lock_release",
    b"lock_is_held_type",
    b"debug_lockdep_rcu_enabled",
    // Return probes take and drop references on rkprobes.ko and the task in the trap.
    b"__module_get",
    b"module_put",
    b"__put_task_struct",
    // ftrace's trampolines: patched at run time, and run before probed functions' bodies.
    b"ftrace_caller",
    b"ftrace_regs_caller",
    b"ftrace_stub",
    b"ftrace_stub_graph",
    b"return_to_handler",
    b"__fentry__",
];

/// Bytes per out-of-line slot (`RKP_SLOT_SIZE` in `rkp_x86.h`): three copies of the
/// instruction (at most 14 bytes), each followed by its way back:
/// - at 0, `int3`: the trap that ends the step (post-handlers run there);
/// - at [`BOOST_IF_ON`], `sti; jmp` to the next instruction, for hits with interrupts on;
/// - at [`BOOST_IF_OFF`], `jmp` to the next instruction, for hits with interrupts off.
///
/// Every copy runs with interrupts off. `sti` enables them only after the `jmp` that
/// follows it has run (its interrupt shadow), so no interrupt, and hence no preemption, ever
/// finds a CPU inside a slot: a slot is free once every CPU has taken an interrupt (the IPI
/// of the text write that removes its breakpoint) or left an RCU read-side critical section.
const SLOT_SIZE: usize = 64;
/// Where the boosted copy for hits with interrupts on starts in a slot.
const BOOST_IF_ON: usize = 16;
/// Where the boosted copy for hits with interrupts off starts in a slot.
const BOOST_IF_OFF: usize = 40;
/// Slots in `slot_area.S` (`RKP_SLOT_AREA_SIZE / RKP_SLOT_SIZE` in `rkp_x86.h`).
const SLOT_COUNT: usize = 1024;

extern "C" {
    /// `slot_area.S`: the first byte of the slot area.
    static rkp_slot_area: [u8; SLOT_SIZE * SLOT_COUNT];
}

/// The breakpoint instruction.
const INT3: u8 = 0xcc;
/// `sti`.
const STI: u8 = 0xfb;
/// `jmp rel32`.
const JMP_REL32: u8 = 0xe9;
/// `EFLAGS.IF` as `pt_regs` holds it.
const IF: usize = flags::IF as usize;

/// Writes `bytes` over text at `addr` and serialises every CPU.
fn text_write(addr: usize, bytes: &[u8]) -> Result {
    // SAFETY: `rkp_text_write` reads `len` bytes from `src`, which `bytes` provides; it
    // validates `addr` itself (one page, a text page it can map).
    to_result(unsafe { rkp_text_write(addr, bytes.as_ptr(), bytes.len()) })?;
    // SAFETY: No preconditions; it sends an IPI to every online CPU and waits for them.
    unsafe { rkp_sync_all_cpus() };
    Ok(())
}

/// Reads text without faulting.
fn text_read(addr: usize, buf: &mut [u8]) -> Result {
    // SAFETY: `buf` is valid for `buf.len()` bytes of writes; the source is read without
    // faulting, so any `addr` is acceptable.
    let ret = unsafe {
        bindings::copy_from_kernel_nofault(
            buf.as_mut_ptr().cast(),
            addr as *const c_void,
            buf.len(),
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(EFAULT)
    }
}

/// Whether `insn` (at `at`) is a jump another kprobes implementation wrote over probed code:
/// Linux's optprobes replace instructions with `jmp rel32` to a detour buffer in a kprobes
/// instruction page. Compiled code only jumps to symbols; those pages are in none
/// (`sprint_symbol()` does not resolve them).
fn is_kprobes_jump(insn: &decode::Insn, bytes: &[u8], at: usize) -> bool {
    if insn.map != decode::Map::OneByte
        || insn.opcode != 0xe9
        || insn.vector != decode::VectorPrefix::None
    {
        return false;
    }
    let target = (at + usize::from(insn.len)).wrapping_add(insn.immediate(bytes) as usize);
    crate::kallsyms::Description::of(target).is_none()
}

/// The instruction under a probe, prepared for single-stepping or emulation.
pub(crate) struct Probe {
    /// The probe address.
    pub(crate) addr: usize,
    /// The original instruction (its first `len` bytes matter).
    original: [u8; MAX_INSN_LEN],
    len: u8,
    plan: Plan,
    /// The slot the copy runs in (`Plan::OutOfLine` only).
    slot: Option<usize>,
    /// Whether the slot has the boosted copies.
    boostable: bool,
    /// The function the probe is in: `[start, end)` and its ftrace site.
    func_start: usize,
    func_end: usize,
    ftrace_site: Option<usize>,
    /// Where the code of the probe's detour starts, while it has one (0 otherwise).
    detour: AtomicUsize,
    /// The bytes the jump replaces, while the probe has a detour.
    jump_len: AtomicUsize,
    /// How far the jump is written: [`NO_JUMP`], [`JUMP_TAIL`] or [`JUMP`].
    jump: AtomicU8,
}

/// A function's text as rkprobes found it: its own breakpoints undone, ftrace's site and
/// other probes' jumps (with the instructions they replaced) stepped over.
struct FuncText<'a, R: Fn(usize) -> Option<&'a Probe>> {
    end: usize,
    ftrace_site: Option<usize>,
    recover: R,
}

impl<'a, R: Fn(usize) -> Option<&'a Probe>> optimize::Text for FuncText<'a, R> {
    fn read(&self, at: u64, buf: &mut [u8; MAX_INSN_LEN]) -> Option<usize> {
        let at = at as usize;
        let n = MAX_INSN_LEN.min(self.end.checked_sub(at)?);
        text_read(at, &mut buf[..n]).ok()?;
        if let Some(p) = (self.recover)(at) {
            buf[0] = p.original[0];
        }
        Some(n)
    }

    fn opaque(&self, at: u64) -> usize {
        let at = at as usize;
        if self.ftrace_site == Some(at) {
            return FTRACE_SITE_LEN;
        }
        (self.recover)(at).map_or(0, |p| p.jump_len.load(Ordering::Relaxed))
    }

    fn is_indirect_thunk(&self, target: u64) -> bool {
        crate::kallsyms::Description::of(target as usize)
            .and_then(|d| d.parsed().map(|p| p.name.starts_with(b"__x86_indirect_")))
            .unwrap_or(false)
    }
}

/// Whether `bytes` is what IBT kernels put at the start of a function: `ENDBR64`, `ENDBR32`,
/// or the poison `nopl -42(%rax)` that replaces (seals) the `ENDBR` of functions whose address
/// is never taken (Linux's `__is_endbr()`, arch/x86/include/asm/ibt.h).
fn is_endbr(bytes: [u8; 4]) -> bool {
    matches!(
        bytes,
        [0xf3, 0x0f, 0x1e, 0xfa | 0xfb] | [0x0f, 0x1f, 0x40, 0xd6]
    )
}

/// The address after the `ENDBR` that `start` begins with, or `start`.
fn past_endbr(start: usize, size: usize) -> usize {
    let mut first = [0u8; 4];
    if size >= 4 && text_read(start, &mut first).is_ok() && is_endbr(first) {
        start + 4
    } else {
        start
    }
}

impl Probe {
    /// Validates `addr` in `func` and prepares the instruction there. `recover` gives the
    /// probe whose breakpoint rkprobes already placed at an address.
    ///
    /// Errors as Linux: `EILSEQ` when `addr` is not an instruction boundary (decoding from the
    /// start of the function) or the instruction is a trap; `EINVAL`, `EOPNOTSUPP`, `ENOSPC`
    /// as [`Refusal::errno`]; `ENOMEM` when no slot is free.
    fn prepare<'a>(
        addr: usize,
        func: &Function,
        slots: &mut Slots,
        recover: impl Fn(usize) -> Option<&'a Probe>,
    ) -> Result<Self> {
        let text = FuncText {
            end: func.start + func.size,
            ftrace_site: func.ftrace_site,
            recover,
        };
        let mut buf = [0u8; MAX_INSN_LEN];
        // Walk from the function's start: `addr` must be where an instruction starts. Text
        // that another kprobes implementation changed cannot be walked reliably (a module cannot
        // recover its original bytes), so it is refused rather than guessed at.
        let mut at = func.start;
        let mut after_unconditional = false;
        while at < addr {
            let skip = optimize::Text::opaque(&text, at as u64);
            if skip > 0 {
                at += skip;
                after_unconditional = false;
                continue;
            }
            let n = optimize::Text::read(&text, at as u64, &mut buf).ok_or(EFAULT)?;
            if buf[0] == INT3 && (text.recover)(at).is_none() && !after_unconditional {
                pr_warn!("foreign breakpoint at {at:#x} before {addr:#x}\n");
                return Err(EINVAL);
            }
            let insn = decode::decode(&buf[..n]).map_err(|_| EILSEQ)?;
            if is_kprobes_jump(&insn, &buf, at) {
                pr_warn!("another kprobes optimized the text at {at:#x}\n");
                return Err(EINVAL);
            }
            after_unconditional = optimize::ends_flow(&insn);
            at += usize::from(insn.len);
        }
        if at != addr {
            return Err(EILSEQ);
        }
        let mut original = [0u8; MAX_INSN_LEN];
        let n = optimize::Text::read(&text, addr as u64, &mut original).ok_or(EFAULT)?;
        if let Ok(insn) = decode::decode(&original[..n]) {
            if is_kprobes_jump(&insn, &original, addr) {
                pr_warn!("another kprobes optimized the text at {addr:#x}\n");
                return Err(EINVAL);
            }
        }
        let prepared = prepare::prepare(&original[..n]).map_err(|r: Refusal| {
            if r.errno() != prepare::errno::EILSEQ {
                pr_info!(
                    "cannot prepare the instruction at {addr:#x}: {} (errno {})\n",
                    r.reason(),
                    r.errno()
                );
            }
            Error::from_errno(-r.errno())
        })?;
        let mut probe = Probe {
            addr,
            original,
            len: prepared.insn.len,
            plan: prepared.plan,
            slot: None,
            boostable: false,
            func_start: func.start,
            func_end: text.end,
            ftrace_site: func.ftrace_site,
            detour: AtomicUsize::new(0),
            jump_len: AtomicUsize::new(0),
            jump: AtomicU8::new(NO_JUMP),
        };
        if prepared.plan == Plan::OutOfLine {
            let slot = slots.alloc().ok_or_else(|| {
                pr_info!("cannot probe {addr:#x}: no out-of-line slot left: ENOMEM\n");
                ENOMEM
            })?;
            probe.slot = Some(slot);
            match probe.write_slot(&prepared.insn, slot) {
                Ok(boostable) => probe.boostable = boostable,
                Err(e) => {
                    slots.free(slot);
                    return Err(e);
                }
            }
        }
        Ok(probe)
    }

    /// Fills `slot` (see [`SLOT_SIZE`]); says whether it has the boosted copies (their `jmp`
    /// reaches the next instruction).
    fn write_slot(&self, insn: &decode::Insn, slot: usize) -> Result<bool> {
        let mut area = [INT3; SLOT_SIZE];
        self.copy_to(insn, &mut area, slot, 0)?;
        let len = usize::from(self.len);
        let next = self.addr + len;
        let jmp = |area: &mut [u8; SLOT_SIZE], at: usize| -> Option<()> {
            let rel = i32::try_from(next.wrapping_sub(slot + at + 5) as isize).ok()?;
            area[at] = JMP_REL32;
            area[at + 1..at + 5].copy_from_slice(&rel.to_le_bytes());
            Some(())
        };
        self.copy_to(insn, &mut area, slot, BOOST_IF_ON)?;
        area[BOOST_IF_ON + len] = STI;
        self.copy_to(insn, &mut area, slot, BOOST_IF_OFF)?;
        let boostable = jmp(&mut area, BOOST_IF_ON + len + 1).is_some()
            && jmp(&mut area, BOOST_IF_OFF + len).is_some();
        if !boostable {
            area[BOOST_IF_ON..].fill(INT3);
        }
        text_write(slot, &area)?;
        Ok(boostable)
    }

    /// Puts the instruction at `area[at..]`, relocated to run at `slot + at`.
    fn copy_to(
        &self,
        insn: &decode::Insn,
        area: &mut [u8; SLOT_SIZE],
        slot: usize,
        at: usize,
    ) -> Result {
        relocate(&self.original, insn, self.addr, slot + at, &mut area[at..]).ok_or_else(|| {
            pr_err!(
                "new displacement does not fit into s32 at {:#x}\n",
                self.addr
            );
            EINVAL
        })
    }
}

/// Copies the instruction `insn` at the start of `bytes`, which is at `from`, to the start of
/// `out`, to run at `to`: a RIP-relative displacement is rewritten. `None` if the new one does
/// not fit in 32 bits.
fn relocate(
    bytes: &[u8],
    insn: &decode::Insn,
    from: usize,
    to: usize,
    out: &mut [u8],
) -> Option<()> {
    let len = usize::from(insn.len);
    out[..len].copy_from_slice(&bytes[..len]);
    if insn.is_rip_relative() {
        let disp = prepare::relocated_displacement(insn, bytes, from as u64, to as u64)?;
        let d = usize::from(insn.disp_offset);
        out[d..d + 4].copy_from_slice(&disp.to_le_bytes());
    }
    Some(())
}

/// The die notifier callback: kernel-mode `int3`s go to the hit path.
///
/// # Safety
///
/// Called by the die notifier chain with its arguments.
unsafe extern "C" fn notify(
    _nb: *mut bindings::notifier_block,
    val: c_ulong,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `data` points to the chain's `struct die_args`; the returned `pt_regs` is the
    // trapped context, valid and exclusively ours for the notification.
    let Some(regs) = (unsafe { rkp_die_int3_regs(val, data).as_mut() }) else {
        return bindings::NOTIFY_DONE as c_int;
    };
    if crate::hit::on_trap(regs) {
        bindings::NOTIFY_STOP as c_int
    } else {
        bindings::NOTIFY_DONE as c_int
    }
}

extern "C" {
    fn register_die_notifier(nb: *mut bindings::notifier_block) -> c_int;
    fn unregister_die_notifier(nb: *mut bindings::notifier_block) -> c_int;
}

/// The context of `regs` as the emulation sees it.
struct Regs<'a>(&'a mut bindings::pt_regs);

impl Regs<'_> {
    fn gpr_mut(&mut self, n: u8) -> &mut usize {
        let r = &mut *self.0;
        match n {
            0 => &mut r.ax,
            1 => &mut r.cx,
            2 => &mut r.dx,
            3 => &mut r.bx,
            4 => &mut r.sp,
            5 => &mut r.bp,
            6 => &mut r.si,
            7 => &mut r.di,
            8 => &mut r.r8,
            9 => &mut r.r9,
            10 => &mut r.r10,
            11 => &mut r.r11,
            12 => &mut r.r12,
            13 => &mut r.r13,
            14 => &mut r.r14,
            _ => &mut r.r15,
        }
    }
}

impl Machine for Regs<'_> {
    fn ip(&self) -> u64 {
        self.0.ip as u64
    }
    fn set_ip(&mut self, ip: u64) {
        self.0.ip = ip as usize;
    }
    fn sp(&self) -> u64 {
        self.0.sp as u64
    }
    fn set_sp(&mut self, sp: u64) {
        self.0.sp = sp as usize;
    }
    fn flags(&self) -> u64 {
        self.0.flags as u64
    }
    fn set_flags(&mut self, f: u64) {
        self.0.flags = f as usize;
    }
    fn gpr(&self, n: u8) -> u64 {
        let r = &*self.0;
        (match n {
            0 => r.ax,
            1 => r.cx,
            2 => r.dx,
            3 => r.bx,
            4 => r.sp,
            5 => r.bp,
            6 => r.si,
            7 => r.di,
            8 => r.r8,
            9 => r.r9,
            10 => r.r10,
            11 => r.r11,
            12 => r.r12,
            13 => r.r13,
            14 => r.r14,
            _ => r.r15,
        }) as u64
    }
    fn set_gpr(&mut self, n: u8, value: u64) {
        *self.gpr_mut(n) = value as usize;
    }
    fn write_stack(&mut self, addr: u64, value: u64) {
        // SAFETY: `addr` is at most one word below the trapped kernel stack pointer; the int3
        // entry code leaves a gap there so the exception frame is not overwritten
        // (arch/x86/entry/entry_64.S, X86_TRAP_BP). The stack is mapped and writable.
        unsafe { core::ptr::write(addr as *mut u64, value) };
    }
    fn read_stack(&self, addr: u64) -> u64 {
        // SAFETY: `addr` is the trapped kernel stack pointer, mapped and readable.
        unsafe { core::ptr::read(addr as *const u64) }
    }
}

/// The x86-64 backend.
pub(crate) struct Backend;

/// The length of an ftrace site: `call __fentry__` or the 5-byte NOP ftrace puts in its place.
const FTRACE_SITE_LEN: usize = 5;

impl Insns for Backend {
    type Probe = Probe;

    const SLOT_SIZE: usize = SLOT_SIZE;
    const SLOT_COUNT: usize = SLOT_COUNT;

    fn slot_area() -> usize {
        // Only the address is taken; nothing reads the area through Rust.
        (&raw const rkp_slot_area) as usize
    }

    /// The `call __fentry__` (or NOP) after any `ENDBR`, if ftrace knows it as a site.
    fn ftrace_site(start: usize, size: usize) -> Option<usize> {
        let entry = past_endbr(start, size);
        (entry + FTRACE_SITE_LEN <= start + size && crate::sites::is_ftrace_site(entry))
            .then_some(entry)
    }

    /// - On IBT kernels, a probe at the start of a function that begins with an `ENDBR` moves
    ///   past it, as Linux's `arch_adjust_kprobe_addr()` does (the `ENDBR` must stay in place
    ///   for indirect calls);
    /// - a probe at the function's entry or at its ftrace site goes to the instruction after
    ///   that site: ftrace rewrites the site whenever tracing of the function changes, and
    ///   checks what it finds there (a breakpoint makes it stop tracing for good). The
    ///   registers there are those of the entry: the site is a NOP, or a call that preserves
    ///   them.
    fn canonical_addr(addr: usize, func: &Function) -> usize {
        let entry = if addr == func.start {
            past_endbr(addr, func.size)
        } else {
            addr
        };
        match func.ftrace_site {
            Some(site) if entry == site => site + FTRACE_SITE_LEN,
            _ => entry,
        }
    }

    fn prepare<'a>(
        addr: usize,
        func: &Function,
        slots: &mut Slots,
        recover: impl Fn(usize) -> Option<&'a Probe>,
    ) -> Result<Probe> {
        Probe::prepare(addr, func, slots, recover)
    }

    fn addr(probe: &Probe) -> usize {
        probe.addr
    }

    /// A detour the probe still has is retired (a task may be preempted in it).
    fn release(probe: &mut Probe, slots: &mut Slots) {
        if let Some(slot) = probe.slot.take() {
            slots.free(slot);
        }
        let detour = core::mem::take(probe.detour.get_mut());
        if detour != 0 {
            slots.retire(detour - DETOUR_CODE);
        }
    }
}

impl Arming for Backend {
    /// Writes `int3` over the first byte.
    fn arm(probe: &Probe) -> Result {
        text_write(probe.addr, &[INT3])
    }

    /// Puts back the first byte of the original instruction; serialising every CPU waits for
    /// those in the trap or a slot.
    ///
    /// The byte is written twice, each time followed by the serialisation. On hardware once
    /// is enough. Under QEMU's multi-threaded TCG, a vCPU that translates the function while
    /// the first write lands can keep a stale translation that still has the `int3`. That
    /// translation traps on every call: harmless while rkprobes is loaded (the stale-breakpoint
    /// retry), an oops after it unloads. The second write, made when no CPU can still read the
    /// old byte, invalidates such a translation.
    fn disarm(probe: &Probe) -> Result {
        text_write(probe.addr, &probe.original[..1])?;
        text_write(probe.addr, &probe.original[..1])
    }

    /// A jump in the freed text is forgotten too (its detour is retired on release).
    fn forget(probe: &Probe) {
        probe.jump.store(NO_JUMP, Ordering::Relaxed);
        probe.jump_len.store(0, Ordering::Relaxed);
    }
}

impl Trap for Backend {
    type Hook = Notifier;

    const TRAP_PATH: &'static [&'static [u8]] = TRAP_PATH;

    /// A die notifier, before other die notifiers (breakpoints are rkprobes' or nobody's),
    /// registered until dropped.
    fn hook() -> impl PinInit<Notifier, Error> {
        // SAFETY: The die chain's register/unregister pair; `notify` handles its arguments.
        unsafe {
            Notifier::new(
                notify,
                i32::MAX - 1,
                register_die_notifier,
                unregister_die_notifier,
            )
        }
    }

    fn to_detour(probe: &Probe, regs: &mut bindings::pt_regs) -> bool {
        match probe.detour.load(Ordering::Acquire) {
            0 => false,
            detour => {
                regs.ip = detour;
                true
            }
        }
    }

    /// `int3` leaves `ip` after itself.
    fn breakpoint_addr(regs: &bindings::pt_regs) -> usize {
        regs.ip - 1
    }

    /// A probe removed while this CPU was on its way into the handler left no `int3` before
    /// `ip`: rewind `ip` so that the original instruction runs.
    fn retry_if_stale(regs: &mut bindings::pt_regs) -> bool {
        // SAFETY: A breakpoint just trapped at this address, so it is mapped kernel text. A
        // plain read keeps the hit path free of calls into code that could itself be probed.
        let byte = unsafe { core::ptr::read_volatile(Self::breakpoint_addr(regs) as *const u8) };
        if byte != INT3 {
            regs.ip -= 1;
            return true;
        }
        false
    }

    /// Boosts when it may and the slot has the boosted copies.
    fn single_step(probe: &Probe, regs: &mut bindings::pt_regs, may_boost: bool) -> Step {
        match (probe.plan, probe.slot) {
            (Plan::Emulate(e), _) => {
                emulate::emulate(e, &mut Regs(regs), probe.addr as u64, probe.len);
                Step::Emulated
            }
            (Plan::OutOfLine, Some(slot)) => {
                let interrupts_were_on = regs.flags & IF != 0;
                regs.flags &= !IF;
                if may_boost && probe.boostable {
                    regs.ip = slot
                        + if interrupts_were_on {
                            BOOST_IF_ON
                        } else {
                            BOOST_IF_OFF
                        };
                    return Step::Boosted;
                }
                regs.ip = slot;
                Step::InSlot { interrupts_were_on }
            }
            (Plan::OutOfLine, None) => unreachable!("out-of-line probes always have a slot"),
        }
    }

    /// The `int3` after the copy in the slot.
    fn is_slot_trap(probe: &Probe, regs: &bindings::pt_regs) -> bool {
        probe
            .slot
            .is_some_and(|slot| Self::breakpoint_addr(regs) == slot + usize::from(probe.len))
    }

    fn finish_slot(probe: &Probe, regs: &mut bindings::pt_regs, interrupts_were_on: bool) {
        let slot = probe.slot.unwrap_or(0);
        // The copy jumped nowhere (no branches run out of line): ip is slot + len + 1.
        regs.ip = regs.ip - 1 - slot + probe.addr;
        if interrupts_were_on {
            regs.flags |= IF;
        }
    }
}

/// A detour, in a slot: the probe address (data for [`rkp_optimized_hit`]), then at
/// [`DETOUR_CODE`] `call rkp_optimized_entry` (`optimized_entry.S`, which calls the
/// pre-handlers), the instructions the jump replaced, relocated, and a `jmp` back after them.
const DETOUR_CODE: usize = 8;
/// Where the copied instructions start in a detour: after the `call`.
const DETOUR_COPY: usize = DETOUR_CODE + 5;
/// `call rel32`.
const CALL_REL32: u8 = 0xe8;

/// No byte of the jump is written.
const NO_JUMP: u8 = 0;
/// The jump's last four bytes may be written; the first is still rkprobes' `int3`.
const JUMP_TAIL: u8 = 1;
/// The jump is written.
const JUMP: u8 = 2;

extern "C" {
    /// `optimized_entry.S`: what detours call.
    static rkp_optimized_entry: [u8; 0];
}

/// `rel32` for a branch at `at`, `len` bytes long, to `to`, if it reaches.
fn rel32(at: usize, len: usize, to: usize) -> Option<[u8; 4]> {
    i32::try_from(to.wrapping_sub(at + len) as isize)
        .ok()
        .map(i32::to_le_bytes)
}

impl Probe {
    /// The detour's bytes for a jump over `len` bytes, in `slot`.
    fn detour_bytes(&self, len: usize, slot: usize) -> Option<[u8; SLOT_SIZE]> {
        let mut area = [INT3; SLOT_SIZE];
        area[..DETOUR_CODE].copy_from_slice(&self.addr.to_le_bytes());
        let entry = (&raw const rkp_optimized_entry) as usize;
        area[DETOUR_CODE] = CALL_REL32;
        area[DETOUR_CODE + 1..DETOUR_COPY].copy_from_slice(&rel32(slot + DETOUR_CODE, 5, entry)?);
        let mut at = 0;
        while at < len {
            let insn = decode::decode(&self.original[at..]).ok()?;
            let to = DETOUR_COPY + at;
            relocate(
                &self.original[at..],
                &insn,
                self.addr + at,
                slot + to,
                &mut area[to..],
            )?;
            at += usize::from(insn.len);
        }
        let back = DETOUR_COPY + len;
        area[back] = JMP_REL32;
        area[back + 1..back + 5].copy_from_slice(&rel32(slot + back, 5, self.addr + len)?);
        Some(area)
    }
}

/// Linux's optprobes, with the same checks (`rust/arch.rs` says in which order the engine
/// calls these). Detours call the pre-handlers with interrupts off, as the trap does.
impl Optimize for Backend {
    fn prepare_jump<'a>(
        probe: &Probe,
        slots: &mut Slots,
        recover: impl Fn(usize) -> Option<&'a Probe>,
        probed: impl Fn(usize) -> bool,
        check_sites: impl Fn(usize, usize, usize, usize) -> core::result::Result<(), &'static str>,
    ) -> core::result::Result<(), &'static str> {
        let addr = probe.addr;
        let within = MAX_INSN_LEN.min(probe.func_end - addr);
        let len = optimize::jump_range(&probe.original[..within], addr as u64, |a| {
            probed(a as usize)
        })
        .map_err(|r| r.reason().0)?;
        if addr / 4096 != (addr + optimize::JMP_LEN - 1) / 4096 {
            return Err("the jump would cross a page");
        }
        check_sites(addr, addr + len, probe.func_start, probe.func_end)?;
        let text = FuncText {
            end: probe.func_end,
            ftrace_site: probe.ftrace_site,
            recover,
        };
        optimize::check_function(
            &text,
            probe.func_start as u64,
            probe.func_end as u64,
            addr as u64,
            len,
        )
        .map_err(|r| r.reason().0)?;
        let slot = slots.alloc().ok_or("no slot left for a detour")?;
        let written = probe
            .detour_bytes(len, slot)
            .ok_or("a displacement that does not reach the detour")
            .and_then(|area| text_write(slot, &area).map_err(|_| "cannot write the detour"));
        if let Err(e) = written {
            slots.free(slot);
            return Err(e);
        }
        probe.jump_len.store(len, Ordering::Relaxed);
        // Breakpoint hits go to the detour from now on.
        probe.detour.store(slot + DETOUR_CODE, Ordering::Release);
        Ok(())
    }

    /// As `text_poke_bp()`: the breakpoint stays while the jump's last four bytes are
    /// written, then the first byte becomes the `jmp`.
    fn install_jump(probe: &Probe) -> Result {
        let detour = probe.detour.load(Ordering::Relaxed);
        let mut jmp = [JMP_REL32; optimize::JMP_LEN];
        jmp[1..].copy_from_slice(&rel32(probe.addr, optimize::JMP_LEN, detour).ok_or(EINVAL)?);
        // Set first: if a write fails, `remove_jump` restores what it may have changed.
        probe.jump.store(JUMP_TAIL, Ordering::Relaxed);
        text_write(probe.addr + 1, &jmp[1..])?;
        text_write(probe.addr, &jmp[..1])?;
        probe.jump.store(JUMP, Ordering::Relaxed);
        Ok(())
    }

    /// The breakpoint first, then the original bytes after it; both written twice, for the
    /// reason [`Backend::disarm`] gives. Hits that trapped meanwhile went to the detour, which
    /// stays until the engine's next RCU-tasks grace period.
    fn remove_jump(probe: &Probe, slots: &mut Slots) -> Result {
        let jump = probe.jump.load(Ordering::Relaxed);
        if jump != NO_JUMP {
            let mut first = [0u8; 1];
            text_read(probe.addr, &mut first)?;
            if first[0] != if jump == JUMP { JMP_REL32 } else { INT3 } {
                // Somebody wrote over the jump (another kprobes implementation, forced
                // beside it): leave the text and the detour to it.
                pr_err!(
                    "the jump at {:#x} was overwritten ({:#x}); leaving it\n",
                    probe.addr,
                    first[0]
                );
                return Err(EBUSY);
            }
            text_write(probe.addr, &[INT3])?;
            for _ in 0..2 {
                text_write(probe.addr + 1, &probe.original[1..optimize::JMP_LEN])?;
            }
            probe.jump.store(NO_JUMP, Ordering::Relaxed);
        }
        let detour = probe.detour.swap(0, Ordering::Relaxed);
        probe.jump_len.store(0, Ordering::Relaxed);
        if detour != 0 {
            slots.retire(detour - DETOUR_CODE);
        }
        Ok(())
    }

    fn jump_len(probe: &Probe) -> usize {
        probe.jump_len.load(Ordering::Relaxed)
    }

    fn is_optimized(probe: &Probe) -> bool {
        probe.jump.load(Ordering::Relaxed) == JUMP
    }
}

/// Called by `optimized_entry.S` with the registers of a hit on a detour, interrupts off:
/// runs the pre-handlers as the trap would, with `ip` after the probe's (virtual) breakpoint,
/// then sends the CPU on to the copied instructions, or where a pre-handler redirected it.
///
/// # Safety
///
/// `regs` is the entry's saved registers; its `ip` the return address of a detour's `call`.
#[no_mangle]
unsafe extern "C" fn rkp_optimized_hit(regs: *mut bindings::pt_regs) {
    // SAFETY: Per the safety requirement, `regs` is valid and this CPU's alone.
    let regs = unsafe { &mut *regs };
    let copied = regs.ip;
    // SAFETY: `copied` is `DETOUR_COPY` bytes into a detour, which starts with the probe
    // address; the detour stays until an RCU-tasks grace period after this task leaves it.
    let addr = unsafe { core::ptr::read_unaligned((copied - DETOUR_COPY) as *const usize) };
    regs.ip = addr + 1;
    if !crate::hit::on_optimized(regs, addr) {
        regs.ip = copied;
    }
}

extern "C" {
    /// `return_trampoline.S`: where hooked returns go (code, not a function).
    static rkp_return_trampoline: [u8; 0];
    /// `return_trampoline.S`: `ud2`.
    static rkp_return_lost: [u8; 0];
}

/// Called by `return_trampoline.S` with the registers of a hooked return, interrupts off:
/// runs the return handlers, which set the instruction pointer its `iretq` goes to.
///
/// # Safety
///
/// `regs` is the trampoline's saved registers, laid out as after the function's `ret`, with
/// the trampoline's return slot just below `regs.sp`.
#[no_mangle]
unsafe extern "C" fn rkp_hooked_return(regs: *mut bindings::pt_regs) {
    // SAFETY: Per the safety requirement, `regs` is valid and this CPU's alone.
    let regs = unsafe { &mut *regs };
    if !crate::hit::on_hooked_return(regs) {
        // A bug: nowhere to return to. Oops there rather than return to the trampoline.
        Backend::return_to(regs, (&raw const rkp_return_lost) as usize);
    }
}

impl Returns for Backend {
    /// No breakpoint: it saves the registers and calls the return handlers.
    fn trampoline() -> usize {
        (&raw const rkp_return_trampoline) as usize
    }

    /// At the entry the stack pointer points at the return address: the frame is that slot.
    fn hook_return(regs: &mut bindings::pt_regs, to: usize) -> (usize, usize) {
        let frame = regs.sp;
        // SAFETY: At the entry of a function the stack pointer points at the return address
        // its caller pushed: mapped, writable kernel stack.
        let ret = unsafe { core::ptr::replace(frame as *mut usize, to) };
        (ret, frame)
    }

    /// The stack slot the return address was popped from.
    fn returned_frame(regs: &bindings::pt_regs) -> usize {
        regs.sp - 8
    }

    /// Also puts `to` in the trampoline's return slot, below the stack pointer, so that stack
    /// traces taken in the return handlers continue into the caller.
    fn return_to(regs: &mut bindings::pt_regs, to: usize) {
        regs.ip = to;
        // SAFETY: Only the trampoline's callback returns through here, with `regs` laid out
        // by the trampoline: the word below `sp` is its return slot, on this CPU's stack.
        unsafe { *((regs.sp - 8) as *mut usize) = to };
    }

    fn stack_pointer(regs: &bindings::pt_regs) -> usize {
        regs.sp
    }
}
