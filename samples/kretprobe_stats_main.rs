// SPDX-License-Identifier: GPL-2.0

//! kretprobe_stats: how often a function succeeds and fails, and how long it takes.
//!
//! ```text
//! insmod rkprobes.ko
//! insmod kretprobe_stats.ko func=do_sys_openat2
//! cat /sys/kernel/debug/kretprobe_stats/stats
//! ```
//!
//! A return value whose low 32 bits are an errno (-4095..-1) counts as a failure, anything else
//! as a success. (Functions that return `int` define only `eax`: `rax` holds -2 as
//! 0x00000000fffffffe there, so the whole register cannot be read as a signed number.)
//!
//! ```text
//! function: do_sys_openat2
//! calls: 42
//! success: 39
//! failure: 3
//! missed: 0
//! latency_ns: min 2170 avg 30644 max 411212
//! ```

#[path = "../rust/client/kprobes.rs"]
pub mod kprobes;

mod func_param;

use kernel::{
    debugfs::Scope,
    fmt,
    prelude::*,
    str::CString,
    sync::atomic::{Atomic, Relaxed},
};

use kprobes::{
    EntryAction, HitContext, Instance, KretprobeRegistration, PtRegs, RetHandler, Target,
};

module! {
    type: KretprobeStats,
    name: "kretprobe_stats",
    authors: ["The rkprobes developers"],
    description: "rkprobes sample: success/failure counts and latency of a function",
    license: "GPL",
}

extern "C" {
    /// `kretprobe_stats_func.c`: the `func` parameter.
    fn kretprobe_stats_func() -> *const u8;
}

/// When the call was entered.
#[derive(pin_init::Zeroable)]
struct EntryStamp {
    ns: u64,
}

/// The counts, updated lock-free by the handlers.
struct Stats {
    func: CString,
    success: Atomic<u64>,
    failure: Atomic<u64>,
    total_ns: Atomic<u64>,
    min_ns: Atomic<u64>,
    max_ns: Atomic<u64>,
}

impl Stats {
    fn record_extreme(slot: &Atomic<u64>, v: u64, better: impl Fn(u64, u64) -> bool) {
        let mut cur = slot.load(Relaxed);
        while better(v, cur) {
            match slot.cmpxchg(cur, v, Relaxed) {
                Ok(_) => return,
                Err(now) => cur = now,
            }
        }
    }
}

#[vtable]
impl RetHandler for Stats {
    type Data = EntryStamp;

    fn entry_handler(
        &self,
        ctx: &HitContext<'_>,
        ri: &mut Instance<'_, EntryStamp>,
        _regs: &mut PtRegs,
    ) -> EntryAction {
        ri.data().ns = ctx.now_ns();
        EntryAction::Hook
    }

    fn handler(&self, ctx: &HitContext<'_>, ri: &mut Instance<'_, EntryStamp>, regs: &mut PtRegs) {
        let took = ctx.now_ns().saturating_sub(ri.data().ns);
        let low = regs.return_value_as::<i32>();
        if (-4095..0).contains(&low) {
            self.failure.add(1, Relaxed);
        } else {
            self.success.add(1, Relaxed);
        }
        self.total_ns.add(took, Relaxed);
        Self::record_extreme(&self.min_ns, took, |v, cur| v < cur);
        Self::record_extreme(&self.max_ns, took, |v, cur| v > cur);
    }
}

type Probe = Pin<KBox<KretprobeRegistration<Stats>>>;

fn show(probe: &Probe, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let s = probe.handler();
    let (ok, failed) = (s.success.load(Relaxed), s.failure.load(Relaxed));
    let calls = ok + failed;
    writeln!(f, "function: {}", s.func.to_str().unwrap_or("?"))?;
    writeln!(
        f,
        "calls: {calls}\nsuccess: {ok}\nfailure: {failed}\nmissed: {}",
        probe.nmissed()
    )?;
    let (min, max) = if calls == 0 {
        (0, 0)
    } else {
        (s.min_ns.load(Relaxed), s.max_ns.load(Relaxed))
    };
    let avg = s.total_ns.load(Relaxed).checked_div(calls).unwrap_or(0);
    writeln!(f, "latency_ns: min {min} avg {avg} max {max}")
}

struct KretprobeStats {
    _dir: Pin<KBox<Scope<Probe>>>,
}

impl kernel::Module for KretprobeStats {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let func = func_param::func(kretprobe_stats_func);
        let name = func.to_str().unwrap_or("?");
        let stats = Stats {
            func: CString::try_from(func)?,
            success: Atomic::new(0),
            failure: Atomic::new(0),
            total_ns: Atomic::new(0),
            min_ns: Atomic::new(u64::MAX),
            max_ns: Atomic::new(0),
        };
        let probe = KBox::pin_init(
            KretprobeRegistration::new(Target::symbol(func), 0, stats),
            GFP_KERNEL,
        )
        .inspect_err(|e| {
            pr_err!(
                "register_kretprobe failed for {name}, returned {}\n",
                e.to_errno()
            )
        })?;
        let dir = Scope::dir(Ok::<_, Error>(probe), c"kretprobe_stats", |probe, dir| {
            dir.read_callback_file(c"stats", probe, &show);
        });
        pr_info!("counting returns of {name}\n");
        Ok(Self {
            _dir: KBox::pin_init(dir, GFP_KERNEL)?,
        })
    }
}
