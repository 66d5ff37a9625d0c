// SPDX-License-Identifier: GPL-2.0

//! A module with a function to probe and then unload: its probes must become `[GONE]`.

use kernel::prelude::*;

module! {
    type: RkpTestTarget,
    name: "rkp_test_target",
    authors: ["The rkprobes developers"],
    description: "rkprobes test target module",
    license: "GPL",
}

/// The function the guest suite probes.
#[no_mangle]
#[inline(never)]
pub extern "C" fn rkp_test_target_fn(x: u64) -> u64 {
    core::hint::black_box(x).wrapping_mul(3)
}

struct RkpTestTarget;

impl kernel::Module for RkpTestTarget {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("target returns {}\n", rkp_test_target_fn(2));
        Ok(RkpTestTarget)
    }
}
