// SPDX-License-Identifier: GPL-2.0

//! A client that leaks its registrations: it `mem::forget`s a kprobe on `kernel_clone` and a
//! return probe on `vfs_read` when loaded, and never unregisters them. Nothing in the safe
//! API stops that; rkprobes must unregister them when this module goes away, before its
//! handler text is freed, or the next hit calls into freed memory.

#[path = "../../rust/client/kprobes.rs"]
pub mod kprobes;

use kernel::{
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
};

use kprobes::{
    Handler, HitContext, Instance, KretprobeRegistration, PreAction, PtRegs, Registration,
    RetHandler, Target,
};

module! {
    type: RkpTestLeak,
    name: "rkp_test_leak",
    authors: ["The rkprobes developers"],
    description: "rkprobes test client that leaks its probes",
    license: "GPL",
}

/// Counts hits.
struct Count(Atomic<usize>);

#[vtable]
impl Handler for Count {
    fn pre_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) -> PreAction {
        self.0.add(1, Relaxed);
        PreAction::Continue
    }
}

#[vtable]
impl RetHandler for Count {
    type Data = ();

    fn handler(&self, _ctx: &HitContext<'_>, _ri: &mut Instance<'_, ()>, _regs: &mut PtRegs) {
        self.0.add(1, Relaxed);
    }
}

struct RkpTestLeak;

impl kernel::Module for RkpTestLeak {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let kprobe = KBox::pin_init(
            Registration::new(Target::symbol(c"kernel_clone"), Count(Atomic::new(0))),
            GFP_KERNEL,
        )?;
        let kretprobe = KBox::pin_init(
            KretprobeRegistration::new(Target::symbol(c"vfs_read"), 0, Count(Atomic::new(0))),
            GFP_KERNEL,
        )?;
        core::mem::forget(kprobe);
        core::mem::forget(kretprobe);
        Ok(RkpTestLeak)
    }
}
