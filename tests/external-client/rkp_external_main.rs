// SPDX-License-Identifier: GPL-2.0

//! A client module built outside rkprobes' Kbuild: it compiles the client API file and links
//! against `rkprobes.ko` through `KBUILD_EXTRA_SYMBOLS`. It probes `kernel_clone` while loaded
//! and reports in KTAP (suite `external`): one result at load, one at unload.

#[path = "../../rust/client/kprobes.rs"]
pub mod kprobes;

use kernel::{
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
};

use kprobes::{Handler, HitContext, PreAction, PtRegs, Registration, Target};

module! {
    type: RkpExternal,
    name: "rkp_external",
    authors: ["The rkprobes developers"],
    description: "rkprobes client built out of tree",
    license: "GPL",
}

struct Forks {
    seen: Atomic<u64>,
}

#[vtable]
impl Handler for Forks {
    fn pre_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) -> PreAction {
        self.seen.add(1, Relaxed);
        PreAction::Continue
    }
}

struct RkpExternal {
    probe: Pin<KBox<Registration<Forks>>>,
}

impl kernel::Module for RkpExternal {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("# Subtest: external\n");
        pr_info!("1..2\n");
        let probe = KBox::pin_init(
            Registration::new(
                Target::symbol(c"kernel_clone"),
                Forks {
                    seen: Atomic::new(0),
                },
            ),
            GFP_KERNEL,
        )
        .inspect_err(|e| {
            pr_info!("not ok 1 probe kernel_clone from an out-of-tree module # {e:?}\n")
        })?;
        pr_info!("ok 1 probe kernel_clone from an out-of-tree module\n");
        Ok(Self { probe })
    }
}

impl Drop for RkpExternal {
    fn drop(&mut self) {
        let seen = self.probe.handler().seen.load(Relaxed);
        if seen > 0 {
            pr_info!("ok 2 it saw {seen} forks\n");
        } else {
            pr_info!("not ok 2 it saw no forks\n");
        }
    }
}
