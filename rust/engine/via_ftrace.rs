// SPDX-License-Identifier: GPL-2.0

//! The engine's side of return probes hooked through ftrace ([`crate::fexit`]): they have no
//! breakpoint, so they live in the registry as pools only. "Armed" means the pool takes new
//! calls.

use kernel::{prelude::*, sync::atomic::Relaxed, sync::MutexGuard};

use super::{Engine, Registry};
use crate::abi::{RawKprobe, RawKretprobe, FLAG_DISABLED, FLAG_GONE};
use crate::kretprobes::Pool;

impl Registry {
    /// The pools hooked through ftrace whose probes are registered.
    pub(super) fn ftrace_pools(&self) -> impl Iterator<Item = &Pool> {
        self.pools
            .iter()
            .map(|p| &**p)
            .filter(|p| p.via_ftrace() && !p.probe().is_null())
    }

    /// The registered pool hooked through ftrace whose probe's `kp` is `p`.
    pub(super) fn ftrace_pool_of(&self, p: *mut RawKprobe) -> Option<&Pool> {
        // CAST: `kp` is the first field of the `repr(C)` `RawKretprobe`.
        self.ftrace_pools().find(|pool| pool.probe() == p.cast())
    }

    /// Arms or disarms `pool` as its probe's flags and the global switch say.
    pub(super) fn update_ftrace_arming(&self, pool: &Pool) {
        // SAFETY: Registered, hence valid, while the caller holds the registry mutex.
        let flags = unsafe { (*pool.probe()).kp.flags.load(Relaxed) };
        pool.set_armed(!self.all_disarmed && flags & (FLAG_DISABLED | FLAG_GONE) == 0);
    }
}

impl Engine {
    /// Registers `rp`, resolved to a function whose ftrace site is `site`, with `reg` locked.
    ///
    /// # Safety
    ///
    /// As [`Engine::register_kretprobe`]; the caller holds the claim of `rp`'s `kp`.
    pub(super) unsafe fn register_via_ftrace(
        &self,
        rp: *mut RawKretprobe,
        site: usize,
        mut reg: MutexGuard<'_, Registry>,
    ) -> Result {
        // SAFETY: Valid per the function's safety requirement; shared, as in `register`.
        let r = unsafe { &*rp };
        if reg
            .going
            .iter()
            .any(|&(start, end)| (start..end).contains(&site))
        {
            return Err(ENOENT);
        }
        let maxactive = r.maxactive.load(Relaxed) as usize;
        let pool = Pool::new(rp, maxactive, r.data_size, self.module, true)?;
        reg.pools.reserve(1, GFP_KERNEL)?;
        let kp = &r.kp;
        kp.flags
            .store(kp.flags.load(Relaxed) & FLAG_DISABLED, Relaxed);
        kp.nmissed.store(0, Relaxed);
        kp.nhit.store(0, Relaxed);
        r.nmissed.store(0, Relaxed);
        Self::reclaim_dead(&reg);
        reg.update_ftrace_arming(&pool);
        if let Err(e) = pool.hook_ftrace(site) {
            pr_info!(
                "cannot hook the returns of {site:#x} through ftrace: {}\n",
                super::errno_name(e)
            );
            return Err(e);
        }
        kp.resolved.store(site, Relaxed);
        // Cannot fail: reserved above.
        let _ = reg.pools.push_within_capacity(pool);
        Ok(())
    }
}
