// SPDX-License-Identifier: GPL-2.0

extern crate std;

use super::*;
use std::{vec, vec::Vec};

fn index_of(addrs: &[usize]) -> Vec<u32> {
    let mut index = vec![0; slots_for(addrs.len())];
    build(&mut index, addrs.iter().copied());
    index
}

#[test]
fn sizes() {
    assert_eq!(slots_for(0), 16);
    assert_eq!(slots_for(8), 16);
    assert_eq!(slots_for(9), 32);
    assert_eq!(slots_for(10_000), 32_768);
}

#[test]
fn finds_every_address_and_no_other() {
    // x86 addresses of any alignment, arm64 ones all 4-aligned, and a run of neighbours.
    for (base, step) in [
        (0xffff_ffff_8100_0000usize, 1),
        (0xffff_8000_8001_0000, 4),
        (0xffff_ffff_c000_1234, 7),
    ] {
        let addrs: Vec<usize> = (0..10_000).map(|i| base + i * step).collect();
        let index = index_of(&addrs);
        for (pos, &a) in addrs.iter().enumerate() {
            assert_eq!(find(&index, a, |p| addrs[p]), Some(pos));
        }
        assert_eq!(find(&index, base - 1, |p| addrs[p]), None);
        assert_eq!(find(&index, base + 10_000 * step, |p| addrs[p]), None);
    }
}

#[test]
fn empty_and_colliding() {
    assert_eq!(find(&[], 0x1000, |_| unreachable!()), None);
    let index = index_of(&[]);
    assert_eq!(find(&index, 0x1000, |_| unreachable!()), None);
    // Addresses 2^60 apart share their home slot in a small index: found by probing on.
    let addrs = [0x1000usize, 0x1000 + (1 << 60), 0x1000 + (2 << 60)];
    let index = index_of(&addrs);
    for (pos, &a) in addrs.iter().enumerate() {
        assert_eq!(find(&index, a, |p| addrs[p]), Some(pos));
    }
}

#[test]
fn probe_sequences_stay_short() {
    // At most half full: the longest run from a home slot to the address stays small.
    let addrs: Vec<usize> = (0..10_000).map(|i| 0xffff_8000_8001_0000 + i * 4).collect();
    let index = index_of(&addrs);
    let mask = index.len() - 1;
    let longest = addrs
        .iter()
        .map(|&a| {
            let mut i = home(a, index.len());
            let mut n = 1;
            while addrs[index[i] as usize - 1] != a {
                i = (i + 1) & mask;
                n += 1;
            }
            n
        })
        .max()
        .unwrap();
    assert!(longest <= 16, "longest probe sequence {longest}");
}
