// SPDX-License-Identifier: GPL-2.0

//! In-kernel tests of rkprobes on x86_64, printed as KTAP when the module loads: Linux's
//! KUnit kprobe cases adapted, a probe at every instruction boundary of functions written for
//! the purpose (`rkp_selftest_targets.S`), and the errno of every refusal.
//!
//! The tests use the safe client API; the cases that Linux's C API allows but the safe API
//! makes impossible (both or neither of symbol and address, registering twice) go through
//! the raw ABI.

#[path = "../../rust/client/kprobes.rs"]
pub mod kprobes;

#[allow(dead_code, unreachable_pub)]
#[path = "../../arch/x86/insn/src/decode.rs"]
mod decode;
#[path = "selftest/optimized.rs"]
mod optimized;
#[path = "selftest/common.rs"]
mod selftest;
#[allow(dead_code, unreachable_pub)]
#[path = "../../rust/logic/src/symbol.rs"]
mod symbol;

use core::hint::black_box;

use kernel::{
    prelude::*,
    str::CString,
    sync::atomic::{Atomic, Relaxed},
};

use selftest::{
    addr_of, ensure, errno_of, fail, function_extent, register, unregistered, Test, TestResult,
    SKIP,
};

use kprobes::{
    abi, Batch, EntryAction, Handler, HitContext, Instance, KretprobeRegistration, PreAction,
    PtRegs, Registration, RetHandler, ReturnBatch, Target,
};

module! {
    type: RkpSelftest,
    name: "rkp_selftest",
    authors: ["The rkprobes developers"],
    description: "rkprobes in-kernel tests (KTAP)",
    license: "GPL",
}

extern "C" {
    fn rkp_asm_mix(x: i64) -> i64;
    fn rkp_asm_branches(n: i64) -> i64;
    fn rkp_asm_alt(x: i64) -> i64;
    fn rkp_asm_pair(a: u64, b: u64) -> Pair;
    fn rkp_selftest_preemptible() -> bool;
    fn rkp_selftest_irqs_off(f: extern "C" fn() -> i64, stayed_off: *mut bool) -> i64;
    fn rkp_selftest_keyed(x: i64) -> i64;
    fn rkp_selftest_key_set(on: bool);
    fn rkp_asm_foreign_int3(x: i64) -> i64;
    fn rkp_asm_nofault_read(addr: i64) -> i64;
    fn rkp_selftest_foreign_int3_hook(on: bool) -> kernel::ffi::c_int;
    fn rkp_selftest_foreign_int3_hits() -> usize;
    static rkp_target_data: i64;
}

/// Two words returned in rax:rdx.
#[repr(C)]
struct Pair {
    a: u64,
    b: u64,
}

/// Recursion `n` calls deep; returns `n`.
#[no_mangle]
#[inline(never)]
pub extern "C" fn rkp_selftest_depth(n: u32) -> u32 {
    if black_box(n) == 0 {
        0
    } else {
        black_box(rkp_selftest_depth(black_box(n - 1))) + 1
    }
}

/// Divides by 3: the target whose handlers call it again (Linux's `kprobe_recursed_target`).
#[no_mangle]
#[inline(never)]
pub extern "C" fn rkp_selftest_recursed(v: u32) -> u32 {
    black_box(v) / 3
}

fn preemptible() -> bool {
    // SAFETY: No preconditions.
    unsafe { rkp_selftest_preemptible() }
}

/// Counts hits and remembers what the handlers saw.
struct Recorder {
    pre: Atomic<usize>,
    post: Atomic<usize>,
    preemptible: Atomic<bool>,
    pre_ip: Atomic<usize>,
    post_ip: Atomic<usize>,
    post_bp_is_sp: Atomic<bool>,
    /// Where a pre-handler sends execution instead (0: nowhere).
    redirect: Atomic<usize>,
    /// Calls the recursed target from both handlers.
    recurse: bool,
}

impl Recorder {
    fn new() -> Self {
        Self {
            pre: Atomic::new(0),
            post: Atomic::new(0),
            preemptible: Atomic::new(false),
            pre_ip: Atomic::new(0),
            post_ip: Atomic::new(0),
            post_bp_is_sp: Atomic::new(false),
            redirect: Atomic::new(0),
            recurse: false,
        }
    }
}

#[vtable]
impl Handler for Recorder {
    fn pre_handler(&self, _ctx: &HitContext<'_>, regs: &mut PtRegs) -> PreAction {
        self.pre.add(1, Relaxed);
        if preemptible() {
            self.preemptible.store(true, Relaxed);
        }
        self.pre_ip.store(regs.ip(), Relaxed);
        if self.recurse {
            black_box(rkp_selftest_recursed(black_box(7)));
        }
        match self.redirect.load(Relaxed) {
            0 => PreAction::Continue,
            // SAFETY: The tests redirect to the start of a function with the same signature
            // (`rkp_asm_alt`), at the entry of the probed one: the stack holds the return address.
            to => PreAction::Skip(unsafe { regs.set_ip(to) }),
        }
    }

    fn post_handler(&self, _ctx: &HitContext<'_>, regs: &mut PtRegs) {
        self.post.add(1, Relaxed);
        if preemptible() {
            self.preemptible.store(true, Relaxed);
        }
        self.post_ip.store(regs.ip(), Relaxed);
        let r = regs.as_raw();
        self.post_bp_is_sp.store(r.bp == r.sp, Relaxed);
        if self.recurse {
            black_box(rkp_selftest_recursed(black_box(8)));
        }
    }
}

/// Counts pre-handler calls and records its turn in a shared sequence.
struct Ordered {
    seq: &'static Atomic<usize>,
    turn: Atomic<usize>,
}

#[vtable]
impl Handler for Ordered {
    fn pre_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) -> PreAction {
        self.turn.store(self.seq.fetch_add(1, Relaxed) + 1, Relaxed);
        PreAction::Continue
    }
}

static SEQUENCE: Atomic<usize> = Atomic::new(0);

fn mix(x: i64) -> i64 {
    // SAFETY: A plain function of its argument (`rkp_selftest_targets.S`).
    unsafe { rkp_asm_mix(black_box(x)) }
}

fn branches(n: i64) -> i64 {
    // SAFETY: As above.
    unsafe { rkp_asm_branches(black_box(n)) }
}

/// Arming writes the breakpoint; unregistering puts back exactly the bytes that were there.
fn text_restored_exactly() -> TestResult {
    // black_box: no relocation to `rkp_asm_mix+4` (see `kprobe_pre_post`).
    let start = black_box(addr_of(rkp_asm_mix));
    let at = start + if p_endbr(start) { 4 } else { 0 };
    // SAFETY: Reading 16 bytes of our own text.
    let read = || unsafe { core::ptr::read_volatile(at as *const [u8; 16]) };
    let before = read();
    let p = register(Target::address(at), Recorder::new())?;
    let armed = read();
    ensure!(
        armed[0] == 0xcc && armed[1..] == before[1..],
        "armed text {armed:02x?}, was {before:02x?}"
    );
    drop(p);
    let after = read();
    ensure!(
        after == before,
        "text after unregistering {after:02x?}, was {before:02x?}"
    );
    Ok(())
}

/// `test_kprobe`: a probe with pre- and post-handler by symbol, at a function's entry.
fn kprobe_pre_post() -> TestResult {
    let p = register(Target::symbol(c"rkp_asm_mix"), Recorder::new())?;
    let v = mix(2);
    let h = p.handler();
    ensure!(v == 45, "rkp_asm_mix(2) returned {v}, want 45");
    ensure!(
        h.pre.load(Relaxed) == 1 && h.post.load(Relaxed) == 1,
        "pre {} post {} calls",
        h.pre.load(Relaxed),
        h.post.load(Relaxed)
    );
    ensure!(!h.preemptible.load(Relaxed), "a handler ran preemptible");
    // black_box: an address computed from the symbol must not become a relocation to
    // `rkp_asm_mix+4`, which objtool would flag as a reference to code without ENDBR.
    let start = black_box(addr_of(rkp_asm_mix));
    // On IBT kernels the function starts with ENDBR64 and the probe moves past it.
    // SAFETY: Reading four bytes of our own text.
    let first = unsafe { core::ptr::read_unaligned(start as *const [u8; 4]) };
    let want = if first == [0xf3, 0x0f, 0x1e, 0xfa] {
        start + 4
    } else {
        start
    };
    ensure!(
        p.address() == want,
        "probe at {:#x}, want {want:#x}",
        p.address()
    );
    ensure!(
        h.pre_ip.load(Relaxed) == want + 1,
        "pre-handler ip {:#x}, want {:#x}",
        h.pre_ip.load(Relaxed),
        want + 1
    );
    ensure!(
        p.nhit() == 1 && p.nmissed() == 0,
        "nhit {} nmissed {}",
        p.nhit(),
        p.nmissed()
    );
    Ok(())
}

/// The post-handler sees the registers the probed instruction left: `mov %rsp,%rbp` at
/// `rkp_asm_mix+5` (after ENDBR64 and `push %rbp`).
fn post_handler_sees_registers() -> TestResult {
    let offset = if p_endbr(addr_of(rkp_asm_mix)) { 5 } else { 1 };
    let p = register(
        Target::symbol(c"rkp_asm_mix").offset(offset),
        Recorder::new(),
    )?;
    let v = mix(61);
    let h = p.handler();
    ensure!(v == 201, "rkp_asm_mix(61) returned {v}, want 201");
    ensure!(
        h.post.load(Relaxed) == 1,
        "post-handler ran {} times",
        h.post.load(Relaxed)
    );
    ensure!(
        h.post_ip.load(Relaxed) == p.address() + 3,
        "post ip {:#x}, want {:#x}",
        h.post_ip.load(Relaxed),
        p.address() + 3
    );
    ensure!(
        h.post_bp_is_sp.load(Relaxed),
        "post-handler: rbp != rsp after mov %rsp,%rbp"
    );
    Ok(())
}

fn p_endbr(addr: usize) -> bool {
    // SAFETY: Reading four bytes of our own text.
    unsafe { core::ptr::read_unaligned(addr as *const [u8; 4]) == [0xf3, 0x0f, 0x1e, 0xfa] }
}

/// `test_kprobes`: two probes registered as a batch, each firing its own handlers, then
/// unregistered together.
fn kprobes_batch() -> TestResult {
    let a = unregistered(Target::symbol(c"rkp_asm_mix"), Recorder::new())?;
    let b = unregistered(Target::symbol(c"rkp_asm_branches"), Recorder::new())?;
    {
        let _batch =
            Batch::register(&[&*a, &*b]).map_err(|e| fail(fmt!("register_kprobes: {e:?}")))?;
        let (x, y) = (mix(1), branches(3));
        ensure!(x == 82 && y == 12, "results {x} {y}, want 82 12");
        for (name, r) in [("first", &a), ("second", &b)] {
            let h = r.handler();
            ensure!(
                h.pre.load(Relaxed) == 1 && h.post.load(Relaxed) == 1,
                "{name}: pre {} post {}",
                h.pre.load(Relaxed),
                h.post.load(Relaxed)
            );
        }
    }
    mix(1);
    branches(3);
    ensure!(
        a.handler().pre.load(Relaxed) == 1 && b.handler().pre.load(Relaxed) == 1,
        "a probe fired after the batch was unregistered"
    );
    Ok(())
}

/// A probe registered, unregistered and registered again (in batches) sits at the same
/// address each time (before: the resolved address was written back over the target, and the
/// second registration added the offset again).
fn rebatch_same_address() -> TestResult {
    let a = unregistered(Target::symbol(c"rkp_asm_mix").offset(5), Recorder::new())?;
    let mut seen = [0usize; 2];
    for at in seen.iter_mut() {
        let _batch = Batch::register(&[&*a]).map_err(|e| fail(fmt!("register: {e:?}")))?;
        *at = a.address();
    }
    // Opaque, so that `start + 5` is not folded into a reference into the function.
    let start = black_box(addr_of(rkp_asm_mix));
    ensure!(
        seen[0] == start + 5 && seen[1] == seen[0],
        "registered at +{:#x}, then at +{:#x}",
        seen[0].wrapping_sub(start),
        seen[1].wrapping_sub(start)
    );
    Ok(())
}

/// The target's name may be freed once the registration is initialised: rkprobes reads the
/// registration's own copy (before: the caller's buffer, read again by the batch).
fn target_name_copied() -> TestResult {
    let mut buf = KVec::new();
    buf.extend_from_slice(b"rkp_asm_mix\0", GFP_KERNEL)
        .map_err(|_| fail(fmt!("oom")))?;
    let name = CStr::from_bytes_with_nul(&buf).map_err(|_| fail(fmt!("bad name")))?;
    let a = unregistered(Target::symbol(name), Recorder::new())?;
    // What a freed buffer may hold by the time the batch registers.
    buf.fill(b'x');
    drop(buf);
    let _batch = Batch::register(&[&*a]).map_err(|e| fail(fmt!("register: {e:?}")))?;
    ensure!(
        function_extent(a.address()).map(|(s, _)| s) == Some(addr_of(rkp_asm_mix)),
        "registered at {:#x}",
        a.address()
    );
    Ok(())
}

/// `test_kprobe_missed`: handlers that call the probed function count two misses.
fn kprobe_missed() -> TestResult {
    let rec = Recorder {
        recurse: true,
        ..Recorder::new()
    };
    let p = register(Target::symbol(c"rkp_selftest_recursed"), rec)?;
    let v = rkp_selftest_recursed(black_box(9));
    let h = p.handler();
    ensure!(v == 3, "returned {v}");
    ensure!(
        h.pre.load(Relaxed) == 1 && h.post.load(Relaxed) == 1,
        "pre {} post {}",
        h.pre.load(Relaxed),
        h.post.load(Relaxed)
    );
    ensure!(p.nmissed() == 2, "nmissed {}, want 2", p.nmissed());
    Ok(())
}

/// A pre-handler that changes the instruction pointer skips the probed instruction and the
/// post-handler: `rkp_asm_mix` is sent to `rkp_asm_alt`.
fn pre_handler_redirects() -> TestResult {
    let rec = Recorder::new();
    rec.redirect.store(addr_of(rkp_asm_alt), Relaxed);
    let p = register(Target::symbol(c"rkp_asm_mix"), rec)?;
    let v = mix(2);
    ensure!(v == 1234, "returned {v}, want rkp_asm_alt's 1234");
    ensure!(p.handler().post.load(Relaxed) == 0, "post-handler ran");
    drop(p);
    let v = mix(2);
    ensure!(v == 45, "after unregistering: {v}, want 45");
    Ok(())
}

/// Probes every byte offset of `func`: instruction boundaries register (checked against the
/// decoder), every other offset fails with `EILSEQ`; with all boundary probes armed, `run`
/// gives the same results as unprobed and every probe up to the final `ret` fires (kallsyms
/// sizes run to the next symbol, so the alignment padding after it counts as the function's
/// but never runs).
/// Probes registered at every instruction boundary of a function, and how many boundaries
/// rkprobes refused as text the kernel rewrites or must not run out of line (`EINVAL`).
struct Swept<H: Handler = Recorder> {
    probes: KVec<Pin<KBox<Registration<H>>>>,
    refused: usize,
    start: usize,
    code_end: usize,
}

/// Registers a probe at every byte of the function at `func` (`name`): each instruction
/// boundary must register (or, with `may_refuse`, fail with `EINVAL`), every other offset must
/// fail with `EILSEQ`.
fn probe_every_boundary(name: &CStr, func: usize, may_refuse: bool) -> Result<Swept, CString> {
    probe_every_boundary_with(name, func, may_refuse, Recorder::new)
}

/// [`probe_every_boundary`] with handlers made by `handler`.
fn probe_every_boundary_with<H: Handler>(
    name: &CStr,
    func: usize,
    may_refuse: bool,
    handler: impl Fn() -> H,
) -> Result<Swept<H>, CString> {
    let (start, size) =
        function_extent(func).ok_or_else(|| fail(fmt!("no symbol at {func:#x}")))?;
    // SAFETY: Reading our own text.
    let text = unsafe { core::slice::from_raw_parts(start as *const u8, size) };
    let mut boundaries = KVec::<usize>::new();
    // `int3` padding: with return thunks, the kernel patches `jmp __x86_return_thunk` into
    // `ret; int3; int3; int3; int3` when no mitigation needs the thunk.
    let mut padding = KVec::<usize>::new();
    let (mut at, mut code_end) = (0, 0);
    while at < size {
        let insn =
            decode::decode(&text[at..]).map_err(|e| fail(fmt!("decode at +{at:#x}: {e:?}")))?;
        let list = if insn.map == decode::Map::OneByte && insn.opcode == 0xcc {
            &mut padding
        } else {
            &mut boundaries
        };
        list.push(at, GFP_KERNEL).map_err(|_| fail(fmt!("oom")))?;
        at += usize::from(insn.len);
        if insn.map == decode::Map::OneByte && insn.opcode == 0xc3 {
            code_end = at;
        }
    }
    let mut swept = Swept {
        probes: KVec::new(),
        refused: 0,
        start,
        code_end,
    };
    for off in 0..size {
        let r = KBox::pin_init(
            Registration::new(Target::symbol(name).offset(off as u32), handler()),
            GFP_KERNEL,
        );
        let boundary = boundaries.contains(&off);
        let einval = |e: &Error| e.to_errno() == EINVAL.to_errno();
        match r {
            Ok(p) if boundary => swept
                .probes
                .push(p, GFP_KERNEL)
                .map_err(|_| fail(fmt!("oom")))?,
            Ok(_) => return Err(fail(fmt!("+{off:#x} is not a boundary but registered"))),
            Err(e) if !boundary && e.to_errno() == EILSEQ.to_errno() => {}
            // Another breakpoint's byte: refused as Linux does, never probed over.
            Err(e) if padding.contains(&off) && einval(&e) => {}
            Err(e) if boundary && may_refuse && einval(&e) => swept.refused += 1,
            Err(e) => return Err(fail(fmt!("+{off:#x}: {e:?} (boundary: {boundary})"))),
        }
    }
    Ok(swept)
}

impl<H: Handler> Swept<H> {
    /// Every probe before the function's first `ret` fired.
    fn all_fired(&self) -> TestResult {
        for p in self
            .probes
            .iter()
            .filter(|p| p.address() < self.start + self.code_end)
        {
            ensure!(
                p.nhit() > 0,
                "probe at +{:#x} never fired",
                p.address() - self.start
            );
        }
        Ok(())
    }
}

fn every_boundary(name: &CStr, func: usize, run: &dyn Fn() -> i64) -> TestResult {
    let want = run();
    let swept = probe_every_boundary(name, func, false)?;
    let got = run();
    ensure!(got == want, "probed result {got}, unprobed {want}");
    swept.all_fired()
}

/// A pre-handler and no post-handler: such probes are boosted (their slot jumps back to the
/// probed code, with no second trap).
struct PreOnly;

#[vtable]
impl Handler for PreOnly {
    fn pre_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) -> PreAction {
        PreAction::Continue
    }
}

/// [`every_boundary`] with boosted probes, with interrupts on and then off around the runs
/// (a boosted slot has a way back for each).
fn every_boundary_boosted(name: &CStr, func: usize, run: extern "C" fn() -> i64) -> TestResult {
    let want = run();
    let swept = probe_every_boundary_with(name, func, false, || PreOnly)?;
    let on = run();
    let mut stayed_off = false;
    // SAFETY: `run` may run with interrupts off; `stayed_off` is valid for writes.
    let off = unsafe { rkp_selftest_irqs_off(run, &mut stayed_off) };
    ensure!(stayed_off, "interrupts came on during a run with them off");
    ensure!(on == want, "probed result {on}, unprobed {want}");
    ensure!(
        off == want,
        "probed result with interrupts off {off}, unprobed {want}"
    );
    swept.all_fired()
}

/// A jump-label site in module text is refused; with every other instruction of the function
/// probed, flipping the key (the kernel rewrites the site) works and the results stay right.
fn module_jump_label_site() -> TestResult {
    let run = || -> i64 {
        [1, 2, 7].iter().fold(0, |acc, &x| {
            // SAFETY: A plain function of its argument.
            acc * 100 + unsafe { rkp_selftest_keyed(black_box(x)) }
        })
    };
    let swept = probe_every_boundary(c"rkp_selftest_keyed", addr_of(rkp_selftest_keyed), true)?;
    ensure!(
        swept.refused >= 1,
        "no boundary was refused as a jump-label site"
    );
    let off = run();
    // SAFETY: No preconditions (process context).
    unsafe { rkp_selftest_key_set(true) };
    let on = run();
    // SAFETY: As above.
    unsafe { rkp_selftest_key_set(false) };
    let off_again = run();
    ensure!(
        off == 20308 && on == 30621 && off_again == off,
        "results {off}, {on}, {off_again}"
    );
    ensure!(swept.probes.iter().any(|p| p.nhit() > 0), "no probe fired");
    Ok(())
}

/// A load with an exception-table entry is refused (a fault in a slot would find no fixup);
/// with every other instruction probed, a faulting read still returns `EFAULT`.
fn module_extable_site() -> TestResult {
    let value: i64 = 4242;
    let swept = probe_every_boundary(c"rkp_asm_nofault_read", addr_of(rkp_asm_nofault_read), true)?;
    ensure!(
        swept.refused >= 1,
        "no boundary was refused as an extable site"
    );
    // SAFETY: Reads through the nofault accessor; any address is acceptable.
    let (good, bad) = unsafe {
        (
            rkp_asm_nofault_read(&raw const value as i64),
            // Non-canonical: #GP, whose fixup is the exception table's.
            rkp_asm_nofault_read(black_box(i64::MIN)),
        )
    };
    ensure!(
        good == 4242 && bad == i64::from(EFAULT.to_errno()),
        "read {good} and {bad}"
    );
    ensure!(swept.probes.iter().any(|p| p.nhit() > 0), "no probe fired");
    Ok(())
}

fn every_boundary_mix() -> TestResult {
    every_boundary(c"rkp_asm_mix", addr_of(rkp_asm_mix), &|| run_mix())
}

fn every_boundary_branches() -> TestResult {
    every_boundary(c"rkp_asm_branches", addr_of(rkp_asm_branches), &|| {
        run_branches()
    })
}

extern "C" fn run_mix() -> i64 {
    [0, 1, 2, 59, 60, 61, 99, 100]
        .iter()
        .fold(0, |acc, &x| acc * 3 + mix(x))
}

extern "C" fn run_branches() -> i64 {
    [0, 1, 3, 7].iter().fold(0, |acc, &n| acc * 7 + branches(n))
}

fn every_boundary_mix_boosted() -> TestResult {
    every_boundary_boosted(c"rkp_asm_mix", addr_of(rkp_asm_mix), run_mix)
}

fn every_boundary_branches_boosted() -> TestResult {
    every_boundary_boosted(c"rkp_asm_branches", addr_of(rkp_asm_branches), run_branches)
}

/// The errno of every refusal Linux reports.
fn errnos() -> TestResult {
    fn reg(t: Target<'_>) -> i32 {
        errno_of(KBox::pin_init(Registration::new(t, Recorder::new()), GFP_KERNEL).map(drop))
    }
    // Only the address is taken.
    let data = (&raw const rkp_target_data) as usize;
    let cases: [(&str, i32, i32); 19] = [
        (
            "blacklisted: trap path (notify_die)",
            reg(Target::symbol(c"notify_die")),
            EINVAL.to_errno(),
        ),
        (
            "blacklisted: noinstr (exc_int3)",
            reg(Target::symbol(c"exc_int3")),
            EINVAL.to_errno(),
        ),
        (
            "blacklisted: entry text (asm_exc_int3)",
            reg(Target::symbol(c"asm_exc_int3")),
            EINVAL.to_errno(),
        ),
        (
            "blacklisted: hit path helper",
            reg(Target::symbol(c"rust_helper_atomic_read")),
            EINVAL.to_errno(),
        ),
        (
            "blacklisted: return thunk",
            reg(Target::symbol(c"__x86_return_thunk")),
            EINVAL.to_errno(),
        ),
        (
            "blacklisted: ftrace trampoline",
            reg(Target::symbol(c"ftrace_regs_caller")),
            EINVAL.to_errno(),
        ),
        (
            "blacklisted: die notifier before rkprobes'",
            reg(Target::symbol(c"hw_breakpoint_exceptions_notify")),
            EINVAL.to_errno(),
        ),
        (
            "blacklisted: the die chain's RCU read side",
            reg(Target::symbol(c"__rcu_read_lock")),
            EINVAL.to_errno(),
        ),
        (
            "blacklisted: static-call trampoline",
            reg(Target::symbol(c"__SCT__preempt_schedule")),
            EINVAL.to_errno(),
        ),
        (
            "unknown symbol",
            reg(Target::symbol(c"rkp_no_such_symbol")),
            ENOENT.to_errno(),
        ),
        (
            "address in no symbol",
            reg(Target::address(usize::MAX - 0xfff)),
            ENOENT.to_errno(),
        ),
        (
            "data, not text",
            reg(Target::address(data)),
            EINVAL.to_errno(),
        ),
        (
            "not an instruction boundary",
            reg(Target::symbol(c"rkp_asm_mix").offset(1)),
            EILSEQ.to_errno(),
        ),
        (
            "ud2",
            reg(Target::symbol(c"rkp_asm_ud2")),
            EILSEQ.to_errno(),
        ),
        (
            "someone else's int3",
            reg(Target::symbol(c"rkp_asm_int3")),
            EINVAL.to_errno(),
        ),
        (
            "vmcall",
            reg(Target::symbol(c"rkp_asm_vmcall")),
            EOPNOTSUPP.to_errno(),
        ),
        (
            "rkprobes itself",
            reg(Target::symbol(c"rkp_register_kprobe")),
            EINVAL.to_errno(),
        ),
        (
            "a module's noinstr text",
            reg(Target::symbol(c"rkp_selftest_noinstr")),
            EINVAL.to_errno(),
        ),
        (
            "padding before a function (call thunks)",
            reg(Target::symbol(c"__pfx_kernel_clone")),
            EINVAL.to_errno(),
        ),
    ];
    for (what, got, want) in cases {
        ensure!(got == want, "{what}: errno {got}, want {want}");
    }
    Ok(())
}

/// A disabled probe does not fire; enabling and disabling take effect at once.
fn enable_disable() -> TestResult {
    let mut p = register(
        Target::symbol(c"rkp_asm_branches").disabled(),
        Recorder::new(),
    )?;
    branches(1);
    ensure!(p.nhit() == 0 && p.is_disabled(), "a disabled probe fired");
    p.as_mut()
        .enable()
        .map_err(|e| fail(fmt!("enable: {e:?}")))?;
    branches(1);
    ensure!(
        p.nhit() == 1 && !p.is_disabled(),
        "enabled probe: {} hits",
        p.nhit()
    );
    p.as_mut()
        .disable()
        .map_err(|e| fail(fmt!("disable: {e:?}")))?;
    branches(1);
    ensure!(p.nhit() == 1, "disabled probe fired again");
    Ok(())
}

/// Several probes at one address all fire, newest first (Linux's aggregate order); removing
/// one leaves the other armed.
fn aggregated() -> TestResult {
    let older = register(
        Target::symbol(c"rkp_asm_mix"),
        Ordered {
            seq: &SEQUENCE,
            turn: Atomic::new(0),
        },
    )?;
    let newer = register(
        Target::symbol(c"rkp_asm_mix"),
        Ordered {
            seq: &SEQUENCE,
            turn: Atomic::new(0),
        },
    )?;
    mix(2);
    let (o, n) = (
        older.handler().turn.load(Relaxed),
        newer.handler().turn.load(Relaxed),
    );
    ensure!(
        n != 0 && o == n + 1,
        "turns: newer {n}, older {o}; want newer first"
    );
    drop(newer);
    mix(2);
    ensure!(
        older.nhit() == 2,
        "remaining probe: {} hits, want 2",
        older.nhit()
    );
    Ok(())
}

/// What a return probe's handlers saw.
struct Returns {
    entries: Atomic<usize>,
    returns: Atomic<usize>,
    preemptible: Atomic<bool>,
    last_value: Atomic<usize>,
    last_value2: Atomic<usize>,
    /// Entry handler skips calls with an odd first argument.
    skip_odd: bool,
    /// The target returns its first argument (`rkp_selftest_depth`): the return handler can
    /// check that the data the entry stored is this call's.
    returns_arg: bool,
    /// Returns whose data was not their call's.
    data_mismatches: Atomic<usize>,
    /// The order in which handlers of several probes ran.
    seq: &'static Atomic<usize>,
    turn: Atomic<usize>,
}

impl Returns {
    fn new() -> Self {
        Self {
            entries: Atomic::new(0),
            returns: Atomic::new(0),
            preemptible: Atomic::new(false),
            last_value: Atomic::new(0),
            last_value2: Atomic::new(0),
            skip_odd: false,
            returns_arg: false,
            data_mismatches: Atomic::new(0),
            seq: &SEQUENCE,
            turn: Atomic::new(0),
        }
    }
}

/// Per-call data: the first argument, as the entry saw it.
#[derive(pin_init::Zeroable)]
struct CallData {
    arg: usize,
    entered: bool,
}

#[vtable]
impl RetHandler for Returns {
    type Data = CallData;

    fn entry_handler(
        &self,
        _ctx: &HitContext<'_>,
        ri: &mut Instance<'_, CallData>,
        regs: &mut PtRegs,
    ) -> EntryAction {
        self.entries.add(1, Relaxed);
        if preemptible() {
            self.preemptible.store(true, Relaxed);
        }
        let arg = regs.arg(0).unwrap_or(0);
        if self.skip_odd && arg % 2 == 1 {
            return EntryAction::Skip;
        }
        *ri.data() = CallData { arg, entered: true };
        EntryAction::Hook
    }

    fn handler(&self, _ctx: &HitContext<'_>, ri: &mut Instance<'_, CallData>, regs: &mut PtRegs) {
        self.returns.add(1, Relaxed);
        if preemptible() {
            self.preemptible.store(true, Relaxed);
        }
        self.turn.store(self.seq.fetch_add(1, Relaxed) + 1, Relaxed);
        self.last_value.store(regs.return_value(), Relaxed);
        self.last_value2.store(regs.return_value2(), Relaxed);
        let real = ri.ret_addr();
        let d = ri.data();
        let own = d.entered && (!self.returns_arg || d.arg == regs.return_value());
        if !own || real != regs.ip() {
            self.data_mismatches.add(1, Relaxed);
        }
    }
}

fn kret(
    target: Target<'_>,
    maxactive: u32,
    h: Returns,
) -> core::result::Result<Pin<KBox<KretprobeRegistration<Returns>>>, CString> {
    KBox::pin_init(KretprobeRegistration::new(target, maxactive, h), GFP_KERNEL)
        .map_err(|e| fail(fmt!("register_kretprobe: {e:?}")))
}

/// `test_kretprobe`: entry and return handler, non-preemptible, in that order; the return
/// value is the function's.
fn kretprobe_basic() -> TestResult {
    let p = kret(Target::symbol(c"rkp_asm_mix"), 0, Returns::new())?;
    let v = mix(2);
    let h = p.handler();
    ensure!(
        v == 45,
        "rkp_asm_mix(2) returned {v} under a return probe, want 45"
    );
    ensure!(
        h.entries.load(Relaxed) == 1 && h.returns.load(Relaxed) == 1,
        "entries {} returns {}",
        h.entries.load(Relaxed),
        h.returns.load(Relaxed)
    );
    ensure!(
        h.last_value.load(Relaxed) == 45,
        "return handler saw {}, want 45",
        h.last_value.load(Relaxed)
    );
    ensure!(!h.preemptible.load(Relaxed), "a handler ran preemptible");
    ensure!(
        h.data_mismatches.load(Relaxed) == 0,
        "the return handler did not see the entry's data"
    );
    ensure!(p.maxactive() >= 10, "default maxactive {}", p.maxactive());
    Ok(())
}

/// Return probes go on a function's entry only: `sym+0` and, on IBT kernels, the instruction
/// after its ENDBR; `EINVAL` anywhere else (Linux's `kprobe_on_func_entry()`).
fn kretprobe_entry_only() -> TestResult {
    let at = |off: u32| {
        let t = Target::symbol(c"rkp_asm_mix").offset(off);
        errno_of(
            KBox::pin_init(KretprobeRegistration::new(t, 0, Returns::new()), GFP_KERNEL).map(drop),
        )
    };
    let after_endbr = if p_endbr(addr_of(rkp_asm_mix)) { 4 } else { 0 };
    ensure!(at(0) == 0, "sym+0: errno {}", at(0));
    ensure!(
        at(after_endbr) == 0,
        "sym+{after_endbr}: errno {}",
        at(after_endbr)
    );
    let inside = after_endbr + 1; // after `push %rbp`
    ensure!(
        at(inside) == EINVAL.to_errno(),
        "sym+{inside}: errno {}, want EINVAL",
        at(inside)
    );
    Ok(())
}

/// Values returned in rax and rdx (Rust pairs, `Option`, `Result` use both).
fn kretprobe_two_registers() -> TestResult {
    let p = kret(Target::symbol(c"rkp_asm_pair"), 0, Returns::new())?;
    // SAFETY: A plain function of its arguments.
    let r = unsafe { rkp_asm_pair(black_box(10), black_box(20)) };
    let h = p.handler();
    ensure!(
        r.a == 11 && r.b == 22,
        "returned ({}, {}), want (11, 22)",
        r.a,
        r.b
    );
    ensure!(
        h.last_value.load(Relaxed) == 11 && h.last_value2.load(Relaxed) == 22,
        "handler saw rax {} rdx {}",
        h.last_value.load(Relaxed),
        h.last_value2.load(Relaxed)
    );
    Ok(())
}

/// `maxactive` calls pending at most: deeper recursion counts in `nmissed`, exactly.
fn kretprobe_maxactive() -> TestResult {
    let p = kret(
        Target::symbol(c"rkp_selftest_depth"),
        2,
        Returns {
            returns_arg: true,
            ..Returns::new()
        },
    )?;
    let v = rkp_selftest_depth(black_box(4));
    let h = p.handler();
    let (entries, returns, missed) = (p.nhit(), h.returns.load(Relaxed), p.nmissed());
    ensure!(v == 4, "returned {v}");
    ensure!(
        entries == 5 && returns == 2 && missed == 3,
        "entries {entries}, returns {returns}, missed {missed}; want 5 = 2 + 3"
    );
    ensure!(
        h.data_mismatches.load(Relaxed) == 0,
        "a call saw another call's data"
    );
    Ok(())
}

/// An entry handler that skips a call leaves it unhooked; the others return through the
/// handler with their own data.
fn kretprobe_entry_skip() -> TestResult {
    let p = kret(
        Target::symbol(c"rkp_asm_mix"),
        0,
        Returns {
            skip_odd: true,
            ..Returns::new()
        },
    )?;
    for x in 0..6 {
        ensure!(
            mix(x) == mix_unprobed(x),
            "rkp_asm_mix({x}) changed under the probe"
        );
    }
    let h = p.handler();
    ensure!(
        h.entries.load(Relaxed) == 6 && h.returns.load(Relaxed) == 3,
        "entries {} returns {}, want 6 and 3",
        h.entries.load(Relaxed),
        h.returns.load(Relaxed)
    );
    ensure!(
        h.data_mismatches.load(Relaxed) == 0,
        "a return saw data its entry did not store"
    );
    Ok(())
}

fn mix_unprobed(x: i64) -> i64 {
    let v = 40 + x;
    let v = if x & 1 == 1 { v * 2 } else { v + 3 };
    if v < 100 {
        v
    } else {
        v - 1
    }
}

/// Two return probes on one function: both handlers run, in the reverse order of their entry
/// handlers (entries run newest first, so the older probe hooks last and returns first, as
/// with Linux's rethook), and the caller gets the right value back at the right place.
fn kretprobe_two_on_one_function() -> TestResult {
    let older = kret(Target::symbol(c"rkp_asm_branches"), 0, Returns::new())?;
    let newer = kret(Target::symbol(c"rkp_asm_branches"), 0, Returns::new())?;
    let v = branches(3);
    ensure!(v == 12, "rkp_asm_branches(3) returned {v}, want 12");
    let (o, n) = (older.handler(), newer.handler());
    ensure!(
        o.returns.load(Relaxed) == 1 && n.returns.load(Relaxed) == 1,
        "returns {} and {}",
        o.returns.load(Relaxed),
        n.returns.load(Relaxed)
    );
    let (ot, nt) = (o.turn.load(Relaxed), n.turn.load(Relaxed));
    ensure!(
        nt == ot + 1,
        "return turns: newer {nt}, older {ot}; want older first"
    );
    ensure!(
        o.last_value.load(Relaxed) == 12 && n.last_value.load(Relaxed) == 12,
        "handlers saw the wrong value"
    );
    Ok(())
}

/// Recursion deeper than `maxactive` returns correctly at every level once unregistered, and
/// a return probe's list line says `r`.
fn kretprobe_unregistered_deep_recursion() -> TestResult {
    {
        let _p = kret(Target::symbol(c"rkp_selftest_depth"), 3, Returns::new())?;
        ensure!(
            rkp_selftest_depth(black_box(20)) == 20,
            "deep recursion under a return probe"
        );
    }
    ensure!(
        rkp_selftest_depth(black_box(20)) == 20,
        "deep recursion after unregistering"
    );
    Ok(())
}

/// `test_kretprobes`: two return probes registered as a batch, each seeing its own function's
/// return value.
fn kretprobes_batch() -> TestResult {
    let new = |t| {
        KBox::pin_init(
            KretprobeRegistration::new_unregistered(t, 0, Returns::new()),
            GFP_KERNEL,
        )
    };
    let a = new(Target::symbol(c"rkp_asm_mix")).map_err(|e| fail(fmt!("{e:?}")))?;
    let b = new(Target::symbol(c"rkp_asm_branches")).map_err(|e| fail(fmt!("{e:?}")))?;
    {
        let _batch = ReturnBatch::register(&[&*a, &*b])
            .map_err(|e| fail(fmt!("register_kretprobes: {e:?}")))?;
        let (x, y) = (mix(1), branches(3));
        ensure!(x == 82 && y == 12, "results {x} {y}");
        let (va, vb) = (
            a.handler().last_value.load(Relaxed),
            b.handler().last_value.load(Relaxed),
        );
        ensure!(
            va == 82 && vb == 12,
            "handlers saw {va} and {vb}, want 82 and 12"
        );
    }
    mix(1);
    ensure!(
        a.handler().returns.load(Relaxed) == 1,
        "a return probe fired after the batch was dropped"
    );
    Ok(())
}

extern "C" {
    fn stack_trace_save(store: *mut usize, size: u32, skipnr: u32) -> u32;
}

/// Takes a stack trace in the return handler.
struct TraceReturn {
    real: Atomic<usize>,
    ip_is_real: Atomic<bool>,
    in_trace: Atomic<bool>,
    depth: Atomic<usize>,
    last: Atomic<usize>,
}

#[vtable]
impl RetHandler for TraceReturn {
    type Data = ();

    fn handler(&self, _ctx: &HitContext<'_>, ri: &mut Instance<'_, ()>, regs: &mut PtRegs) {
        let mut trace = [0usize; 32];
        // SAFETY: `trace` has room for 32 entries.
        let n = unsafe { stack_trace_save(trace.as_mut_ptr(), trace.len() as u32, 0) } as usize;
        let real = ri.ret_addr();
        self.real.store(real, Relaxed);
        self.ip_is_real.store(regs.ip() == real, Relaxed);
        self.in_trace
            .store(trace[..n.min(32)].contains(&real), Relaxed);
    }
}

/// `test_stacktrace_on_kretprobe`: in the return handler the instruction pointer is already
/// the real return address, and a stack trace taken there contains it (not the trampoline).
fn kretprobe_stacktrace() -> TestResult {
    let h = TraceReturn {
        real: Atomic::new(0),
        ip_is_real: Atomic::new(false),
        in_trace: Atomic::new(false),
        depth: Atomic::new(0),
        last: Atomic::new(0),
    };
    let p = KBox::pin_init(
        KretprobeRegistration::new(Target::symbol(c"rkp_asm_mix"), 0, h),
        GFP_KERNEL,
    )
    .map_err(|e| fail(fmt!("{e:?}")))?;
    mix(2);
    let h = p.handler();
    let real = h.real.load(Relaxed);
    ensure!(real != 0, "the return handler did not run");
    ensure!(
        h.ip_is_real.load(Relaxed),
        "regs.ip() in the handler is not the real return address {real:#x}"
    );
    ensure!(
        h.in_trace.load(Relaxed),
        "the stack trace ({} entries, the last {:#x}) lacks the real return address {real:#x}",
        h.depth.load(Relaxed),
        h.last.load(Relaxed)
    );
    Ok(())
}

extern "C" {
    static rkp_selftest_ret_addrs: [usize; 2];
    fn rkp_selftest_outer(x: i32) -> i32;
}

/// The inner return handler of [`kretprobe_stacktrace_nested`]: whether its stack trace has
/// the inner call's return address immediately followed by the outer call's.
struct TraceNested {
    whole: Atomic<bool>,
    ran: Atomic<bool>,
}

#[vtable]
impl RetHandler for TraceNested {
    type Data = ();

    fn handler(&self, _ctx: &HitContext<'_>, _ri: &mut Instance<'_, ()>, _regs: &mut PtRegs) {
        let mut trace = [0usize; 32];
        // SAFETY: `trace` has room for 32 entries.
        let n = unsafe { stack_trace_save(trace.as_mut_ptr(), trace.len() as u32, 0) } as usize;
        // SAFETY: Written once, by the unprobed call before the probes were registered.
        let [inner, outer] = unsafe { core::ptr::read_volatile(&raw const rkp_selftest_ret_addrs) };
        let trace = &trace[..n.min(32)];
        let whole = trace.windows(2).any(|w| w == [inner, outer]);
        self.whole.store(whole, Relaxed);
        self.ran.store(true, Relaxed);
    }
}

/// Calls the outer function, always from the same place.
#[inline(never)]
fn call_outer() -> i32 {
    // SAFETY: A plain C function.
    unsafe { rkp_selftest_outer(black_box(20)) }
}

/// Counts the outer function's returns.
struct CountReturns(Atomic<usize>);

#[vtable]
impl RetHandler for CountReturns {
    type Data = ();

    fn handler(&self, _ctx: &HitContext<'_>, _ri: &mut Instance<'_, ()>, _regs: &mut PtRegs) {
        self.0.add(1, Relaxed);
    }
}

/// `test_stacktrace_on_nested_kretprobe`: return probes on two nested functions; a stack
/// trace taken in the inner return handler, while the outer call is still hooked, has the
/// inner return address immediately followed by the outer one (with ftrace: the unwinder
/// recovers the function-graph tracer's return hook).
fn kretprobe_stacktrace_nested() -> TestResult {
    // Unprobed: the functions record their real return addresses.
    call_outer();
    let outer = KBox::pin_init(
        KretprobeRegistration::new(
            Target::symbol(c"rkp_selftest_outer"),
            0,
            CountReturns(Atomic::new(0)),
        ),
        GFP_KERNEL,
    )
    .map_err(|e| fail(fmt!("outer: {e:?}")))?;
    let inner = KBox::pin_init(
        KretprobeRegistration::new(
            Target::symbol(c"rkp_selftest_inner"),
            0,
            TraceNested {
                whole: Atomic::new(false),
                ran: Atomic::new(false),
            },
        ),
        GFP_KERNEL,
    )
    .map_err(|e| fail(fmt!("inner: {e:?}")))?;
    // Through ftrace the return probe sits at the function's ftrace site, before where an
    // entry kprobe goes; on rkprobes' trampoline the trace stops there.
    let entry = register(Target::symbol(c"rkp_selftest_inner"), Recorder::new())?;
    if inner.address() >= entry.address() {
        return Err(fail(fmt!(
            "{SKIP}return probes are on the trampoline here (no fprobe, or ftrace_returns=0)"
        )));
    }
    drop(entry);
    let v = call_outer();
    ensure!(v == 42, "the probed functions returned {v}, not 42");
    ensure!(
        inner.handler().ran.load(Relaxed),
        "the inner return handler did not run"
    );
    ensure!(
        outer.handler().0.load(Relaxed) == 1,
        "the outer return handler ran {} times, not once",
        outer.handler().0.load(Relaxed)
    );
    // SAFETY: As in the handler.
    let [i, o] = unsafe { core::ptr::read_volatile(&raw const rkp_selftest_ret_addrs) };
    ensure!(
        inner.handler().whole.load(Relaxed),
        "the inner handler's stack trace lacks {i:#x} followed by {o:#x}"
    );
    Ok(())
}

/// A batch whose second probe fails registers nothing: the first is rolled back.
fn batch_rollback() -> TestResult {
    let a = unregistered(Target::symbol(c"rkp_asm_mix"), Recorder::new())?;
    let b = unregistered(Target::symbol(c"rkp_no_such_symbol"), Recorder::new())?;
    match Batch::register(&[&*a, &*b]) {
        Ok(_) => return Err(fail(fmt!("a batch with an unknown symbol registered"))),
        Err(e) => ensure!(e == ENOENT, "batch error {e:?}, want ENOENT"),
    }
    mix(2);
    ensure!(
        a.handler().pre.load(Relaxed) == 0,
        "the first probe of the failed batch fired"
    );
    Ok(())
}

/// Out-of-line slots run out with `ENOMEM`, and come back when probes go. Disabled probes at
/// consecutive instructions of kernel text from `kernel_clone` on (a disabled probe takes its
/// slot but writes no breakpoint).
fn slots_run_out() -> TestResult {
    let anchor = register(Target::symbol(c"kernel_clone").disabled(), Recorder::new())?;
    let mut at = anchor.address();
    drop(anchor);
    let mut probes = KVec::new();
    let mut out_of_slots = false;
    for _ in 0..8000 {
        // SAFETY: Reading kernel text, which stays mapped.
        let bytes = unsafe { core::slice::from_raw_parts(at as *const u8, 15) };
        let len = decode::decode(bytes).map_or(1, |i| usize::from(i.len));
        match KBox::pin_init(
            Registration::new(Target::address(at).disabled(), Recorder::new()),
            GFP_KERNEL,
        ) {
            Ok(p) => probes.push(p, GFP_KERNEL).map_err(|_| fail(fmt!("oom")))?,
            Err(e) if e == ENOMEM => {
                out_of_slots = true;
                break;
            }
            Err(_) => {}
        }
        at += len;
    }
    let registered = probes.len();
    ensure!(out_of_slots, "no ENOMEM after {registered} probes");
    ensure!(
        registered >= 1024,
        "ENOMEM after only {registered} probes (1024 slots)"
    );
    drop(probes);
    let again = KBox::pin_init(
        Registration::new(Target::symbol(c"rkp_asm_mix"), Recorder::new()),
        GFP_KERNEL,
    );
    ensure!(
        again.is_ok(),
        "no slot after the probes were unregistered: {:?}",
        again.err()
    );
    pr_info!("# slots: ENOMEM after {registered} probes\n");
    Ok(())
}

/// Prints what registration and hits cost here (KTAP diagnostics, not tests).
fn report_costs() {
    use kernel::time::{Instant, Monotonic};
    const CALLS: i64 = 20000;
    let t = Instant::<Monotonic>::now();
    let by_symbol = KBox::pin_init(
        Registration::new(Target::symbol(c"rkp_asm_branches"), Recorder::new()),
        GFP_KERNEL,
    );
    let symbol_us = t.elapsed().as_nanos() / 1000;
    drop(by_symbol);
    let t = Instant::<Monotonic>::now();
    let by_address = KBox::pin_init(
        Registration::new(Target::address(addr_of(rkp_asm_branches)), Recorder::new()),
        GFP_KERNEL,
    );
    let address_us = t.elapsed().as_nanos() / 1000;
    let per_call = |n: i64| {
        let t = Instant::<Monotonic>::now();
        for _ in 0..n {
            branches(1);
        }
        t.elapsed().as_nanos() / n
    };
    let probed = per_call(CALLS);
    drop(by_address);
    let plain = per_call(CALLS);
    let hit = (probed - plain).max(1);
    pr_info!("# cost: registration by symbol {symbol_us} us, by address {address_us} us\n");
    pr_info!(
        "# cost: a hit (int3, slot, int3) {hit} ns, {} hits/s; the call itself {plain} ns\n",
        1_000_000_000 / hit
    );
}

extern "C" {
    // The raw ABI (rust/exports.rs), for what the safe API rules out.
    fn rkp_register_kprobes(ps: *const *mut abi::RawKprobe, num: kernel::ffi::c_int) -> i32;
    fn rkp_enable_kprobe(p: *mut abi::RawKprobe) -> i32;
    fn rkp_register_kretprobe(rp: *mut abi::RawKretprobe) -> i32;
}

/// Bad input through the raw ABI, which C-style clients use: Linux's errnos (and a log line
/// each, which the guest suite checks), never a crash.
fn raw_abi_errnos() -> TestResult {
    use abi::{RawKprobe, RawKretprobe};
    use kprobes::{rkp_register_kprobe, rkp_unregister_kprobe};
    // SAFETY: The probes passed are locals of this function (or null, which rkprobes
    // refuses) that outlive their registrations, all undone below; they have no handlers.
    let register = |p: *mut RawKprobe| unsafe { rkp_register_kprobe(p) };
    // SAFETY: As above.
    let unregister = |p: *mut RawKprobe| unsafe { rkp_unregister_kprobe(p) };
    // SAFETY: As above.
    let enable = |p: *mut RawKprobe| unsafe { rkp_enable_kprobe(p) };
    let mix = addr_of(rkp_asm_mix);
    let mut p = RawKprobe::zeroed();
    let neither = register(&mut p);
    p.symbol_name = c"rkp_asm_mix".as_char_ptr();
    p.addr = mix;
    let both = register(&mut p);
    p.symbol_name = core::ptr::null();
    p.addr = usize::MAX - 1;
    p.offset = 0x10;
    let overflow = register(&mut p);
    p.addr = mix;
    p.offset = 0;
    let first = register(&mut p);
    let twice = register(&mut p);
    unregister(&mut p);
    // Unregistering an unregistered probe does nothing.
    unregister(&mut p);
    let enable_unregistered = enable(&mut p);
    let null = register(core::ptr::null_mut());
    let one: *mut RawKprobe = &mut p;
    // SAFETY: An empty batch, refused before rkprobes reads it.
    let empty_batch = unsafe { rkp_register_kprobes(&one, 0) };
    let mut rp = RawKretprobe::zeroed();
    rp.kp.symbol_name = c"rkp_asm_mix".as_char_ptr();
    rp.data_size = 4097;
    // SAFETY: As for `register`; refused before it is registered.
    let big_data = unsafe { rkp_register_kretprobe(&mut rp) };
    let (einval, e2big) = (EINVAL.to_errno(), E2BIG.to_errno());
    let got = [
        neither,
        both,
        overflow,
        first,
        twice,
        enable_unregistered,
        null,
        empty_batch,
        big_data,
    ];
    let want = [
        einval, einval, einval, 0, einval, einval, einval, einval, e2big,
    ];
    ensure!(got == want, "errnos {got:?}, want {want:?}");
    ensure!(mix_is_plain(), "rkp_asm_mix still probed");
    Ok(())
}

/// Whether `rkp_asm_mix` starts as it does unprobed (no breakpoint left after its ENDBR).
fn mix_is_plain() -> bool {
    // SAFETY: Reading our own text.
    let first =
        unsafe { core::ptr::read_volatile((black_box(addr_of(rkp_asm_mix)) + 4) as *const u8) };
    first != 0xcc
}

/// A return handler that runs into a breakpoint rkprobes does not own.
struct HitsForeignInt3 {
    returns: Atomic<usize>,
}

#[vtable]
impl RetHandler for HitsForeignInt3 {
    type Data = ();

    fn handler(&self, _ctx: &HitContext<'_>, _ri: &mut Instance<'_, ()>, _regs: &mut PtRegs) {
        // SAFETY: A plain function of its argument; its breakpoint is handled by the
        // selftest's own die notifier.
        if unsafe { rkp_asm_foreign_int3(black_box(7)) } == 7 {
            self.returns.add(1, Relaxed);
        }
    }
}

/// A breakpoint trap while rkprobes runs a return handler, at an address it does not own,
/// goes on down the die chain (before: rkprobes read the probe of its return frame, which has
/// none, and crashed).
fn foreign_int3_in_return_handler() -> TestResult {
    // SAFETY: Registered here and unregistered below.
    kernel::error::to_result(unsafe { rkp_selftest_foreign_int3_hook(true) })
        .map_err(|e| fail(fmt!("register_die_notifier: {e:?}")))?;
    let result = (|| {
        let h = HitsForeignInt3 {
            returns: Atomic::new(0),
        };
        let p = KBox::pin_init(
            KretprobeRegistration::new(Target::symbol(c"rkp_asm_mix"), 0, h),
            GFP_KERNEL,
        )
        .map_err(|e| fail(fmt!("register_kretprobe: {e:?}")))?;
        let v = mix(2);
        ensure!(v == 45, "rkp_asm_mix(2) returned {v}");
        let returns = p.handler().returns.load(Relaxed);
        ensure!(returns == 1, "return handler completed {returns} times");
        Ok(())
    })();
    // SAFETY: Registered above.
    unsafe { rkp_selftest_foreign_int3_hook(false) };
    // SAFETY: No preconditions.
    let hits = unsafe { rkp_selftest_foreign_int3_hits() };
    result?;
    ensure!(hits == 1, "the owner saw {hits} traps");
    Ok(())
}

const TESTS: &[Test] = &[
    (
        "kprobe with pre- and post-handler, non-preemptible",
        kprobe_pre_post,
    ),
    (
        "the breakpoint goes in and the original bytes come back exactly",
        text_restored_exactly,
    ),
    (
        "post-handler sees the registers after the instruction",
        post_handler_sees_registers,
    ),
    ("batch of two", kprobes_batch),
    (
        "registered again, a probe stays at its address",
        rebatch_same_address,
    ),
    ("the target's name is copied", target_name_copied),
    ("nmissed counts both recursions", kprobe_missed),
    (
        "pre-handler changing ip skips the instruction",
        pre_handler_redirects,
    ),
    (
        "every boundary of rkp_asm_mix; EILSEQ elsewhere",
        every_boundary_mix,
    ),
    (
        "every boundary of rkp_asm_branches; EILSEQ elsewhere",
        every_boundary_branches,
    ),
    (
        "every boundary of rkp_asm_mix, boosted, interrupts on and off",
        every_boundary_mix_boosted,
    ),
    (
        "every boundary of rkp_asm_branches, boosted, interrupts on and off",
        every_boundary_branches_boosted,
    ),
    ("errno of every refusal", errnos),
    ("bad input through the raw ABI", raw_abi_errnos),
    ("enable and disable", enable_disable),
    ("aggregated probes run newest first", aggregated),
    ("a failed batch is rolled back", batch_rollback),
    (
        "kretprobe: entry and return handler, return value",
        kretprobe_basic,
    ),
    (
        "kretprobe: values returned in rax and rdx",
        kretprobe_two_registers,
    ),
    (
        "kretprobe: maxactive exhausted, entries = returns + missed",
        kretprobe_maxactive,
    ),
    (
        "kretprobe: an entry handler skips calls",
        kretprobe_entry_skip,
    ),
    (
        "kretprobe: two on one function",
        kretprobe_two_on_one_function,
    ),
    (
        "kretprobe: deep recursion, then unregistered",
        kretprobe_unregistered_deep_recursion,
    ),
    ("kretprobes: batch of two", kretprobes_batch),
    (
        "kretprobe: only at a function's entry",
        kretprobe_entry_only,
    ),
    (
        "kretprobe: stack trace in the return handler has the real return address",
        kretprobe_stacktrace,
    ),
    (
        "kretprobe: stack trace in a nested return handler is whole",
        kretprobe_stacktrace_nested,
    ),
    ("slots run out with ENOMEM and come back", slots_run_out),
    (
        "a probe alone at every boundary is optimized where a jump fits",
        optimized::every_boundary_optimized,
    ),
    (
        "a probe alone at every boundary of rkp_asm_mix and rkp_asm_branches, optimized where the optimizer can",
        optimized::every_boundary_alone_mix_branches,
    ),
    (
        "post-handlers, probes on its bytes and disabling unoptimize a probe",
        optimized::unoptimized_by_neighbours,
    ),
    (
        "a pre-handler redirects from an optimized probe",
        optimized::optimized_redirect,
    ),
    (
        "a branch into the replaced bytes keeps a breakpoint",
        optimized::jumped_into_stays_breakpoint,
    ),
    (
        "a stack trace in an optimized probe's handler goes on into its callers",
        optimized::optimized_stacktrace,
    ),
    (
        "a jump-label site in a module is refused; the key flips under probes",
        module_jump_label_site,
    ),
    (
        "an extable load in a module is refused; faults are still fixed up",
        module_extable_site,
    ),
    (
        "a breakpoint another notifier owns, hit in a return handler, is passed on",
        foreign_int3_in_return_handler,
    ),
];

struct RkpSelftest;

impl kernel::Module for RkpSelftest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        selftest::run(TESTS);
        report_costs();
        Ok(RkpSelftest)
    }
}
