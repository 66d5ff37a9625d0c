// SPDX-License-Identifier: GPL-2.0

//! Allocation of the out-of-line slots the backend reserves in this module's text
//! (`arch/<arch>/kernel/slot_area.S`): [`Insns::SLOT_COUNT`] slots of [`Insns::SLOT_SIZE`]
//! bytes, one per probed address that runs its instruction out of line (simulated or
//! emulated instructions need none, and probes sharing an address share a slot). When all
//! are taken, registration fails with `ENOMEM`. Only process context, under the engine's
//! mutex, allocates and frees.

use crate::arch::{Arch, Insns};

/// Which slots are in use.
pub(crate) struct Slots {
    used: [u64; <Arch as Insns>::SLOT_COUNT / 64],
}

impl Slots {
    /// All slots free.
    pub(crate) const fn new() -> Self {
        Self {
            used: [0; <Arch as Insns>::SLOT_COUNT / 64],
        }
    }

    /// Takes a free slot and returns its address.
    pub(crate) fn alloc(&mut self) -> Option<usize> {
        let (word, bits) = self
            .used
            .iter_mut()
            .enumerate()
            .find(|(_, w)| **w != u64::MAX)?;
        let bit = bits.trailing_ones() as usize;
        *bits |= 1 << bit;
        Some(Arch::slot_area() + (word * 64 + bit) * Arch::SLOT_SIZE)
    }

    /// Gives back the slot at `addr`.
    pub(crate) fn free(&mut self, addr: usize) {
        let index = (addr - Arch::slot_area()) / Arch::SLOT_SIZE;
        self.used[index / 64] &= !(1 << (index % 64));
    }

    /// How many slots are in use.
    pub(crate) fn in_use(&self) -> u32 {
        self.used.iter().map(|w| w.count_ones()).sum()
    }
}
