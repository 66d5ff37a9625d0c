// SPDX-License-Identifier: GPL-2.0

//! kretprobe_example: Linux's `samples/kprobes/kretprobe_example.c` with rkprobes.
//!
//! ```text
//! insmod rkprobes.ko
//! insmod kretprobe_example.ko func=kernel_clone
//! ```
//!
//! Each call of `func` made by a user process (kernel threads are skipped, as in Linux's
//! sample) prints its return value and how long it took; unloading prints how many calls
//! were missed because 20 were already pending:
//!
//! ```text
//! kretprobe_example: kernel_clone returned 87 and took 1250340 ns to execute
//! kretprobe_example: Missed probing 0 instances of kernel_clone
//! ```

#[path = "../rust/client/kprobes.rs"]
pub mod kprobes;

mod func_param;

use kernel::{prelude::*, str::CString};

use kprobes::{
    EntryAction, HitContext, Instance, KretprobeRegistration, PtRegs, RetHandler, Target,
};

module! {
    type: KretprobeExample,
    name: "kretprobe_example",
    authors: ["The rkprobes developers"],
    description: "rkprobes sample: return values and execution times",
    license: "GPL",
}

extern "C" {
    /// `kretprobe_example_func.c`: the `func` parameter.
    fn kretprobe_example_func() -> *const u8;
}

/// When the call was entered.
#[derive(pin_init::Zeroable)]
struct EntryStamp {
    ns: u64,
}

struct TimeCalls {
    func: CString,
}

#[vtable]
impl RetHandler for TimeCalls {
    type Data = EntryStamp;

    fn entry_handler(
        &self,
        ctx: &HitContext<'_>,
        ri: &mut Instance<'_, EntryStamp>,
        _regs: &mut PtRegs,
    ) -> EntryAction {
        if kernel::current!().mm().is_none() {
            // Skip kernel threads.
            return EntryAction::Skip;
        }
        ri.data().ns = ctx.now_ns();
        EntryAction::Hook
    }

    fn handler(&self, ctx: &HitContext<'_>, ri: &mut Instance<'_, EntryStamp>, regs: &mut PtRegs) {
        let took = ctx.now_ns().saturating_sub(ri.data().ns);
        pr_info!(
            "{} returned {} and took {took} ns to execute\n",
            self.func.to_str().unwrap_or("?"),
            regs.return_value()
        );
    }
}

struct KretprobeExample {
    probe: Pin<KBox<KretprobeRegistration<TimeCalls>>>,
}

impl kernel::Module for KretprobeExample {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let func = func_param::func(kretprobe_example_func);
        let name = func.to_str().unwrap_or("?");
        let handler = TimeCalls {
            func: CString::try_from(func)?,
        };
        let probe = KBox::pin_init(
            KretprobeRegistration::new(Target::symbol(func), 20, handler),
            GFP_KERNEL,
        )
        .inspect_err(|e| {
            pr_err!(
                "register_kretprobe failed for {name}, returned {}\n",
                e.to_errno()
            )
        })?;
        pr_info!("Planted return probe at {name}: {:#x}\n", probe.address());
        Ok(Self { probe })
    }
}

impl Drop for KretprobeExample {
    fn drop(&mut self) {
        let h = self.probe.handler();
        let name = h.func.to_str().unwrap_or("?");
        pr_info!("kretprobe at {:#x} unregistered\n", self.probe.address());
        pr_info!(
            "Missed probing {} instances of {name}\n",
            self.probe.nmissed()
        );
    }
}
