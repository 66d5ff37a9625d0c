// SPDX-License-Identifier: GPL-2.0

//! In-kernel tests of rkprobes on arm64, printed as KTAP when the module loads: handler
//! semantics, a probe at every instruction of a function written to hold each class the
//! backend simulates (`rkp_selftest_arm64_targets.S`), Linux's refusals, the hardware
//! breakpoint registers running out, and return probes on a function that signs its return
//! address.

#[path = "../../rust/client/kprobes.rs"]
pub mod kprobes;

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

use kprobes::{
    Batch, Handler, HitContext, Instance, KretprobeRegistration, PreAction, PtRegs, Registration,
    RetHandler, Target,
};
use selftest::{
    addr_of, ensure, errno_of, fail, function_extent, register, unregistered, Test, TestResult,
};

module! {
    type: RkpSelftest,
    name: "rkp_selftest",
    authors: ["The rkprobes developers"],
    description: "rkprobes in-kernel tests (KTAP), arm64",
    license: "GPL",
}

extern "C" {
    fn rkp_a64_mix(x: i64) -> i64;
    fn rkp_a64_alt(x: i64) -> i64;
    fn rkp_a64_double(x: i64) -> i64;
    fn rkp_a64_refused(x: i64) -> i64;
    fn rkp_selftest_preemptible() -> bool;
    fn rkp_selftest_signed(x: i64) -> i64;
    fn rkp_selftest_leaf(x: i64) -> i64;
}

/// Breakpoint registers a test may take at once: QEMU's `-cpu max` has 6, real cores 2 to 16,
/// and the landing keeps one.
const AT_ONCE: usize = 4;

fn mix(x: i64) -> i64 {
    // SAFETY: A plain function of its argument (`rkp_selftest_arm64_targets.S`).
    unsafe { rkp_a64_mix(black_box(x)) }
}

/// `mix` of inputs that run every instruction of it, folded into one number.
fn mix_all() -> i64 {
    [0, 1, 2, 10].iter().fold(0, |acc, &x| acc * 1000 + mix(x))
}

/// The instruction at `addr` in this module's text.
fn word(addr: usize) -> u32 {
    // SAFETY: The tests only read this module's own functions.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

/// The offset of the first instruction in `func` (of `within` bytes) that `matches`.
fn offset_of(func: usize, within: usize, matches: impl Fn(u32) -> bool) -> Option<u32> {
    (0..within / 4)
        .map(|i| i * 4)
        .find(|&off| matches(word(func + off)))
        .map(|off| off as u32)
}

fn x(regs: &PtRegs, n: usize) -> u64 {
    // SAFETY: Both members of the union are plain `u64`s in the same layout.
    unsafe { regs.as_raw().__bindgen_anon_1.user_regs.regs[n] }
}

/// Counts hits and remembers what the handlers saw.
struct Recorder {
    pre: Atomic<usize>,
    post: Atomic<usize>,
    preemptible: Atomic<bool>,
    pre_ip: Atomic<usize>,
    post_ip: Atomic<usize>,
    post_x29_is_sp: Atomic<bool>,
    post_x30: Atomic<usize>,
    /// Where a pre-handler sends execution instead (0: nowhere).
    redirect: Atomic<usize>,
    /// Calls `rkp_selftest_leaf` (probed by another test probe) from the pre-handler.
    call_leaf: bool,
}

impl Recorder {
    fn new() -> Self {
        Self {
            pre: Atomic::new(0),
            post: Atomic::new(0),
            preemptible: Atomic::new(false),
            pre_ip: Atomic::new(0),
            post_ip: Atomic::new(0),
            post_x29_is_sp: Atomic::new(false),
            post_x30: Atomic::new(0),
            redirect: Atomic::new(0),
            call_leaf: false,
        }
    }
}

#[vtable]
impl Handler for Recorder {
    fn pre_handler(&self, _ctx: &HitContext<'_>, regs: &mut PtRegs) -> PreAction {
        self.pre.add(1, Relaxed);
        // SAFETY: No preconditions.
        if unsafe { rkp_selftest_preemptible() } {
            self.preemptible.store(true, Relaxed);
        }
        self.pre_ip.store(regs.ip(), Relaxed);
        if self.call_leaf {
            // SAFETY: A plain function of its argument.
            black_box(unsafe { rkp_selftest_leaf(black_box(1)) });
        }
        match self.redirect.load(Relaxed) {
            0 => PreAction::Continue,
            // SAFETY: The tests redirect the entry of `rkp_a64_mix` to `rkp_a64_alt`, which has
            // the same signature; x30 still holds the caller's return address.
            to => PreAction::Skip(unsafe { regs.set_ip(to) }),
        }
    }

    fn post_handler(&self, _ctx: &HitContext<'_>, regs: &mut PtRegs) {
        self.post.add(1, Relaxed);
        // SAFETY: No preconditions.
        if unsafe { rkp_selftest_preemptible() } {
            self.preemptible.store(true, Relaxed);
        }
        self.post_ip.store(regs.ip(), Relaxed);
        self.post_x29_is_sp
            .store(x(regs, 29) == regs.sp() as u64, Relaxed);
        self.post_x30.store(x(regs, 30) as usize, Relaxed);
    }
}

/// `test_kprobe`: pre- and post-handler at a function's entry, not preemptible; a hardware
/// breakpoint traps before the instruction, so the pre-handler sees the probe address and
/// the post-handler the next instruction.
fn kprobe_pre_post() -> TestResult {
    let p = register(Target::symbol(c"rkp_a64_mix"), Recorder::new())?;
    let v = mix(2);
    let h = p.handler();
    ensure!(v == -1, "rkp_a64_mix(2) returned {v}, want -1");
    ensure!(
        h.pre.load(Relaxed) == 1 && h.post.load(Relaxed) == 1,
        "pre {} post {} calls",
        h.pre.load(Relaxed),
        h.post.load(Relaxed)
    );
    ensure!(!h.preemptible.load(Relaxed), "a handler ran preemptible");
    let at = addr_of(rkp_a64_mix);
    ensure!(
        p.address() == at,
        "probe at {:#x}, want {at:#x}",
        p.address()
    );
    ensure!(
        h.pre_ip.load(Relaxed) == at && h.post_ip.load(Relaxed) == at + 4,
        "pre ip {:#x}, post ip {:#x}, probe at {at:#x}",
        h.pre_ip.load(Relaxed),
        h.post_ip.load(Relaxed)
    );
    ensure!(
        p.nhit() == 1 && p.nmissed() == 0,
        "nhit {} nmissed {}",
        p.nhit(),
        p.nmissed()
    );
    Ok(())
}

/// The post-handler sees the registers the instruction left (`mov x29, sp`, run out of line).
fn post_handler_sees_registers() -> TestResult {
    let off = offset_of(addr_of(rkp_a64_mix), 64, |i| i == 0x9100_03fd)
        .ok_or_else(|| fail(fmt!("no mov x29, sp")))?;
    let p = register(Target::symbol(c"rkp_a64_mix").offset(off), Recorder::new())?;
    let v = mix(10);
    let h = p.handler();
    ensure!(v == 107, "rkp_a64_mix(10) returned {v}, want 107");
    ensure!(
        h.post.load(Relaxed) == 1,
        "post-handler ran {} times",
        h.post.load(Relaxed)
    );
    ensure!(
        h.post_x29_is_sp.load(Relaxed),
        "post-handler: x29 != sp after mov x29, sp"
    );
    Ok(())
}

/// A simulated `bl`: the post-handler sees the branch taken and the link register set.
fn simulated_call() -> TestResult {
    // bl rkp_a64_double: 0x94000000 | imm26; find it by its opcode bits.
    let func = addr_of(rkp_a64_mix);
    let off = offset_of(func, 256, |i| i & 0xfc00_0000 == 0x9400_0000)
        .ok_or_else(|| fail(fmt!("no bl")))?;
    let p = register(Target::symbol(c"rkp_a64_mix").offset(off), Recorder::new())?;
    let v = mix(1);
    let h = p.handler();
    ensure!(v == -8, "rkp_a64_mix(1) returned {v}, want -8");
    let (ip, lr) = (h.post_ip.load(Relaxed), h.post_x30.load(Relaxed));
    ensure!(
        ip == addr_of(rkp_a64_double) && lr == p.address() + 4,
        "after bl: pc {ip:#x} x30 {lr:#x}, want {:#x} and {:#x}",
        addr_of(rkp_a64_double),
        p.address() + 4
    );
    Ok(())
}

/// A pre-handler that moves the PC skips the instruction and the post-handler.
fn pre_handler_redirects() -> TestResult {
    let r = Recorder::new();
    r.redirect.store(addr_of(rkp_a64_alt), Relaxed);
    let p = register(Target::symbol(c"rkp_a64_mix"), r)?;
    let v = mix(5);
    ensure!(
        v == 6,
        "rkp_a64_mix(5) returned {v}, want rkp_a64_alt(5) = 6"
    );
    ensure!(p.handler().post.load(Relaxed) == 0, "the post-handler ran");
    Ok(())
}

/// A probe at every word of `rkp_a64_mix` (misaligned offsets: `EINVAL`), armed
/// [`AT_ONCE`] at a time: with each group armed the results are those of the unprobed
/// function, and every probe up to the final `ret` fires.
fn every_instruction() -> TestResult {
    let want = mix_all();
    let func = addr_of(rkp_a64_mix);
    let (start, size) = function_extent(func).ok_or_else(|| fail(fmt!("no symbol")))?;
    let mut probes = KVec::new();
    // Every word, and the misaligned offsets of the first two (each registration reads
    // kallsyms: all of them would take minutes under TCG).
    for off in (0..size as u32).filter(|&off| off % 4 == 0 || off < 8) {
        let r = KBox::pin_init(
            Registration::new(
                Target::symbol(c"rkp_a64_mix").offset(off).disabled(),
                Recorder::new(),
            ),
            GFP_KERNEL,
        );
        match r {
            Ok(p) if off % 4 == 0 => probes.push(p, GFP_KERNEL).map_err(|_| fail(fmt!("oom")))?,
            Err(e) if off % 4 != 0 && e == EINVAL => {}
            Ok(_) => return Err(fail(fmt!("+{off:#x} is misaligned but registered"))),
            Err(e) => return Err(fail(fmt!("+{off:#x}: {e:?}"))),
        }
    }
    for group in probes.chunks_mut(AT_ONCE) {
        for p in group.iter_mut() {
            p.as_mut()
                .enable()
                .map_err(|e| fail(fmt!("enable: {e:?}")))?;
        }
        let got = mix_all();
        for p in group.iter_mut() {
            p.as_mut()
                .disable()
                .map_err(|e| fail(fmt!("disable: {e:?}")))?;
        }
        ensure!(
            got == want,
            "with probes at +{:#x}..: {got}, unprobed {want}",
            group[0].address() - start
        );
    }
    // The last `ret` ends the code; padding after it never runs.
    let code_end = (0..size / 4)
        .rev()
        .map(|i| start + 4 * i)
        .find(|&a| word(a) == 0xd65f_03c0)
        .unwrap_or(start + size);
    for p in probes.iter().filter(|p| p.address() <= code_end) {
        ensure!(
            p.nhit() > 0,
            "probe at +{:#x} never fired",
            p.address() - start
        );
    }
    Ok(())
}

/// Linux's arm64 refusals, each `EINVAL`: exclusive loads and stores and what lies between
/// them, writes to `DAIF`, reads of it, hints that may trap (`autiasp`), `brk`.
fn refusals() -> TestResult {
    // `SYM_FUNC_START` puts a `bti c` first on 7.3.
    let base = if word(addr_of(rkp_a64_refused)) == 0xd503_245f {
        4
    } else {
        0
    };
    let reg = |off: u32| {
        errno_of(
            KBox::pin_init(
                Registration::new(
                    Target::symbol(c"rkp_a64_refused").offset(base + off),
                    Recorder::new(),
                ),
                GFP_KERNEL,
            )
            .map(drop),
        )
    };
    let einval = EINVAL.to_errno();
    for (off, what) in [
        (0, "ldxr"),
        (4, "an add inside ldxr/stxr"),
        (8, "stxr"),
        (12, "msr daifset"),
        (16, "mrs daif"),
        (20, "autiasp"),
        (24, "brk"),
    ] {
        let e = reg(off);
        ensure!(e == einval, "{what} at +{off}: errno {e}, want {einval}");
    }
    let e = reg(28);
    ensure!(e == 0, "ret at +28: errno {e}");
    Ok(())
}

/// Arming takes a hardware breakpoint register on every CPU: when none is left, registration
/// fails with `ENOSPC` (and says so), and succeeds again once one is given back.
fn breakpoints_run_out() -> TestResult {
    let mut probes = KVec::new();
    let mut off = 0;
    let err = loop {
        ensure!(off < 64 * 4, "64 probes armed and no ENOSPC");
        match KBox::pin_init(
            Registration::new(Target::symbol(c"rkp_a64_mix").offset(off), Recorder::new()),
            GFP_KERNEL,
        ) {
            Ok(p) => probes.push(p, GFP_KERNEL).map_err(|_| fail(fmt!("oom")))?,
            Err(e) => break e,
        }
        off += 4;
    };
    ensure!(
        err == ENOSPC,
        "after {} probes: {err:?}, want ENOSPC",
        probes.len()
    );
    ensure!(
        !probes.is_empty(),
        "not a single breakpoint register was free"
    );
    let armed = probes.len();
    probes.pop();
    let again = register(Target::symbol(c"rkp_a64_mix").offset(off), Recorder::new());
    ensure!(
        again.is_ok(),
        "no register came back after one probe was unregistered"
    );
    ensure!(mix(2) == -1, "rkp_a64_mix(2) wrong with {armed} probes");
    Ok(())
}

/// The CPU masks debug exceptions while it handles one: a probe hit from a handler does not
/// trap (Linux would count it missed; here it cannot be seen at all).
fn probe_in_handler_does_not_trap() -> TestResult {
    let leaf = register(Target::symbol(c"rkp_selftest_leaf"), Recorder::new())?;
    let mut r = Recorder::new();
    r.call_leaf = true;
    let outer = register(Target::symbol(c"rkp_a64_double"), r)?;
    // SAFETY: A plain function of its argument.
    let v = unsafe { rkp_a64_double(black_box(21)) };
    ensure!(v == 42, "rkp_a64_double(21) returned {v}");
    ensure!(outer.nhit() == 1, "outer probe hit {} times", outer.nhit());
    ensure!(
        leaf.nhit() == 0 && leaf.nmissed() == 0,
        "the probe in the handler: nhit {} nmissed {}",
        leaf.nhit(),
        leaf.nmissed()
    );
    // SAFETY: As above.
    let direct = unsafe { rkp_selftest_leaf(black_box(2)) };
    ensure!(
        direct == 6 && leaf.nhit() == 1,
        "called directly: {direct}, nhit {}",
        leaf.nhit()
    );
    Ok(())
}

/// `test_kprobes`: two probes registered as a batch (`bl` simulated, `add` out of line), each
/// firing its own handlers, then unregistered together.
fn kprobes_batch() -> TestResult {
    let a = unregistered(Target::symbol(c"rkp_a64_mix"), Recorder::new())?;
    let b = unregistered(Target::symbol(c"rkp_a64_double"), Recorder::new())?;
    {
        let _batch =
            Batch::register(&[&*a, &*b]).map_err(|e| fail(fmt!("register_kprobes: {e:?}")))?;
        let v = mix(1);
        ensure!(v == -8, "rkp_a64_mix(1) returned {v}, want -8");
        let (pa, pb) = (a.handler().pre.load(Relaxed), b.handler().pre.load(Relaxed));
        // rkp_a64_mix(1) calls rkp_a64_double twice (bl, then blr).
        ensure!(
            pa == 1 && pb == 2,
            "pre-handlers ran {pa} and {pb} times, want 1 and 2"
        );
        ensure!(
            a.handler().post.load(Relaxed) == 1,
            "first: no post-handler"
        );
    }
    mix(1);
    ensure!(
        a.handler().pre.load(Relaxed) == 1 && b.handler().pre.load(Relaxed) == 2,
        "a probe fired after the batch was unregistered"
    );
    Ok(())
}

/// Records what return probes saw.
struct Returns {
    entries: Atomic<usize>,
    returns: Atomic<usize>,
    value: Atomic<usize>,
}

#[vtable]
impl RetHandler for Returns {
    type Data = ();

    fn entry_handler(
        &self,
        _ctx: &HitContext<'_>,
        _ri: &mut Instance<'_, ()>,
        _regs: &mut PtRegs,
    ) -> kprobes::EntryAction {
        self.entries.add(1, Relaxed);
        kprobes::EntryAction::Hook
    }

    fn handler(&self, _ctx: &HitContext<'_>, _ri: &mut Instance<'_, ()>, regs: &mut PtRegs) {
        self.returns.add(1, Relaxed);
        self.value.store(regs.return_value(), Relaxed);
    }
}

fn kret(
    target: Target<'_>,
) -> core::result::Result<Pin<KBox<KretprobeRegistration<Returns>>>, CString> {
    let h = Returns {
        entries: Atomic::new(0),
        returns: Atomic::new(0),
        value: Atomic::new(0),
    };
    KBox::pin_init(KretprobeRegistration::new(target, 0, h), GFP_KERNEL)
        .map_err(|e| fail(fmt!("register_kretprobe: {e:?}")))
}

/// A return probe on a function that signs its return address (`paciasp` at its entry,
/// after ftrace's instructions, on kernels with pointer authentication): hooked before the
/// signing, the function authenticates the
/// trampoline's address and returns through it with the right value.
fn kretprobe_signed() -> TestResult {
    let rp = kret(Target::symbol(c"rkp_selftest_signed"))?;
    // SAFETY: A plain function of its argument.
    let v = unsafe { rkp_selftest_signed(black_box(4)) };
    ensure!(v == 13, "rkp_selftest_signed(4) returned {v}, want 13");
    let h = rp.handler();
    ensure!(
        h.entries.load(Relaxed) == 1 && h.returns.load(Relaxed) == 1 && h.value.load(Relaxed) == 13,
        "entries {} returns {} value {}",
        h.entries.load(Relaxed),
        h.returns.load(Relaxed),
        h.value.load(Relaxed)
    );
    // After ftrace's two instructions, if the kernel has them.
    let first = word(rp.address());
    if cfg!(CONFIG_ARM64_PTR_AUTH_KERNEL) {
        ensure!(
            first == 0xd503_233f,
            "the return probe's instruction is {first:#010x}, not paciasp"
        );
    }
    Ok(())
}

/// A return probe on the simulation target, called many times: every entry returns.
fn kretprobe_many() -> TestResult {
    let rp = kret(Target::symbol(c"rkp_a64_mix"))?;
    let want = {
        let mut acc = 0i64;
        for i in 0..100 {
            acc = acc.wrapping_add(mix(i));
        }
        acc
    };
    let h = rp.handler();
    ensure!(
        h.entries.load(Relaxed) == 100 && h.returns.load(Relaxed) == 100 && rp.nmissed() == 0,
        "entries {} returns {} missed {}",
        h.entries.load(Relaxed),
        h.returns.load(Relaxed),
        rp.nmissed()
    );
    ensure!(want == 30537, "results add up to {want}, want 30537");
    Ok(())
}

const TESTS: &[Test] = &[
    (
        "kprobe with pre- and post-handler, non-preemptible",
        kprobe_pre_post,
    ),
    (
        "post-handler sees the registers after the instruction",
        post_handler_sees_registers,
    ),
    (
        "a simulated bl: post-handler sees the branch and the link",
        simulated_call,
    ),
    (
        "pre-handler changing the pc skips the instruction",
        pre_handler_redirects,
    ),
    ("batch of two", kprobes_batch),
    (
        "every instruction of rkp_a64_mix, each simulated class; EINVAL between",
        every_instruction,
    ),
    ("Linux's arm64 refusals", refusals),
    (
        "hardware breakpoints run out with ENOSPC and come back",
        breakpoints_run_out,
    ),
    (
        "a probe hit inside a handler does not trap",
        probe_in_handler_does_not_trap,
    ),
    (
        "kretprobe on a function that signs its return address",
        kretprobe_signed,
    ),
    ("kretprobe: 100 calls, 100 returns", kretprobe_many),
];

struct RkpSelftest;

impl kernel::Module for RkpSelftest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        selftest::run(TESTS);
        Ok(RkpSelftest)
    }
}
