// SPDX-License-Identifier: GPL-2.0

//! `make bench`: Linux's kprobes and rkprobes side by side, on the same targets, in one run.
//! Each row times a loop of calls with interrupts off (`rkp_bench_c.c`); under QEMU's
//! `-icount shift=0` a guest nanosecond is one guest instruction, so the figures are path
//! lengths. A row prints the cost per hit (the probed loop less the unprobed one, per call)
//! for each side and their ratio, rkprobes / Linux. Linux's column is empty on kernels
//! without `CONFIG_KPROBES`.
//!
//! `opt=1` asks for jump-optimized probes: the script sets Linux's
//! `/proc/sys/debug/kprobes-optimization` and loads rkprobes with `jump_optimization` to
//! match, and rkprobes' pre-handler rows wait for its optimizer; the rows say what each side
//! really did.

#[path = "../../rust/client/kprobes.rs"]
pub mod kprobes;

use core::fmt::Write;

use kernel::{prelude::*, str::CString};

use kprobes::{
    abi::RawKprobe, AsRaw, Batch, Handler, HitContext, Instance, KretprobeRegistration, PreAction,
    PtRegs, Registration, RetHandler, Target,
};

module! {
    type: RkpBench,
    name: "rkp_bench",
    authors: ["The rkprobes developers"],
    description: "rkprobes and Linux's kprobes side by side (path lengths)",
    license: "GPL",
    params: {
        opt: bool {
            default: false,
            description: "Linux's kprobes are jump-optimized in this run (rows are labelled so)",
        },
        event_run: bool {
            default: false,
            description: "Only time 1000 calls of rkp_bench_entry and print the guest nanoseconds ('bench-event: T'): scripts/bench-guest.sh defines probe events on it from the shell",
        },
    },
}

extern "C" {
    fn rkp_bench_entry(x: i64) -> i64;
    fn rkp_bench_asm(x: i64) -> i64;
    fn rkp_bench_sled(x: i64) -> i64;
    static rkp_bench_mid_offset: u32;
    static rkp_bench_sled_start: u32;
    static rkp_bench_far_funcs: [usize; 10];
    static rkp_bench_sled_step: u32;
    fn rkp_bench_run(f: unsafe extern "C" fn(i64) -> i64, n: u32) -> u64;
    fn rkp_bench_now() -> u64;
    fn rkp_bench_linux_kprobe(
        addr: usize,
        post: bool,
        wait_jump: bool,
        f: unsafe extern "C" fn(i64) -> i64,
        n: u32,
        ns: *mut u64,
    ) -> i64;
    fn rkp_bench_linux_kretprobe(
        f: unsafe extern "C" fn(i64) -> i64,
        wait_jump: bool,
        n: u32,
        ns: *mut u64,
    ) -> i64;
    fn rkp_bench_linux_register(
        addrs: *const usize,
        count: u32,
        batch: bool,
        reg_ns: *mut u64,
        unreg_ns: *mut u64,
    ) -> i64;
}

/// Calls per timed loop.
const CALLS: u32 = 1000;

type Target64 = unsafe extern "C" fn(i64) -> i64;

fn addr(f: Target64) -> usize {
    f as usize
}

fn run(f: Target64) -> u64 {
    // SAFETY: `f` is one of the benchmark's plain functions of their argument.
    unsafe { rkp_bench_run(f, CALLS) }
}

fn now() -> u64 {
    // SAFETY: No preconditions.
    unsafe { rkp_bench_now() }
}

/// A pre-handler that does nothing.
#[derive(Clone, Copy)]
struct Nop;

#[vtable]
impl Handler for Nop {
    fn pre_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) -> PreAction {
        PreAction::Continue
    }
}

/// A pre- and a post-handler that do nothing.
#[derive(Clone, Copy)]
struct NopPost;

#[vtable]
impl Handler for NopPost {
    fn pre_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) -> PreAction {
        PreAction::Continue
    }

    fn post_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) {}
}

/// A return handler that does nothing.
struct NopRet;

#[vtable]
impl RetHandler for NopRet {
    type Data = ();

    fn handler(&self, _ctx: &HitContext<'_>, _ri: &mut Instance<'_, ()>, _regs: &mut PtRegs) {}
}

/// A figure, or `-` where there is none; padded as asked.
struct Cell(Option<u64>);

impl kernel::fmt::Display for Cell {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(v) => {
                let mut buf = [0u8; 24];
                let mut w = Buf(&mut buf, 0);
                write!(w, "{v}")?;
                let n = w.1;
                f.pad(core::str::from_utf8(&buf[..n]).unwrap_or("?"))
            }
            None => f.pad("-"),
        }
    }
}

/// rkprobes / Linux, to two decimals; `-` without both.
struct Ratio(Option<u64>, Option<u64>);

impl kernel::fmt::Display for Ratio {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut buf = [0u8; 24];
        let mut w = Buf(&mut buf, 0);
        match (self.0, self.1) {
            (Some(l), Some(r)) if l > 0 => write!(w, "{}.{:02}x", r / l, (r % l) * 100 / l)?,
            _ => write!(w, "-")?,
        }
        let n = w.1;
        f.pad(core::str::from_utf8(&buf[..n]).unwrap_or("?"))
    }
}

/// A fixed buffer to format into.
struct Buf<'a>(&'a mut [u8], usize);

impl Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.1 + s.len();
        self.0
            .get_mut(self.1..end)
            .ok_or(core::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.1 = end;
        Ok(())
    }
}

/// One line of the table.
fn row(name: &str, linux: Option<u64>, rkprobes: Option<u64>, note: &str) {
    pr_info!(
        "bench: {name:<50} {:>10} {:>10} {:>7} {note}\n",
        Cell(linux),
        Cell(rkprobes),
        Ratio(linux, rkprobes)
    );
}

/// Instructions per call that a probe adds to `f`, from a loop time and the unprobed one.
fn per_hit(probed: u64, plain: u64) -> u64 {
    probed.saturating_sub(plain) / u64::from(CALLS)
}

/// Waits up to 3 s for rkprobes' optimizer to make the probe at `at` a jump (its first byte
/// `jmp rel32`), if this run asks for jump optimization (`opt`); says whether it is one.
fn wait_jump(at: usize) -> bool {
    // SAFETY: `at` is a probed instruction of the benchmark's text, mapped.
    let first = || unsafe { core::ptr::read_volatile(at as *const u8) };
    if !cfg!(CONFIG_X86_64) {
        return false;
    }
    // Only a breakpoint (not ftrace's site) may become a jump.
    if module_parameters::opt.value() && first() == 0xcc {
        for _ in 0..300 {
            if first() != 0xcc {
                break;
            }
            kernel::time::delay::fsleep(kernel::time::Delta::from_millis(10));
        }
    }
    first() == 0xe9
}

/// What each side did with a probe, for the row's note.
fn note(linux: Option<u64>, linux_jump: bool, rkprobes_jump: bool) -> &'static str {
    match (linux.is_some(), linux_jump, rkprobes_jump) {
        (true, true, true) => "both [OPTIMIZED]",
        (true, true, false) => "linux [OPTIMIZED]",
        (_, false, true) => "rkprobes [OPTIMIZED]",
        _ => "",
    }
}

/// Registers with `register`, again for up to a second while it fails with `EINVAL`: Linux
/// takes its optimized probe's jump out a few ticks after unregistering it, and until then
/// rkprobes refuses the address.
fn after_linux<T>(register: impl Fn() -> Result<T>) -> Result<T> {
    let mut tries = 0;
    loop {
        match register() {
            Err(e) if e == EINVAL && tries < 100 => {
                tries += 1;
                kernel::time::delay::fsleep(kernel::time::Delta::from_millis(10));
            }
            r => return r,
        }
    }
}

/// rkprobes: a kprobe with handler `h` at `at`, around the loop of `f`; says whether it was a
/// jump (see [`wait_jump`]).
fn rkprobes_kprobe<T: Handler + Copy>(
    at: usize,
    h: T,
    f: Target64,
    plain: u64,
) -> (Option<u64>, bool) {
    let Ok(p) =
        after_linux(|| KBox::pin_init(Registration::new(Target::address(at), h), GFP_KERNEL))
    else {
        return (None, false);
    };
    let jump = wait_jump(p.address());
    let t = run(f);
    drop(p);
    (Some(per_hit(t, plain)), jump)
}

/// Linux: a kprobe at `at` (with a post-handler if `post`) around the loop of `f`, and
/// whether Linux optimized it.
fn linux_kprobe(at: usize, post: bool, f: Target64, plain: u64) -> (Option<u64>, bool) {
    let mut ns = 0;
    let wait_jump = module_parameters::opt.value() && !post;
    // SAFETY: `ns` is valid for writes; `at` is an instruction of `f`.
    let r = unsafe { rkp_bench_linux_kprobe(at, post, wait_jump, f, CALLS, &mut ns) };
    if r < 0 {
        (None, false)
    } else {
        (Some(per_hit(ns, plain)), r == 1)
    }
}

/// NOPs per run (`.rept` in `rkp_bench_*.S`).
const RUN: usize = 1024;

/// `count` addresses in runs of NOPs, one per instruction: the first in `runs[0]`, the next
/// `RUN` in `runs[1]`, and so on.
fn nops(runs: &[usize], count: usize) -> Result<KVec<usize>> {
    if count > runs.len() * RUN {
        return Err(EINVAL);
    }
    // SAFETY: Constants of `rkp_bench_*.S`.
    let (start, step) = unsafe { (rkp_bench_sled_start, rkp_bench_sled_step) };
    let mut v = KVec::with_capacity(count, GFP_KERNEL)?;
    for i in 0..count {
        v.push(
            runs[i / RUN] + (start + step * (i % RUN) as u32) as usize,
            GFP_KERNEL,
        )?;
    }
    Ok(v)
}

/// `count` (at most 1024) addresses for the registration rows.
fn sled(count: usize) -> Result<KVec<usize>> {
    nops(&[addr(rkp_bench_sled)], count)
}

/// `count` (at most 10240) addresses for probes registered elsewhere.
fn far(count: usize) -> Result<KVec<usize>> {
    // SAFETY: A constant of `rkp_bench_*.S`.
    nops(unsafe { &rkp_bench_far_funcs }, count)
}

/// Where rkprobes registers the probes of the registration rows: on arm64 disabled, since
/// each armed address takes one of the CPU's few breakpoint registers.
fn sled_target(a: usize) -> Target<'static> {
    let t = Target::address(a);
    if cfg!(CONFIG_ARM64) {
        t.disabled()
    } else {
        t
    }
}

/// Probes at `addrs` (see [`sled_target`]), not registered yet.
fn unregistered(addrs: &[usize]) -> Result<KVec<Pin<KBox<Registration<Nop>>>>> {
    let mut probes = KVec::with_capacity(addrs.len(), GFP_KERNEL)?;
    for &a in addrs {
        probes.push(
            KBox::pin_init(
                Registration::new_unregistered(sled_target(a), Nop),
                GFP_KERNEL,
            )?,
            GFP_KERNEL,
        )?;
    }
    Ok(probes)
}

/// Registers `probes` in one batch.
fn batch(probes: &[Pin<KBox<Registration<Nop>>>]) -> Result<Batch<'_>> {
    let mut refs: KVec<&dyn AsRaw<RawKprobe>> = KVec::with_capacity(probes.len(), GFP_KERNEL)?;
    for p in probes.iter() {
        refs.push(&**p, GFP_KERNEL)?;
    }
    Batch::register(&refs)
}

/// rkprobes: the hit cost of a pre-handler probe at `at` while `others` more probes are
/// registered elsewhere.
fn rkprobes_kprobe_among(others: usize, at: usize, f: Target64, plain: u64) -> Result<u64> {
    let probes = unregistered(&far(others)?)?;
    let _batch = batch(&probes)?;
    rkprobes_kprobe(at, Nop, f, plain).0.ok_or(ENOMEM)
}

/// rkprobes: registering then unregistering probes at `addrs` (in one batch or one by one),
/// in guest nanoseconds.
fn rkprobes_register(addrs: &[usize], batch_of_all: bool) -> Result<(u64, u64)> {
    let t = now();
    if batch_of_all {
        let probes = unregistered(addrs)?;
        let b = batch(&probes)?;
        let reg = now() - t;
        let t = now();
        drop(b);
        return Ok((reg, now() - t));
    }
    let mut probes = KVec::with_capacity(addrs.len(), GFP_KERNEL)?;
    for &a in addrs {
        probes.push(
            KBox::pin_init(Registration::new(sled_target(a), Nop), GFP_KERNEL)?,
            GFP_KERNEL,
        )?;
    }
    let reg = now() - t;
    let t = now();
    drop(probes);
    Ok((reg, now() - t))
}

fn linux_register(addrs: &[usize], batch: bool) -> Option<(u64, u64)> {
    let (mut reg, mut unreg) = (0, 0);
    // SAFETY: `addrs` holds `len` addresses; the outputs are valid for writes.
    let r = unsafe {
        rkp_bench_linux_register(
            addrs.as_ptr(),
            addrs.len() as u32,
            batch,
            &mut reg,
            &mut unreg,
        )
    };
    (r == 0).then_some((reg, unreg))
}

/// Prints the row of a return probe on `f`, by Linux and by rkprobes (fprobe or the
/// trampoline, as `f` has an ftrace site or not).
fn kretprobe_row(label: &str, f: Target64, plain: u64) {
    let mut ns = 0;
    let opt = module_parameters::opt.value();
    // SAFETY: `ns` is valid for writes.
    let lr = unsafe { rkp_bench_linux_kretprobe(f, opt, CALLS, &mut ns) };
    let l = (lr >= 0).then(|| per_hit(ns, plain));
    let r = after_linux(|| {
        KBox::pin_init(
            KretprobeRegistration::new(Target::address(addr(f)), 0, NopRet),
            GFP_KERNEL,
        )
    })
    .ok()
    .map(|rp| {
        // On the trampoline route the entry is a probe, which may be a jump.
        let jump = wait_jump(rp.address());
        let t = run(f);
        drop(rp);
        (per_hit(t, plain), jump)
    });
    let n = note(l, lr == 1, r.is_some_and(|r| r.1));
    row(label, l, r.map(|r| r.0), n);
}

struct RkpBench;

impl kernel::Module for RkpBench {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if module_parameters::event_run.value() {
            pr_info!("bench-event: {}\n", run(rkp_bench_entry));
            return Ok(RkpBench);
        }
        let opt = module_parameters::opt.value();
        // SAFETY: A constant of `rkp_bench_*.S`.
        let mid = addr(rkp_bench_asm) + unsafe { rkp_bench_mid_offset } as usize;
        let (plain_entry, plain_asm) = (run(rkp_bench_entry), run(rkp_bench_asm));
        pr_info!(
            "bench: {:<50} {:>10} {:>10} {:>7}\n",
            "instructions per hit (1000 calls)",
            "linux",
            "rkprobes",
            "ratio"
        );
        row(
            "an unprobed call (the loop's own cost)",
            None,
            Some(plain_asm / u64::from(CALLS)),
            "",
        );
        pr_info!(
            "bench: jump optimization {}\n",
            if opt { "on" } else { "off" }
        );
        let (l, o) = linux_kprobe(mid, false, rkp_bench_asm, plain_asm);
        let (r, j) = rkprobes_kprobe(mid, Nop, rkp_bench_asm, plain_asm);
        row("kprobe, pre-handler, mid-function", l, r, note(l, o, j));
        let (l, _) = linux_kprobe(mid, true, rkp_bench_asm, plain_asm);
        row(
            "kprobe, pre- and post-handler, mid-function",
            l,
            rkprobes_kprobe(mid, NopPost, rkp_bench_asm, plain_asm).0,
            "",
        );
        let entry = addr(rkp_bench_entry);
        let (l, o) = linux_kprobe(entry, false, rkp_bench_entry, plain_entry);
        let (r, j) = rkprobes_kprobe(entry, Nop, rkp_bench_entry, plain_entry);
        row(
            "kprobe, pre-handler, function entry (ftrace site)",
            l,
            r,
            note(l, o, j),
        );
        kretprobe_row(
            "kretprobe, entry and return (ftrace site)",
            rkp_bench_entry,
            plain_entry,
        );
        kretprobe_row(
            "kretprobe, entry and return (no ftrace site)",
            rkp_bench_asm,
            plain_asm,
        );
        pr_info!(
            "bench: {:<50} {:>10} {:>10} {:>7}\n",
            "guest microseconds to register / unregister",
            "linux",
            "rkprobes",
            "ratio"
        );
        for count in [1usize, 100, 1000] {
            let addrs = sled(count)?;
            for batch in [false, true] {
                let how = if batch { "one batch" } else { "one by one" };
                let l = linux_register(&addrs, batch);
                let r = rkprobes_register(&addrs, batch).ok();
                let name = CString::try_from_fmt(fmt!("register {count} probes, {how}"))?;
                // On arm64 armed probes need breakpoint registers: the rows register disabled.
                let note = if cfg!(CONFIG_ARM64) {
                    "rkprobes: disabled"
                } else {
                    ""
                };
                row(
                    name.to_str()?,
                    l.map(|x| x.0 / 1000),
                    r.map(|x| x.0 / 1000),
                    note,
                );
                let name = CString::try_from_fmt(fmt!("unregister {count} probes, {how}"))?;
                row(
                    name.to_str()?,
                    l.map(|x| x.1 / 1000),
                    r.map(|x| x.1 / 1000),
                    "",
                );
            }
        }
        pr_info!(
            "bench: {:<50} {:>10} {:>10} {:>7}\n",
            "rkprobes: instructions per hit, others registered",
            "one probe",
            "with them",
            "ratio"
        );
        let (alone, _) = rkprobes_kprobe(mid, Nop, rkp_bench_asm, plain_asm);
        for others in [100usize, 10000] {
            let with = rkprobes_kprobe_among(others, mid, rkp_bench_asm, plain_asm).ok();
            let name =
                CString::try_from_fmt(fmt!("kprobe, pre-handler, mid-function, {others} others"))?;
            row(name.to_str()?, alone, with, "");
        }
        Ok(RkpBench)
    }
}
