// SPDX-License-Identifier: GPL-2.0

//! Publishing the registry to the hit path: an immutable [`Snapshot`] behind an atomic
//! pointer, replaced whole and freed after an RCU grace period.

use core::sync::atomic::Ordering;

use kernel::{bindings, ffi::c_ulong, prelude::*, sync::rcu};

use super::{Engine, Registry};
use crate::kretprobes::Pool;
use crate::snapshot::Snapshot;

impl Engine {
    /// The current snapshot. The caller must be in an RCU read-side critical section (which
    /// includes running with interrupts off), and use it only inside it.
    pub(crate) fn snapshot(&self) -> Option<&Snapshot> {
        // SAFETY: Snapshots are freed only after a grace period following their replacement,
        // so one read inside a read-side critical section stays valid through it.
        unsafe { self.snapshot.load(Ordering::Acquire).as_ref() }
    }

    /// Builds the snapshot of `reg`: every site that still has probes.
    fn build(reg: &Registry) -> Result<KBox<Snapshot>> {
        let sites = reg
            .sites
            .iter()
            .filter(|s| (!s.probes.is_empty() || s.armed) && !s.gone)
            .map(|s| (s.addr(), &raw const *s.code, &s.probes[..]));
        let mut pools = KVec::with_capacity(reg.pools.len(), GFP_KERNEL)?;
        for pool in reg.pools.iter() {
            pools.push(core::ptr::from_ref::<Pool>(pool), GFP_KERNEL)?;
        }
        Ok(KBox::new(Snapshot::new(sites, pools)?, GFP_KERNEL)?)
    }

    /// Publishes a snapshot of `reg` and returns the one it replaced.
    fn swap(&self, reg: &Registry) -> Result<*mut Snapshot> {
        let new = KBox::into_raw(Self::build(reg)?);
        Ok(self.snapshot.swap(new, Ordering::Release))
    }

    /// Publishes a snapshot of `reg`, then waits for a grace period and frees the previous
    /// ones: afterwards no CPU can see what `reg` no longer has.
    pub(super) fn publish(&self, reg: &mut Registry) -> Result {
        let old = self.swap(reg)?;
        rcu::synchronize_rcu();
        // SAFETY: After the grace period no reader holds `old` or a retired snapshot.
        unsafe {
            free(old);
            reg.retired.free_all();
        }
        Ok(())
    }

    /// Publishes a snapshot of `reg` that only adds to the current one (a registration):
    /// nothing it dropped can be in use, so it does not wait. The previous snapshot is freed
    /// once a grace period has passed, seen at a later publish.
    pub(super) fn publish_added(&self, reg: &mut Registry) -> Result {
        reg.retired.0.reserve(1, GFP_KERNEL)?;
        let old = self.swap(reg)?;
        if old.is_null() {
            return Ok(());
        }
        // SAFETY: No preconditions.
        let cookie = unsafe { bindings::get_state_synchronize_rcu() };
        reg.retired
            .0
            .push_within_capacity((cookie, old))
            .map_err(|_| ENOMEM)?;
        if reg.retired.0.len() >= MAX_RETIRED {
            rcu::synchronize_rcu();
        }
        reg.retired.reclaim();
        Ok(())
    }

    /// [`Self::publish`] for paths that cannot fail (unregistration): retries until memory
    /// for the snapshot is found.
    pub(super) fn publish_retrying(&self, reg: &mut Registry) {
        while self.publish(reg).is_err() {
            kernel::time::delay::fsleep(kernel::time::Delta::from_millis(1));
        }
    }
}

/// Snapshots at most [`Retired`] holds: a registration that would exceed it waits for a
/// grace period, which bounds the memory of a burst of registrations.
const MAX_RETIRED: usize = 16;

/// Snapshots replaced by registrations, each with the grace-period cookie taken when it was
/// replaced; freed once that grace period is over.
#[derive(Default)]
pub(crate) struct Retired(KVec<(c_ulong, *mut Snapshot)>);

impl Retired {
    /// Frees the snapshots whose grace period is over.
    fn reclaim(&mut self) {
        self.0.retain(|&mut (cookie, old)| {
            // SAFETY: No preconditions.
            let over = unsafe { bindings::poll_state_synchronize_rcu(cookie) };
            if over {
                // SAFETY: The grace period that started after `old` was replaced is over.
                unsafe { free(old) };
            }
            !over
        });
    }

    /// Frees every snapshot.
    ///
    /// # Safety
    ///
    /// A grace period must have passed since the last was replaced.
    pub(crate) unsafe fn free_all(&mut self) {
        for (_, old) in self.0.drain_all() {
            // SAFETY: Per the function's safety requirement.
            unsafe { free(old) };
        }
    }
}

/// Frees a replaced snapshot (null: none).
///
/// # Safety
///
/// `old` came from [`Engine::swap`]; no reader can hold it (a grace period passed since it was
/// replaced).
pub(super) unsafe fn free(old: *mut Snapshot) {
    if !old.is_null() {
        // SAFETY: Per the function's safety requirement, from `KBox::into_raw`.
        drop(unsafe { KBox::from_raw(old) });
    }
}
