// SPDX-License-Identifier: GPL-2.0

//! typed_args: a function's arguments and return value read by type, jprobe-style.
//!
//! ```text
//! insmod rkprobes.ko
//! insmod typed_args.ko
//! cat /no/such/file
//! ```
//!
//! A return probe on `static int do_sys_openat2(int dfd, const char __user *filename, struct
//! open_how *how)`: the entry handler reads the arguments as those types, the return handler
//! the `int` it returns, with no register names. (Read as a 64-bit value, -2 would be
//! 4294967294 on x86-64, which leaves the upper half of `rax` undefined for an `int`.) Failed
//! opens print a line:
//!
//! ```text
//! typed_args: do_sys_openat2(dfd=-100, filename=00000000004a1f30, how=ffffc90000237e48) = -2
//! ```

#[path = "../rust/client/kprobes.rs"]
pub mod kprobes;

use kernel::prelude::*;

use kprobes::{
    EntryAction, HitContext, Instance, KretprobeRegistration, PtRegs, RetHandler, Target,
};

module! {
    type: TypedArgs,
    name: "typed_args",
    authors: ["The rkprobes developers"],
    description: "rkprobes sample: arguments and return values by type",
    license: "GPL",
}

/// `do_sys_openat2()`'s arguments, kept from the entry for the return.
#[derive(pin_init::Zeroable)]
struct OpenArgs {
    dfd: i32,
    filename: usize,
    how: usize,
}

struct FailedOpens;

#[vtable]
impl RetHandler for FailedOpens {
    type Data = OpenArgs;

    fn entry_handler(
        &self,
        _ctx: &HitContext<'_>,
        ri: &mut Instance<'_, OpenArgs>,
        regs: &mut PtRegs,
    ) -> EntryAction {
        let args = ri.data();
        args.dfd = regs.arg_as::<i32>(0).unwrap_or(0);
        args.filename = regs.arg_as::<*const u8>(1).map_or(0, |p| p as usize);
        args.how = regs.arg_as::<*const u8>(2).map_or(0, |p| p as usize);
        EntryAction::Hook
    }

    fn handler(&self, _ctx: &HitContext<'_>, ri: &mut Instance<'_, OpenArgs>, regs: &mut PtRegs) {
        let ret = regs.return_value_as::<i32>();
        if ret < 0 {
            let a = ri.data();
            pr_info!(
                "do_sys_openat2(dfd={}, filename={:016x}, how={:016x}) = {ret}\n",
                a.dfd,
                a.filename,
                a.how
            );
        }
    }
}

struct TypedArgs {
    _probe: Pin<KBox<KretprobeRegistration<FailedOpens>>>,
}

impl kernel::Module for TypedArgs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let probe = KBox::pin_init(
            KretprobeRegistration::new(Target::symbol(c"do_sys_openat2"), 0, FailedOpens),
            GFP_KERNEL,
        )
        .inspect_err(|e| pr_err!("register_kretprobe failed, returned {}\n", e.to_errno()))?;
        pr_info!(
            "Planted return probe at do_sys_openat2: {:#x}\n",
            probe.address()
        );
        Ok(Self { _probe: probe })
    }
}
