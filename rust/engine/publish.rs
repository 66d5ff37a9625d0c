// SPDX-License-Identifier: GPL-2.0

//! Publishing the registry to the hit path: an immutable [`Snapshot`] behind an atomic
//! pointer, replaced whole and freed after an RCU grace period.

use kernel::{
    prelude::*,
    sync::{
        atomic::{Acquire, Release},
        rcu,
    },
};

use super::{Engine, Registry};
use crate::kretprobes::Pool;
use crate::snapshot::{Entry, Snapshot};

impl Engine {
    /// The current snapshot. The caller must be in an RCU read-side critical section (which
    /// includes running with interrupts off), and use it only inside it.
    pub(crate) fn snapshot(&self) -> Option<&Snapshot> {
        // SAFETY: Snapshots are freed only after a grace period following their replacement,
        // so one read inside a read-side critical section stays valid through it.
        unsafe { self.snapshot.load(Acquire).as_ref() }
    }

    /// Builds the snapshot of `reg`: every site that still has probes.
    fn build(reg: &Registry) -> Result<KBox<Snapshot>> {
        let mut entries = KVec::with_capacity(reg.sites.len(), GFP_KERNEL)?;
        for site in reg
            .sites
            .iter()
            .filter(|s| (!s.probes.is_empty() || s.armed) && !s.gone)
        {
            let mut probes = KVec::with_capacity(site.probes.len(), GFP_KERNEL)?;
            probes.extend_from_slice(&site.probes, GFP_KERNEL)?;
            entries.push(
                Entry {
                    addr: site.addr(),
                    code: &*site.code,
                    probes,
                },
                GFP_KERNEL,
            )?;
        }
        let mut pools = KVec::with_capacity(reg.pools.len(), GFP_KERNEL)?;
        for pool in reg.pools.iter() {
            pools.push(core::ptr::from_ref::<Pool>(pool), GFP_KERNEL)?;
        }
        Ok(KBox::new(Snapshot::new(entries, pools), GFP_KERNEL)?)
    }

    /// Publishes a snapshot of `reg`, then waits for a grace period and frees the previous
    /// one: afterwards no CPU can see what `reg` no longer has.
    pub(super) fn publish(&self, reg: &Registry) -> Result {
        let new = KBox::into_raw(Self::build(reg)?);
        let old = self.snapshot.xchg(new, Release);
        rcu::synchronize_rcu();
        if !old.is_null() {
            // SAFETY: `old` came from `KBox::into_raw` in an earlier publish; after the grace
            // period no reader can still hold it.
            drop(unsafe { KBox::from_raw(old) });
        }
        Ok(())
    }

    /// [`Self::publish`] for paths that cannot fail (unregistration): retries until memory
    /// for the snapshot is found.
    pub(super) fn publish_retrying(&self, reg: &Registry) {
        while self.publish(reg).is_err() {
            kernel::time::delay::fsleep(kernel::time::Delta::from_millis(1));
        }
    }
}
