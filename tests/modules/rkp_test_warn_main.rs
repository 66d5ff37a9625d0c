// SPDX-License-Identifier: GPL-2.0

//! A module that prints a real `WARN_ON` splat when loaded: the harness self-test proves with
//! it that a splat fails a run whose tests all passed. Never loaded by the normal suites.

use kernel::prelude::*;

module! {
    type: RkpTestWarn,
    name: "rkp_test_warn",
    authors: ["The rkprobes developers"],
    description: "Harness self-test: warns on load",
    license: "GPL",
}

struct RkpTestWarn;

impl kernel::Module for RkpTestWarn {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        kernel::warn_on!(true);
        Ok(RkpTestWarn)
    }
}
