// SPDX-License-Identifier: GPL-2.0

//! Registering and unregistering return probes, and freeing their pools once no call uses
//! them.

use kernel::{
    prelude::*,
    sync::{
        atomic::{Relaxed, Release},
        rcu,
    },
};

use super::{Claim, Engine, Registry};
use crate::abi::{RawKprobe, RawKretprobe};
use crate::arch::{Arch, Insns};
use crate::fexit;
use crate::kretprobes::{self, Pool};

impl Engine {
    /// `register_kretprobe()`.
    ///
    /// # Safety
    ///
    /// As [`Engine::register`], for `rp` and its handlers.
    pub(crate) unsafe fn register_kretprobe(&self, rp: *mut RawKretprobe) -> Result {
        // SAFETY: Valid per the function's safety requirement.
        let claim = Claim::take(unsafe { &(*rp).kp.registered })?;
        // SAFETY: Per the function's safety requirement; claimed.
        unsafe { self.register_kretprobe_claimed(rp) }?;
        claim.keep();
        Ok(())
    }

    /// Registers `rp`, which the caller claimed.
    ///
    /// # Safety
    ///
    /// As [`Engine::register_kretprobe`]; the caller holds the [`Claim`] of `rp`'s `kp`.
    pub(super) unsafe fn register_kretprobe_claimed(&self, rp: *mut RawKretprobe) -> Result {
        // SAFETY: Valid per the function's safety requirement; shared, as in `register`.
        let r = unsafe { &*rp };
        if r.data_size > kretprobes::MAX_DATA_SIZE {
            pr_info!(
                "cannot probe returns with {} bytes of data per call (at most {}): E2BIG\n",
                r.data_size,
                kretprobes::MAX_DATA_SIZE
            );
            return Err(E2BIG);
        }
        if r.maxactive.load(Relaxed) <= 0 {
            // SAFETY: A plain read of a variable the kernel sets at boot.
            let cpus = unsafe { kernel::bindings::__num_possible_cpus } as i32;
            r.maxactive.store((2 * cpus).max(10), Relaxed);
        }
        // Only a function's entry (or the instruction after its ENDBR) has the return
        // address at the top of the stack.
        let (addr, func, reg) = match self.resolve_locked(&r.kp) {
            // SAFETY: Per the function's safety requirement.
            Err(e) if e == EAGAIN => return unsafe { self.defer_kretprobe(rp) },
            r => r?,
        };
        if addr != Arch::canonical_addr(func.start, &func) {
            pr_info!("cannot probe returns at {addr:#x}: not a function's entry: EINVAL\n");
            return Err(EINVAL);
        }
        if let Some(site) = fexit::site(&func) {
            // SAFETY: Per the function's safety requirement.
            return unsafe { self.register_via_ftrace(rp, site, reg) };
        }
        drop(reg);
        // SAFETY: Per the function's safety requirement.
        unsafe { self.attach_pool(rp) }?;
        // SAFETY: Per the function's safety requirement; the entry handler is rkprobes' own.
        if let Err(e) = unsafe { self.register_claimed(&raw mut (*rp).kp) } {
            self.drop_pools(&[rp]);
            return Err(e);
        }
        Ok(())
    }

    /// Gives `rp` a pool of instances on rkprobes' trampoline and makes its entry probe's
    /// handler rkprobes' entry handler.
    ///
    /// # Safety
    ///
    /// As [`Engine::register_kretprobe_claimed`]; `rp` is not registered yet.
    unsafe fn attach_pool(&self, rp: *mut RawKretprobe) -> Result {
        // SAFETY: Valid per the function's safety requirement.
        let r = unsafe { &*rp };
        let maxactive = r.maxactive.load(Relaxed) as usize;
        let pool = Pool::new(rp, maxactive, r.data_size, self.module, false)?;
        r.pool.store(
            core::ptr::from_ref::<Pool>(&pool).cast_mut().cast(),
            Release,
        );
        // SAFETY: Claimed, so nothing else reads or writes the handlers until the probe is
        // published (which orders these writes before the hit path's reads).
        unsafe {
            (*rp).kp.pre_handler = Some(kretprobes::entry_pre_handler);
            (*rp).kp.post_handler = None;
        }
        r.nmissed.store(0, Relaxed);
        let mut reg = self.registry.lock();
        Self::reclaim_dead(&reg);
        reg.pools.push(pool, GFP_KERNEL)?;
        Ok(())
    }

    /// A deferred return probe whose module is not loaded: its pool (on the trampoline: the
    /// function's ftrace site is not known before the module loads) is made now, and its entry
    /// probe waits for the module as a deferred kprobe does.
    ///
    /// # Safety
    ///
    /// As [`Engine::register_kretprobe_claimed`].
    unsafe fn defer_kretprobe(&self, rp: *mut RawKretprobe) -> Result {
        // SAFETY: Valid per the function's safety requirement.
        let offset = unsafe { (*rp).kp.offset };
        if offset != 0 {
            pr_info!("cannot probe returns at +{offset:#x}: not a function's entry: EINVAL\n");
            return Err(EINVAL);
        }
        // SAFETY: Per the function's safety requirement.
        unsafe { self.attach_pool(rp) }?;
        // SAFETY: `kp` is valid and claimed with `rp`.
        let kp = unsafe { &raw mut (*rp).kp };
        let r = loop {
            // SAFETY: As above.
            match unsafe { self.defer(kp) } {
                Ok(true) => break Ok(()),
                // The module came meanwhile: arm the entry now (or wait again if it went).
                // SAFETY: As above; the entry handler is rkprobes' own.
                Ok(false) => match unsafe { self.register_claimed(kp) } {
                    Err(e) if e == EAGAIN => continue,
                    r => break r,
                },
                Err(e) => break Err(e),
            }
        };
        if r.is_err() {
            self.drop_pools(&[rp]);
        }
        r
    }

    /// `unregister_kretprobes()`: calls still inside the functions return through the
    /// trampoline without a handler; their pools are freed once they all have.
    ///
    /// # Safety
    ///
    /// Each pointer must be valid (registered with [`Engine::register_kretprobe`], or never).
    pub(crate) unsafe fn unregister_kretprobes(&self, rps: &[*mut RawKretprobe]) {
        // First no new entries: the entry probes go (disarmed, then a grace period). Calls
        // that entered before still get their return handler.
        // CAST: `kp` is the first field of the `repr(C)` `RawKretprobe`.
        let kp = |rp: &*mut RawKretprobe| rp.cast::<RawKprobe>();
        if let Ok(mut kps) = KVec::with_capacity(rps.len(), GFP_KERNEL) {
            rps.iter()
                .for_each(|rp| kps.push_within_capacity(kp(rp)).unwrap_or(()));
            // SAFETY: Per the function's safety requirement.
            unsafe { self.unregister(&kps) };
        } else {
            // Without memory for the batch, one grace period each.
            // SAFETY: Per the function's safety requirement.
            rps.iter()
                .for_each(|rp| unsafe { self.unregister(&[kp(rp)]) });
        }
        // Then no more return handlers: detach the pools, and wait for the handlers that saw
        // them attached.
        let mut reg = self.registry.lock();
        let mine = |p: &&KBox<Pool>| rps.contains(&p.probe());
        for pool in reg.pools.iter().filter(mine) {
            pool.unhook_ftrace();
            pool.detach();
        }
        rcu::synchronize_rcu();
        Self::reclaim_dead(&reg);
        // Calls pending through ftrace never come back to rkprobes now: free them.
        let released: usize = reg
            .pools
            .iter()
            .filter(|p| p.via_ftrace() && p.probe().is_null())
            .map(|p| p.release_all())
            .sum();
        if released > 0 {
            pr_info!("{released} calls still pending will return without their handler\n");
        }
        let pending: usize = reg.pools.iter().map(|p| p.pending()).sum();
        if pending > 0 {
            pr_info!("{pending} calls still pending: rkprobes stays loaded until they return\n");
        }
        self.reap_pools(&mut reg);
    }

    /// Frees the instances that tasks which died inside hooked calls left behind.
    pub(super) fn reclaim_dead(reg: &Registry) {
        let freed: usize = reg.pools.iter().map(|p| p.reclaim_dead()).sum();
        if freed > 0 {
            pr_info!("reclaimed {freed} return instances of tasks that exited in probed calls\n");
        }
    }

    /// Detaches the pools of `rps` (never registered) and frees every drained pool.
    pub(super) fn drop_pools(&self, rps: &[*mut RawKretprobe]) {
        let mut reg = self.registry.lock();
        for pool in reg.pools.iter().filter(|p| rps.contains(&p.probe())) {
            pool.detach();
        }
        self.reap_pools(&mut reg);
    }

    /// Frees the pools of unregistered return probes whose calls have all returned.
    pub(crate) fn reap(&self) {
        let mut reg = self.registry.lock();
        let before = reg.pools.len();
        self.reap_pools(&mut reg);
        let freed = before - reg.pools.len();
        if freed > 0 {
            pr_info!("freed {freed} return-probe pools: their last pending calls returned\n");
        }
    }

    /// Frees the pools no call uses any more (after unpublishing them).
    pub(super) fn reap_pools(&self, reg: &mut Registry) {
        if !reg.pools.iter().any(|p| p.drained()) {
            return;
        }
        // Room for all of them first: a pool may only be freed after the grace period.
        let Ok(mut drained) = KVec::with_capacity(reg.pools.len(), GFP_KERNEL) else {
            return;
        };
        let mut i = 0;
        while i < reg.pools.len() {
            if !reg.pools[i].drained() {
                i += 1;
                continue;
            }
            if let Ok(pool) = reg.pools.remove(i) {
                let _ = drained.push_within_capacity(pool);
            }
        }
        self.publish_retrying(reg);
        drop(drained);
    }
}
