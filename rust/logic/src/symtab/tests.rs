// SPDX-License-Identifier: GPL-2.0

extern crate std;

use super::*;
use std::vec::Vec;

fn table(symbols: &[(&str, usize)]) -> Vec<Slot> {
    let mut t: Vec<Slot> = symbols
        .iter()
        .map(|&(n, a)| Slot::new(n.as_bytes(), a))
        .collect();
    sort(&mut t);
    t
}

#[test]
fn finds_each_symbol() {
    let names = [
        "kernel_clone",
        "vfs_read",
        "do_sys_openat2",
        "ksys_read",
        "_stext",
    ];
    let t = table(&[
        ("kernel_clone", 0x1000),
        ("vfs_read", 0x2000),
        ("do_sys_openat2", 0x3000),
        ("ksys_read", 0x4000),
        ("_stext", 0x500),
    ]);
    for (n, want) in names.iter().zip([0x1000, 0x2000, 0x3000, 0x4000, 0x500]) {
        assert_eq!(find(&t, n.as_bytes()), Some(want), "{n}");
    }
}

#[test]
fn absent_names_are_not_found() {
    let t = table(&[("kernel_clone", 0x1000), ("vfs_read", 0x2000)]);
    assert_eq!(find(&t, b"kernel_clon"), None);
    assert_eq!(find(&t, b"kernel_clone "), None);
    assert_eq!(find(&t, b""), None);
    assert_eq!(find(&[], b"vfs_read"), None);
}

#[test]
fn duplicates_give_the_lowest_address() {
    // Static functions of one name in several files, listed in any order.
    let t = table(&[
        ("cleanup", 0x9000),
        ("other", 0x100),
        ("cleanup", 0x3000),
        ("cleanup", 0x7000),
    ]);
    assert_eq!(find(&t, b"cleanup"), Some(0x3000));
    assert_eq!(find(&t, b"other"), Some(0x100));
}

#[test]
fn fnv1a_reference_values() {
    // From the FNV reference test vectors.
    assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn text_and_weak_kinds_are_cached() {
    for k in [b't', b'T', b'w', b'W'] {
        assert!(is_cached_kind(k));
    }
    for k in [b'd', b'D', b'b', b'B', b'r', b'R', b'a', b'A', b'u', b'U'] {
        assert!(!is_cached_kind(k));
    }
}
