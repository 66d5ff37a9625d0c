// SPDX-License-Identifier: GPL-2.0

//! An open-addressing hash index over a table of addresses: the hit path finds a probed
//! address in a few instructions however many addresses there are (a sorted table needs
//! log2(n) steps).
//!
//! The index is a slice of `u32` slots, a power of two long and at least twice as long as the
//! table, so that a probe sequence meets an empty slot soon. A slot holds a table position + 1
//! (0: empty). The caller owns the storage (no allocation here).

/// Slots an index over `n` addresses needs: a power of two, at least `2 * n` and 16.
pub fn slots_for(n: usize) -> usize {
    (2 * n).max(16).next_power_of_two()
}

/// The first slot `addr` may be in, for an index of `len` (a power of two) slots. Instruction
/// addresses share their low bits rarely enough, but aligned ones (arm64) have zeroes there:
/// multiplying mixes the high bits down (Fibonacci hashing).
fn home(addr: usize, len: usize) -> usize {
    let h = (addr as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - len.trailing_zeros())) as usize
}

/// Fills `index` (all zeroes, [`slots_for`]`(addrs.len())` long) with the positions of
/// `addrs`, which has no address twice.
pub fn build(index: &mut [u32], addrs: impl Iterator<Item = usize>) {
    let mask = index.len() - 1;
    for (pos, addr) in addrs.enumerate() {
        let mut i = home(addr, index.len());
        while index[i] != 0 {
            i = (i + 1) & mask;
        }
        index[i] = pos as u32 + 1;
    }
}

/// The position of `addr` in the table `index` was built over (`addr_at` gives the address
/// at a position), if it is there.
pub fn find(index: &[u32], addr: usize, addr_at: impl Fn(usize) -> usize) -> Option<usize> {
    if index.is_empty() {
        return None;
    }
    let mask = index.len() - 1;
    let mut i = home(addr, index.len());
    loop {
        let pos = index[i].checked_sub(1)? as usize;
        if addr_at(pos) == addr {
            return Some(pos);
        }
        i = (i + 1) & mask;
    }
}

#[cfg(test)]
#[path = "addr_index/tests.rs"]
mod tests;
