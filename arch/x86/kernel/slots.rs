// SPDX-License-Identifier: GPL-2.0

//! Allocation of the out-of-line slots reserved in this module's text (`slot_area.S`).
//!
//! Capacity: `RKP_SLOT_AREA_SIZE / RKP_SLOT_SIZE` = 1024 slots of 16 bytes, one per probed
//! address that runs its instruction out of line (emulated instructions need none, and probes
//! sharing an address share a slot). When all are taken, registration fails with `ENOMEM`.
//! Only process context, under the engine's mutex, allocates and frees.

/// Bytes per slot: the longest instruction a slot takes (14) and the breakpoint after it.
pub(crate) const SLOT_SIZE: usize = 16;
/// Size of the slot area; must match `RKP_SLOT_AREA_SIZE` in `rkp_x86.h`.
const AREA_SIZE: usize = 16384;
const COUNT: usize = AREA_SIZE / SLOT_SIZE;

extern "C" {
    /// The first byte of the slot area.
    static rkp_slot_area: [u8; AREA_SIZE];
}

/// Which slots are in use.
pub(crate) struct Slots {
    used: [u64; COUNT / 64],
}

impl Slots {
    /// All slots free.
    pub(crate) const fn new() -> Self {
        Self {
            used: [0; COUNT / 64],
        }
    }

    fn base() -> usize {
        // Only the address of the area is taken; nothing reads it through Rust.
        (&raw const rkp_slot_area) as usize
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
        Some(Self::base() + (word * 64 + bit) * SLOT_SIZE)
    }

    /// Gives back the slot at `addr`.
    pub(crate) fn free(&mut self, addr: usize) {
        let index = (addr - Self::base()) / SLOT_SIZE;
        self.used[index / 64] &= !(1 << (index % 64));
    }

    /// How many slots are in use.
    pub(crate) fn in_use(&self) -> u32 {
        self.used.iter().map(|w| w.count_ones()).sum()
    }
}
