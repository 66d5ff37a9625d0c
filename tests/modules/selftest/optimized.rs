// SPDX-License-Identifier: GPL-2.0

//! Jump-optimized probes: which probes become jumps, what their handlers see, and what turns a
//! jump back into a breakpoint. A probe is a jump when its first byte is `jmp rel32`; the
//! optimizer runs a few ticks after a registration and waits for an RCU-tasks grace period,
//! so the tests wait for a canary probe to become a jump: the pass that optimized it also
//! decided on every probe registered before it.

use core::hint::black_box;

use kernel::{
    prelude::*,
    str::CString,
    sync::atomic::{Atomic, Relaxed},
};

use super::decode;
use super::kprobes::{Handler, HitContext, PreAction, PtRegs, Target};
use super::selftest::{addr_of, ensure, fail, function_extent, register, TestResult};
use super::{p_endbr, preemptible, rkp_asm_alt, rkp_asm_pair, stack_trace_save, Recorder};

/// A pre-handler only (probes with a post-handler are never optimized) that remembers what it
/// saw, and may redirect execution.
struct PreRecorder {
    pre: Atomic<usize>,
    pre_ip: Atomic<usize>,
    preemptible: Atomic<bool>,
    /// Where the pre-handler sends execution instead (0: nowhere).
    redirect: usize,
}

impl PreRecorder {
    fn new() -> Self {
        Self::redirecting(0)
    }

    fn redirecting(to: usize) -> Self {
        Self {
            pre: Atomic::new(0),
            pre_ip: Atomic::new(0),
            preemptible: Atomic::new(false),
            redirect: to,
        }
    }
}

#[vtable]
impl Handler for PreRecorder {
    fn pre_handler(&self, _ctx: &HitContext<'_>, regs: &mut PtRegs) -> PreAction {
        self.pre.add(1, Relaxed);
        self.pre_ip.store(regs.ip(), Relaxed);
        if preemptible() {
            self.preemptible.store(true, Relaxed);
        }
        match self.redirect {
            0 => PreAction::Continue,
            // SAFETY: The test redirects to the start of a function with the same signature
            // (`rkp_asm_alt`), at the entry of the probed one: the stack holds the return
            // address.
            to => PreAction::Skip(unsafe { regs.set_ip(to) }),
        }
    }
}

extern "C" {
    fn rkp_asm_straight(x: i64) -> i64;
    fn rkp_asm_jumped_into(x: i64) -> i64;
    static rkp_asm_straight_ret: u32;
    static rkp_asm_jumped_probe: u32;
}

const JMP_REL32: u8 = 0xe9;
const INT3: u8 = 0xcc;

fn straight(x: i64) -> i64 {
    // SAFETY: A plain function of its argument (`rkp_selftest_targets.S`).
    unsafe { rkp_asm_straight(black_box(x)) }
}

fn jumped_into(x: i64) -> i64 {
    // SAFETY: As above.
    unsafe { rkp_asm_jumped_into(black_box(x)) }
}

/// The first instruction of `func` after any `ENDBR`.
fn entry(func: usize) -> usize {
    // black_box: no relocation to `func+4`, which objtool would flag (no ENDBR there).
    let func = black_box(func);
    func + if p_endbr(func) { 4 } else { 0 }
}

fn byte(at: usize) -> u8 {
    // SAFETY: Reading a byte of our own text.
    unsafe { core::ptr::read_volatile(at as *const u8) }
}

fn text(at: usize) -> [u8; 32] {
    // SAFETY: Reading our own text (the functions are longer than 32 bytes with what follows).
    unsafe { core::ptr::read_volatile(at as *const [u8; 32]) }
}

/// Waits for an optimizer pass that started after this call: registers a canary probe that is
/// always optimized (`rkp_asm_pair`: two 4-byte `lea`s) and waits up to 10 s for its jump.
fn optimizer_pass() -> TestResult {
    let at = entry(rkp_asm_pair as *const () as usize);
    let canary = register(Target::address(at), PreRecorder::new())?;
    for _ in 0..1000 {
        if byte(at) == JMP_REL32 {
            drop(canary);
            return Ok(());
        }
        kernel::time::delay::fsleep(kernel::time::Delta::from_millis(10));
    }
    Err(fail(fmt!(
        "the canary at {at:#x} was not optimized in 10 s"
    )))
}

/// Registers a probe alone at each instruction boundary of `func` (up to `int3` padding), in
/// turn, and waits for the optimizer each time: `run` gives the unprobed results, the
/// pre-handler sees `ip` after the probe's breakpoint, and unregistering restores the text.
/// `expect` says, where it knows, whether a boundary must become a jump; `hits`, if known, how
/// many times `run` passes every boundary. Returns how many became jumps.
fn sweep_alone(
    func: usize,
    run: &dyn Fn() -> i64,
    hits: Option<usize>,
    expect: &dyn Fn(usize) -> Option<bool>,
) -> Result<usize, CString> {
    let (start, size) = function_extent(func).ok_or_else(|| fail(fmt!("no symbol")))?;
    let want = run();
    let before = text(start);
    let (mut at, mut optimized) = (entry(func), 0);
    while at < start + size && byte(at) != INT3 {
        // SAFETY: Reading our own text.
        let insn = decode::decode(unsafe { core::slice::from_raw_parts(at as *const u8, 15) })
            .map_err(|e| fail(fmt!("decode at {at:#x}: {e:?}")))?;
        let p = register(Target::address(at), PreRecorder::new())?;
        optimizer_pass()?;
        let jump = byte(at) == JMP_REL32;
        if let Some(e) = expect(at) {
            ensure!(
                jump == e,
                "+{:#x}: first byte {:#x}, want it {}optimized",
                at - start,
                byte(at),
                if e { "" } else { "not " }
            );
        }
        optimized += usize::from(jump);
        let got = run();
        ensure!(got == want, "+{:#x}: result {got}, want {want}", at - start);
        let h = p.handler();
        ensure!(
            hits.is_none_or(|n| p.nhit() == n && h.pre.load(Relaxed) == n),
            "+{:#x}: {} hits, want {hits:?}",
            at - start,
            p.nhit()
        );
        ensure!(
            p.nhit() == 0 || h.pre_ip.load(Relaxed) == at + 1,
            "+{:#x}: pre-handler ip {:#x}",
            at - start,
            h.pre_ip.load(Relaxed)
        );
        ensure!(!h.preemptible.load(Relaxed), "a handler ran preemptible");
        drop(p);
        let after = text(start);
        ensure!(
            after == before,
            "+{:#x}: text {after:02x?} after unregistering, was {before:02x?}",
            at - start
        );
        at += usize::from(insn.len);
    }
    Ok(optimized)
}

/// A probe alone at each instruction boundary of `rkp_asm_straight` becomes a jump exactly
/// where five bytes of instructions fit before the return (RIP-relative ones included), and
/// fires on every call.
pub(super) fn every_boundary_optimized() -> TestResult {
    let func = addr_of(rkp_asm_straight);
    let (start, _) = function_extent(func).ok_or_else(|| fail(fmt!("no symbol")))?;
    // SAFETY: A constant of `rkp_selftest_targets.S`.
    let ret = start + unsafe { rkp_asm_straight_ret } as usize;
    let run = || straight(1) * 1000 + straight(-7);
    let optimized = sweep_alone(func, &run, Some(2), &|at| Some(at + 5 <= ret))?;
    ensure!(optimized >= 5, "only {optimized} boundaries optimized");
    Ok(())
}

/// [`sweep_alone`] over the self-test's functions with branches, calls, `pushf`/`cli`/`popf`
/// and RIP-relative stores: results stay the unprobed ones wherever the optimizer decides to
/// jump, and it does somewhere in each.
pub(super) fn every_boundary_alone_mix_branches() -> TestResult {
    let mix = sweep_alone(
        addr_of(super::rkp_asm_mix),
        &|| super::run_mix(),
        None,
        &|_| None,
    )?;
    let branches = sweep_alone(
        addr_of(super::rkp_asm_branches),
        &|| super::run_branches(),
        None,
        &|_| None,
    )?;
    ensure!(
        mix > 0 && branches > 0,
        "optimized {mix} boundaries of rkp_asm_mix, {branches} of rkp_asm_branches"
    );
    pr_info!(
        "# optimized alone: {mix} boundaries of rkp_asm_mix, {branches} of rkp_asm_branches\n"
    );
    Ok(())
}

/// A post-handler, a probe on the bytes a jump replaced, and disabling each turn the jump back
/// into a breakpoint at once (or the original text); when they go, the optimizer makes it a
/// jump again.
pub(super) fn unoptimized_by_neighbours() -> TestResult {
    let start = entry(addr_of(rkp_asm_straight));
    // The `lea` (4 bytes), then the RIP-relative `add` (7 bytes): the jump replaces both.
    let (lea, add) = (start + 4, start + 8);
    let before = text(lea);
    let want = straight(2);
    let mut p = register(Target::address(lea), PreRecorder::new())?;
    let jump = |what: &str| -> TestResult {
        optimizer_pass()?;
        ensure!(byte(lea) == JMP_REL32, "no jump {what}");
        Ok(())
    };
    jump("at first")?;
    let run = |what: &str| -> TestResult {
        let v = straight(2);
        ensure!(v == want, "{what}: {v}, want {want}");
        Ok(())
    };

    let post = register(Target::address(lea), Recorder::new())?;
    ensure!(byte(lea) == INT3, "still a jump with a post-handler there");
    run("with a post-handler")?;
    ensure!(
        post.handler().post.load(Relaxed) == 1 && p.nhit() == 1,
        "post-handler calls {}, hits {}",
        post.handler().post.load(Relaxed),
        p.nhit()
    );
    drop(post);
    jump("after the post-handler went")?;

    let inner = register(Target::address(add), PreRecorder::new())?;
    ensure!(byte(lea) == INT3, "still a jump over a probe");
    run("with a probe on the replaced bytes")?;
    ensure!(
        inner.nhit() == 1 && p.nhit() == 2,
        "the probes did not both fire"
    );
    drop(inner);
    jump("after the probe on its bytes went")?;

    p.as_mut()
        .disable()
        .map_err(|e| fail(fmt!("disable: {e:?}")))?;
    ensure!(
        text(lea) == before,
        "disabled, the text is not the original"
    );
    run("disabled")?;
    p.as_mut()
        .enable()
        .map_err(|e| fail(fmt!("enable: {e:?}")))?;
    ensure!(byte(lea) == INT3, "enabled: no breakpoint");
    jump("after enabling")?;
    run("enabled")?;
    ensure!(p.nhit() == 3, "{} hits, want 3", p.nhit());
    drop(p);
    ensure!(text(lea) == before, "text not restored");
    Ok(())
}

/// A pre-handler that redirects execution works from a jump as from a breakpoint.
pub(super) fn optimized_redirect() -> TestResult {
    let at = entry(addr_of(rkp_asm_straight));
    let want = straight(2);
    let p = register(
        Target::address(at),
        PreRecorder::redirecting(addr_of(rkp_asm_alt)),
    )?;
    optimizer_pass()?;
    ensure!(byte(at) == JMP_REL32, "not optimized");
    let v = straight(2);
    ensure!(v == 1234, "returned {v}, want rkp_asm_alt's 1234");
    ensure!(
        p.handler().pre.load(Relaxed) == 1,
        "the pre-handler did not run once"
    );
    drop(p);
    let v = straight(2);
    ensure!(v == want, "after unregistering: {v}, want {want}");
    Ok(())
}

/// A branch into the bytes a jump would replace keeps the probe a breakpoint.
pub(super) fn jumped_into_stays_breakpoint() -> TestResult {
    let func = addr_of(rkp_asm_jumped_into);
    let (start, _) = function_extent(func).ok_or_else(|| fail(fmt!("no symbol")))?;
    // SAFETY: A constant of `rkp_selftest_targets.S`.
    let at = start + unsafe { rkp_asm_jumped_probe } as usize;
    let p = register(Target::address(at), PreRecorder::new())?;
    optimizer_pass()?;
    ensure!(byte(at) == INT3, "optimized: first byte {:#x}", byte(at));
    let got = (jumped_into(1), jumped_into(-1));
    ensure!(got == (4, 7), "results {got:?}, want (4, 7)");
    ensure!(p.nhit() == 1, "{} hits, want 1", p.nhit());
    Ok(())
}

/// Takes a stack trace in the pre-handler: where `ip` is in it, and how many entries follow.
struct TracePre {
    at: Atomic<usize>,
    after: Atomic<usize>,
}

#[vtable]
impl Handler for TracePre {
    fn pre_handler(&self, _ctx: &HitContext<'_>, regs: &mut PtRegs) -> PreAction {
        let mut trace = [0usize; 32];
        // SAFETY: `trace` has room for 32 entries.
        let n = unsafe { stack_trace_save(trace.as_mut_ptr(), trace.len() as u32, 0) } as usize;
        let trace = &trace[..n.min(32)];
        if let Some(i) = trace.iter().position(|&a| a == regs.ip()) {
            self.at.store(i + 1, Relaxed);
            self.after.store(trace.len() - i - 1, Relaxed);
        }
        PreAction::Continue
    }
}

/// A stack trace taken in an optimized probe's handler goes on through the probed function
/// (the detour's saved registers) into its callers, as from a breakpoint.
pub(super) fn optimized_stacktrace() -> TestResult {
    let at = entry(addr_of(rkp_asm_straight)) + 4;
    let h = TracePre {
        at: Atomic::new(0),
        after: Atomic::new(0),
    };
    let p = register(Target::address(at), h)?;
    optimizer_pass()?;
    ensure!(byte(at) == JMP_REL32, "not optimized");
    straight(3);
    let (i, after) = (
        p.handler().at.load(Relaxed),
        p.handler().after.load(Relaxed),
    );
    ensure!(i > 0, "the trace lacks the probed address {:#x}", at + 1);
    ensure!(
        after >= 2,
        "the trace stops {after} entries after the probed address"
    );
    Ok(())
}
