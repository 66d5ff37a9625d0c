// SPDX-License-Identifier: GPL-2.0

//! kprobe_example: Linux's `samples/kprobes/kprobe_example.c` with rkprobes.
//!
//! ```text
//! insmod rkprobes.ko
//! insmod kprobe_example.ko func=kernel_clone
//! ```
//!
//! Every call of `func` then prints, before and after its first instruction:
//!
//! ```text
//! kprobe_example: <kernel_clone> p->addr = 0xffffffff81039ff2, ip = ffffffff81039ff3, flags = 0x246
//! kprobe_example: <kernel_clone> p->addr = 0xffffffff81039ff2, flags = 0x246
//! ```

#[path = "../rust/client/kprobes.rs"]
pub mod kprobes;

mod func_param;

use kernel::{prelude::*, str::CString};

use kprobes::{Handler, HitContext, PreAction, PtRegs, Registration, Target};

module! {
    type: KprobeExample,
    name: "kprobe_example",
    authors: ["The rkprobes developers"],
    description: "rkprobes sample: a kprobe that prints the probe point",
    license: "GPL",
}

extern "C" {
    /// `kprobe_example_func.c`: the `func` parameter.
    fn kprobe_example_func() -> *const u8;
}

/// Prints the probe point, the instruction pointer and the flags on every hit.
struct PrintHit {
    func: CString,
}

impl PrintHit {
    fn name(&self) -> &str {
        self.func.to_str().unwrap_or("?")
    }
}

#[vtable]
impl Handler for PrintHit {
    fn pre_handler(&self, ctx: &HitContext<'_>, regs: &mut PtRegs) -> PreAction {
        let addr = ctx.address();
        pr_info!(
            "<{}> p->addr = {addr:#x}, ip = {:x}, flags = {:#x}\n",
            self.name(),
            regs.ip(),
            regs.flags()
        );
        PreAction::Continue
    }

    fn post_handler(&self, ctx: &HitContext<'_>, regs: &mut PtRegs) {
        let addr = ctx.address();
        pr_info!(
            "<{}> p->addr = {addr:#x}, flags = {:#x}\n",
            self.name(),
            regs.flags()
        );
    }
}

struct KprobeExample {
    probe: Pin<KBox<Registration<PrintHit>>>,
}

impl kernel::Module for KprobeExample {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let func = func_param::func(kprobe_example_func);
        let handler = PrintHit {
            func: CString::try_from(func)?,
        };
        let probe = KBox::pin_init(Registration::new(Target::symbol(func), handler), GFP_KERNEL)
            .inspect_err(|e| {
                pr_err!(
                    "register_kprobe failed for {}, returned {}\n",
                    func.to_str().unwrap_or("?"),
                    e.to_errno()
                )
            })?;
        pr_info!("Planted kprobe at {:#x}\n", probe.address());
        Ok(Self { probe })
    }
}

impl Drop for KprobeExample {
    fn drop(&mut self) {
        pr_info!("kprobe at {:#x} unregistered\n", self.probe.address());
    }
}
