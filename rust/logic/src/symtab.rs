// SPDX-License-Identifier: GPL-2.0

//! A name-to-address table of the core kernel's text symbols, built once from
//! `/proc/kallsyms` so that resolving a probe's symbol does not read that file again.
//!
//! Each symbol takes 16 bytes: the 64-bit FNV-1a hash of its name and its address, sorted by
//! both. Names are not kept: the chance that an absent name hashes like one of the ~10^5
//! symbols is about 10^5 / 2^64 per look-up. Among symbols of one name the lowest address
//! comes first, as `kallsyms_lookup_name()` answers for the core kernel.

/// One symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    /// [`hash`] of its name.
    pub hash: u64,
    /// Its address.
    pub addr: usize,
}

impl Slot {
    /// The slot of symbol `name` at `addr`.
    pub fn new(name: &[u8], addr: usize) -> Self {
        Self {
            hash: hash(name),
            addr,
        }
    }
}

/// 64-bit FNV-1a.
pub fn hash(name: &[u8]) -> u64 {
    name.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether a `/proc/kallsyms` type letter is one of text (`t`, `T`) or of a weak symbol
/// (`w`, `W`, which functions defined `__weak` have).
pub fn is_cached_kind(kind: u8) -> bool {
    matches!(kind, b't' | b'T' | b'w' | b'W')
}

/// Orders a table for [`find`].
pub fn sort(table: &mut [Slot]) {
    table.sort_unstable();
}

/// The lowest address of a symbol called `name` in a table ordered by [`sort`].
pub fn find(table: &[Slot], name: &[u8]) -> Option<usize> {
    let h = hash(name);
    let first = table.partition_point(|s| s.hash < h);
    table.get(first).filter(|s| s.hash == h).map(|s| s.addr)
}

#[cfg(test)]
#[path = "symtab/tests.rs"]
mod tests;
