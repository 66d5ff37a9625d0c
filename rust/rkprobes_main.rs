// SPDX-License-Identifier: GPL-2.0

//! rkprobes: kernel probes (kprobes) for Linux, written in Rust, as a loadable module.
//!
//! This crate is `rkprobes.ko`: the arch-neutral engine ([`engine`]), the hit path ([`hit`]),
//! return probes ([`kretprobes`]), the architecture backend (`arch/<arch>/kernel/backend.rs`),
//! the functions exported to client modules ([`exports`]) and the debugfs files
//! ([`debugfs`]). Client modules use the safe API in `rust/client/`; `Documentation/design.rst`
//! explains how it all works.

pub mod abi;
mod arch;
#[cfg(all(CONFIG_ARM64, not(CONFIG_HAVE_HW_BREAKPOINT)))]
compile_error!("rkprobes on arm64 traps with hardware breakpoints: it needs CONFIG_PERF_EVENTS=y");
mod blacklist;
mod debugfs;
mod engine;
#[cfg(CONFIG_EVENT_TRACING)]
mod events;
mod exports;
mod fexit;
mod hit;
mod kallsyms;
mod kretprobes;
mod modules;
mod notifier;
mod percpu;
mod sites;
mod slots;
mod snapshot;
mod symbols;

/// Pure logic shared with the host crate `rkp-logic` (tested there with `cargo test`).
#[allow(dead_code, unreachable_pub)]
mod logic {
    #[path = "../logic/src/addr_index.rs"]
    pub(crate) mod addr_index;
    #[path = "../logic/src/blacklist.rs"]
    pub(crate) mod blacklist;
    #[path = "../logic/src/event_format.rs"]
    pub(crate) mod event_format;
    #[path = "../logic/src/kallsyms.rs"]
    pub(crate) mod kallsyms;
    #[path = "../logic/src/list.rs"]
    pub(crate) mod list;
    #[path = "../logic/src/probe_event.rs"]
    pub(crate) mod probe_event;
    #[path = "../logic/src/symbol.rs"]
    pub(crate) mod symbol;
    #[path = "../logic/src/symtab.rs"]
    pub(crate) mod symtab;
}

use kernel::prelude::*;

extern "C" {
    /// `rust/reap.c`: waits until no pool-freeing work is queued or running.
    fn rkp_reap_sync();
    /// `rust/optimizer.c`: waits until no optimizer run is queued or running.
    fn rkp_stop_optimizer();
}

module! {
    type: Rkprobes,
    name: "rkprobes",
    authors: ["The rkprobes developers"],
    description: "Kernel probes (kprobes) written in Rust",
    license: "GPL",
    params: {
        ftrace_returns: bool {
            default: true,
            description: "Hook return probes through ftrace (fprobe) on functions with an ftrace site, for whole stack traces; 0 keeps them on rkprobes' trampoline",
        },
        jump_optimization: i32 {
            default: -1,
            description: "Turn probes without post-handlers into jumps to detours where that is safe (x86-64), as Linux's kprobes-optimization: 1 on, 0 off, -1 (default) on unless the kernel has kprobes of its own, which cannot see rkprobes' jumps",
        },
    },
}

/// The module. Fields drop in declaration order: probe events' files, debugfs and the module
/// notifier first, then the trap hook (which waits for running trap handlers), then the
/// engine.
struct Rkprobes {
    #[cfg(CONFIG_EVENT_TRACING)]
    _events: Pin<KBox<events::Events>>,
    _debugfs: Pin<KBox<kernel::debugfs::Scope<debugfs::State>>>,
    _modules: Pin<KBox<notifier::Notifier>>,
    _trap: Pin<KBox<arch::TrapHook>>,
    engine: Pin<KBox<engine::Engine>>,
}

impl kernel::Module for Rkprobes {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let engine = KBox::pin_init(engine::Engine::new(module)?, GFP_KERNEL)?;
        engine::Engine::make_current(Some(&engine));
        let parts = || -> Result<_> {
            let trap = KBox::pin_init(<arch::Arch as arch::Trap>::hook(), GFP_KERNEL)?;
            let modules = KBox::pin_init(modules::watch(), GFP_KERNEL)?;
            Ok((
                trap,
                modules,
                KBox::pin_init(debugfs::create(), GFP_KERNEL)?,
            ))
        };
        let (trap, modules, debugfs) =
            parts().inspect_err(|_| engine::Engine::make_current(None))?;
        #[cfg(CONFIG_EVENT_TRACING)]
        let events = {
            let events = KBox::pin_init(events::Events::new(module), GFP_KERNEL)?;
            events.as_ref().make_current(debugfs::DIR_NAME)?;
            events
        };
        pr_info!(
            "loaded, debugfs directory {}\n",
            debugfs::DIR_NAME.to_str().unwrap_or("?")
        );
        if cfg!(CONFIG_KPROBES) && module_parameters::jump_optimization.value() < 0 {
            pr_info!("no jump optimization beside the kernel's own kprobes (jump_optimization=1 turns it on)\n");
        }
        if fexit::AVAILABLE && !fexit::enabled() {
            pr_info!("return probes stay on the trampoline (ftrace_returns=0)\n");
        }
        Ok(Self {
            #[cfg(CONFIG_EVENT_TRACING)]
            _events: events,
            _debugfs: debugfs,
            _modules: modules,
            _trap: trap,
            engine,
        })
    }
}

impl Drop for Rkprobes {
    fn drop(&mut self) {
        // Clients hold a reference on this module while they have probes: none is left.
        engine::Engine::make_current(None);
        // SAFETY: No preconditions; afterwards no pool-freeing work item or optimizer run is
        // queued or running (they find no engine if they start before).
        unsafe {
            rkp_reap_sync();
            rkp_stop_optimizer();
        }
        pr_info!(
            "unloaded ({} slots were in use)\n",
            self.engine.slots_in_use()
        );
    }
}
