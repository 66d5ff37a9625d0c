// SPDX-License-Identifier: GPL-2.0

//! rkprobes: kprobes for Linux, written in Rust, as a loadable module.
//!
//! This crate is `rkprobes.ko`. So far it provides the debugfs interface
//! (`list`, `enabled`, `blacklist`); the probe engine lands on top of it.

mod debugfs;

use kernel::prelude::*;

module! {
    type: Rkprobes,
    name: "rkprobes",
    authors: ["The rkprobes developers"],
    description: "Kernel probes (kprobes) written in Rust",
    license: "GPL",
}

/// The module: owns the framework's global state and its debugfs directory.
#[pin_data(PinnedDrop)]
struct Rkprobes {
    #[pin]
    debugfs: kernel::debugfs::Scope<debugfs::State>,
}

impl kernel::InPlaceModule for Rkprobes {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pr_info!(
            "loaded, debugfs directory {}\n",
            debugfs::DIR_NAME.to_str().unwrap_or("?")
        );
        try_pin_init!(Self {
            debugfs <- debugfs::create(),
        })
    }
}

#[pinned_drop]
impl PinnedDrop for Rkprobes {
    fn drop(self: Pin<&mut Self>) {
        pr_info!("unloaded\n");
    }
}
