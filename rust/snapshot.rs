// SPDX-License-Identifier: GPL-2.0

//! What the hit path reads: an immutable table of every probed address, with its prepared
//! instruction and its probes, and every return probe's pool. The engine builds and publishes
//! it (`rust/engine/publish.rs`); the hit path finds probes in it without locks.

use kernel::prelude::*;

use crate::abi::RawKprobe;
use crate::arch;
use crate::kretprobes::Pool;

/// The code under one probed address: shared by every probe there, never changed after
/// creation (the hit path reads it without locks).
pub(crate) struct Code {
    pub(crate) probe: arch::Probe,
}

/// One probed address as the hit path sees it.
pub(crate) struct Entry {
    pub(crate) addr: usize,
    pub(crate) code: *const Code,
    /// The probes at `addr`, newest first.
    pub(crate) probes: KVec<*mut RawKprobe>,
}

/// What the hit path reads: every probed address, sorted, and every return probe's pool.
pub(crate) struct Snapshot {
    /// Sorted by address.
    entries: KVec<Entry>,
    pools: KVec<*const Pool>,
}

impl Snapshot {
    /// A snapshot of `entries` (in any order) and `pools`.
    pub(crate) fn new(mut entries: KVec<Entry>, pools: KVec<*const Pool>) -> Self {
        entries.sort_unstable_by_key(|e| e.addr);
        Self { entries, pools }
    }

    /// The pools of the return probes, including those still draining.
    pub(crate) fn pools(&self) -> &[*const Pool] {
        &self.pools
    }

    /// The entry for `addr`, if it is probed.
    pub(crate) fn find(&self, addr: usize) -> Option<&Entry> {
        self.entries
            .binary_search_by_key(&addr, |e| e.addr)
            .ok()
            .map(|i| &self.entries[i])
    }
}
