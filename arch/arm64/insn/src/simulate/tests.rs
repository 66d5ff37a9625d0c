// SPDX-License-Identifier: GPL-2.0

//! Each simulated class against what the instruction does (encodings from
//! `aarch64-linux-gnu-as`, assembled at address 0).

use super::*;
use crate::classify::{classify, Plan};

const PC: u64 = 0xffff_8000_8010_0000;

#[derive(Default)]
struct M {
    x: [u64; 31],
    pc: u64,
    nzcv: u32,
    memory: [(u64, u64); 2],
}

impl Machine for M {
    fn reg(&self, n: u32) -> u64 {
        self.x.get(n as usize).copied().unwrap_or(0)
    }
    fn set_reg(&mut self, n: u32, value: u64) {
        if let Some(r) = self.x.get_mut(n as usize) {
            *r = value;
        }
    }
    fn set_pc(&mut self, pc: u64) {
        self.pc = pc;
    }
    fn nzcv(&self) -> u32 {
        self.nzcv
    }
    fn load(&self, addr: u64, bytes: usize) -> u64 {
        let v = self.memory.iter().find(|m| m.0 == addr).expect("loaded").1;
        if bytes == 4 {
            v & 0xffff_ffff
        } else {
            v
        }
    }
}

fn run(insn: u32, m: &mut M) {
    let Ok(Plan::Simulate(sim)) = classify(insn) else {
        panic!("{insn:#010x} is not simulated");
    };
    simulate(sim, insn, PC, m);
}

#[test]
fn conditional_branches() {
    let mut m = M::default();
    // b.eq .+8: Z clear, then set.
    run(0x5400_0040, &mut m);
    assert_eq!(m.pc, PC + 4);
    m.nzcv = 1 << 30;
    run(0x5400_0040, &mut m);
    assert_eq!(m.pc, PC + 8);
    // b.ne .-8 with Z set falls through.
    run(0x54ff_ffc1, &mut m);
    assert_eq!(m.pc, PC + 4);
    // cbz x3, .+16; cbnz w4, .-4 (only the low 32 bits count).
    m.x[3] = 0;
    run(0xb400_0083, &mut m);
    assert_eq!(m.pc, PC + 16);
    m.x[4] = 1 << 32;
    run(0x35ff_ffe4, &mut m);
    assert_eq!(m.pc, PC + 4);
    m.x[4] = 1;
    run(0x35ff_ffe4, &mut m);
    assert_eq!(m.pc, PC - 4);
    // tbz x5, #33, .+12; tbnz w6, #2, .-12.
    m.x[5] = 1 << 33;
    run(0xb608_0065, &mut m);
    assert_eq!(m.pc, PC + 4);
    m.x[6] = 4;
    run(0x3717_ffa6, &mut m);
    assert_eq!(m.pc, PC - 12);
}

#[test]
fn conditions() {
    let (n, z, c, v) = (1 << 31, 1 << 30, 1 << 29, 1 << 28);
    assert!(condition_holds(0x0, z)); // eq
    assert!(condition_holds(0x2, c)); // cs
    assert!(!condition_holds(0x8, c | z)); // hi
    assert!(condition_holds(0xa, n | v)); // ge
    assert!(!condition_holds(0xb, n | v)); // lt
    assert!(condition_holds(0xd, z)); // le
    assert!(condition_holds(0xe, 0)); // al
    assert!(condition_holds(0xf, 0)); // nv behaves as al
}

#[test]
fn addresses_and_branches() {
    let mut m = M::default();
    // adr x7, .+100; adrp x8, .+0x3000 (page of PC + 3 pages).
    run(0x1000_0327, &mut m);
    assert_eq!((m.x[7], m.pc), (PC + 100, PC + 4));
    run(0x9000_0008 | (3 << 29), &mut m);
    assert_eq!(m.x[8], (PC & !0xfff) + 0x3000);
    // b .+0x100; bl .-0x100 links.
    run(0x1400_0040, &mut m);
    assert_eq!(m.pc, PC + 0x100);
    run(0x97ff_ffc0, &mut m);
    assert_eq!((m.pc, m.x[30]), (PC - 0x100, PC + 4));
    // br x9; blr x30 branches to the old x30; ret x2.
    m.x[9] = 0x1234;
    run(0xd61f_0120, &mut m);
    assert_eq!(m.pc, 0x1234);
    m.x[30] = 0x5678;
    run(0xd63f_03c0, &mut m);
    assert_eq!((m.pc, m.x[30]), (0x5678, PC + 4));
    m.x[2] = 0x9abc;
    run(0xd65f_0040, &mut m);
    assert_eq!(m.pc, 0x9abc);
}

#[test]
fn literal_loads() {
    let mut m = M {
        memory: [(PC + 16, 0xffff_ffff_8000_0001), (PC - 8, 0x1_2345_6789)],
        ..M::default()
    };
    // ldr x10, .+16; ldr w11, .-8; ldrsw x12, .+16 (sign-extended).
    run(0x5800_008a, &mut m);
    assert_eq!((m.x[10], m.pc), (0xffff_ffff_8000_0001, PC + 4));
    run(0x18ff_ffcb, &mut m);
    assert_eq!(m.x[11], 0x2345_6789);
    run(0x9800_008c, &mut m);
    assert_eq!(m.x[12], 0xffff_ffff_8000_0001);
}

#[test]
fn writes_to_xzr_are_dropped() {
    let mut m = M::default();
    // adr xzr, .+100 (rd = 31).
    run(0x1000_033f, &mut m);
    assert!(m.x.iter().all(|&r| r == 0));
}
