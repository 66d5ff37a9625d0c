// SPDX-License-Identifier: GPL-2.0

//! What the hit path reads: an immutable table of every probed address, with its prepared
//! instruction and its probes, and every return probe's pool. The engine builds and publishes
//! it (`rust/engine/publish.rs`); the hit path finds probes in it without locks.

use kernel::prelude::*;

use crate::abi::RawKprobe;
use crate::arch;
use crate::kretprobes::Pool;
use crate::logic::addr_index;

/// The code under one probed address: shared by every probe there, never changed after
/// creation (the hit path reads it without locks).
pub(crate) struct Code {
    pub(crate) probe: arch::Probe,
}

/// One probed address as the hit path sees it.
pub(crate) struct Entry {
    pub(crate) addr: usize,
    pub(crate) code: *const Code,
    /// The probes at `addr`, newest first: a part of the snapshot's `probes`.
    probes: *const [*mut RawKprobe],
}

impl Entry {
    /// The probes at the address, newest first.
    pub(crate) fn probes(&self) -> &[*mut RawKprobe] {
        // SAFETY: `probes` points into the `probes` of the snapshot that holds this entry,
        // which is never changed after creation and lives as long as the entry.
        unsafe { &*self.probes }
    }
}

/// What the hit path reads: every probed address, sorted and hashed, and every return
/// probe's pool.
pub(crate) struct Snapshot {
    /// Sorted by address.
    entries: KVVec<Entry>,
    /// Where each address is in `entries` (`logic::addr_index`).
    index: KVVec<u32>,
    /// The probes of every entry, one after the other: only the entries read it, by pointer.
    _probes: KVVec<*mut RawKprobe>,
    pools: KVec<*const Pool>,
}

impl Snapshot {
    /// A snapshot of `sites` (address, code and probes, in any order, each address once) and
    /// `pools`: the same allocations whatever the number of sites.
    pub(crate) fn new<'a>(
        sites: impl Iterator<Item = (usize, *const Code, &'a [*mut RawKprobe])> + Clone,
        pools: KVec<*const Pool>,
    ) -> Result<Self> {
        let (count, total) = sites
            .clone()
            .fold((0, 0), |(n, t), (_, _, p)| (n + 1, t + p.len()));
        let mut entries = KVVec::with_capacity(count, GFP_KERNEL)?;
        let mut probes = KVVec::with_capacity(total, GFP_KERNEL)?;
        let mut index = KVVec::from_elem(0, addr_index::slots_for(count), GFP_KERNEL)?;
        for (addr, code, ps) in sites {
            let first = probes.len();
            // Within the capacity: the buffer never moves, so the entries can point into it.
            probes.extend_from_slice(ps, GFP_KERNEL)?;
            entries.push(
                Entry {
                    addr,
                    code,
                    probes: core::ptr::slice_from_raw_parts(
                        probes.as_ptr().wrapping_add(first),
                        ps.len(),
                    ),
                },
                GFP_KERNEL,
            )?;
        }
        entries.sort_unstable_by_key(|e| e.addr);
        addr_index::build(&mut index, entries.iter().map(|e| e.addr));
        Ok(Self {
            entries,
            index,
            _probes: probes,
            pools,
        })
    }

    /// The pools of the return probes, including those still draining.
    pub(crate) fn pools(&self) -> &[*const Pool] {
        &self.pools
    }

    /// The entry for `addr`, if it is probed.
    pub(crate) fn find(&self, addr: usize) -> Option<&Entry> {
        addr_index::find(&self.index, addr, |i| self.entries[i].addr).map(|i| &self.entries[i])
    }
}
