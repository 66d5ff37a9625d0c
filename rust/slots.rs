// SPDX-License-Identifier: GPL-2.0

//! Allocation of the out-of-line slots the backend reserves in this module's text
//! (`arch/<arch>/kernel/slot_area.S`): [`Insns::SLOT_COUNT`] slots of [`Insns::SLOT_SIZE`]
//! bytes, one per probed address that runs its instruction out of line (simulated or
//! emulated instructions need none, and probes sharing an address share a slot). When all
//! are taken, registration fails with `ENOMEM`. Only process context, under the engine's
//! mutex, allocates and frees.
//!
//! Jump-optimized probes take a second slot for their detour. A task can be preempted inside
//! a detour, so a detour is retired rather than freed: it stays taken until an RCU-tasks grace
//! period that started after its retirement has passed (`rust/engine/optimize.rs`).

use crate::arch::{Arch, Insns};

extern "C" {
    /// `rust/optimizer.c`: `synchronize_rcu_tasks()`.
    fn rkp_synchronize_rcu_tasks();
}

/// Waits until every task has passed a voluntary context switch (or user mode, or idle): none
/// is still preempted where it was when this was called. Process context.
pub(crate) fn synchronize_rcu_tasks() {
    // SAFETY: No preconditions beyond process context, which every caller is in.
    unsafe { rkp_synchronize_rcu_tasks() };
}

/// Which slots are in use.
pub(crate) struct Slots {
    used: [u64; <Arch as Insns>::SLOT_COUNT / 64],
    /// Taken slots waiting for an RCU-tasks grace period.
    retired: Retired,
}

/// A set of retired slots.
pub(crate) struct Retired([u64; <Arch as Insns>::SLOT_COUNT / 64]);

impl Retired {
    /// Whether the set is empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
}

impl Slots {
    /// All slots free.
    pub(crate) const fn new() -> Self {
        Self {
            used: [0; <Arch as Insns>::SLOT_COUNT / 64],
            retired: Retired([0; <Arch as Insns>::SLOT_COUNT / 64]),
        }
    }

    /// Takes a free slot and returns its address. When none is free but detours are retired,
    /// waits for them to be unused first (as Linux's `collect_garbage_slots()`). Process
    /// context.
    pub(crate) fn alloc(&mut self) -> Option<usize> {
        self.take_free().or_else(|| {
            if !self.has_retired() {
                return None;
            }
            let retired = self.take_retired();
            synchronize_rcu_tasks();
            self.free_retired(retired);
            self.take_free()
        })
    }

    fn take_free(&mut self) -> Option<usize> {
        let (word, bits) = self
            .used
            .iter_mut()
            .enumerate()
            .find(|(_, w)| **w != u64::MAX)?;
        let bit = bits.trailing_ones() as usize;
        *bits |= 1 << bit;
        Some(Arch::slot_area() + (word * 64 + bit) * Arch::SLOT_SIZE)
    }

    fn index(addr: usize) -> usize {
        (addr - Arch::slot_area()) / Arch::SLOT_SIZE
    }

    /// Gives back the slot at `addr`.
    pub(crate) fn free(&mut self, addr: usize) {
        let index = Self::index(addr);
        self.used[index / 64] &= !(1 << (index % 64));
    }

    /// Gives back the slot at `addr` once [`Slots::free_retired`] is told that an RCU-tasks
    /// grace period has passed since.
    #[cfg_attr(not(CONFIG_X86_64), allow(dead_code))]
    pub(crate) fn retire(&mut self, addr: usize) {
        let index = Self::index(addr);
        self.retired.0[index / 64] |= 1 << (index % 64);
    }

    /// The slots retired so far; the caller waits for an RCU-tasks grace period, then passes
    /// them to [`Slots::free_retired`].
    pub(crate) fn take_retired(&mut self) -> Retired {
        Retired(core::mem::replace(
            &mut self.retired.0,
            [0; <Arch as Insns>::SLOT_COUNT / 64],
        ))
    }

    /// Gives back `retired`, taken before a grace period that has passed.
    pub(crate) fn free_retired(&mut self, retired: Retired) {
        for (used, gone) in self.used.iter_mut().zip(retired.0) {
            *used &= !gone;
        }
    }

    /// Whether slots wait for a grace period.
    pub(crate) fn has_retired(&self) -> bool {
        !self.retired.is_empty()
    }

    /// How many slots are in use.
    pub(crate) fn in_use(&self) -> u32 {
        self.used.iter().map(|w| w.count_ones()).sum()
    }
}
