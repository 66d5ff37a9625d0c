// SPDX-License-Identifier: GPL-2.0

//! Encodings from `aarch64-linux-gnu-as`; plans and refusals as Linux 7.3 decides them.

use super::*;

fn plan(insn: u32) -> Plan {
    classify(insn).unwrap_or_else(|r| panic!("{insn:#010x} refused: {}", r.reason()))
}

#[test]
fn pc_readers_are_simulated() {
    for (insn, sim) in [
        (0xd503_201f, Sim::Nop),
        (0x5400_0040, Sim::BCond),
        (0x54ff_ffc1, Sim::BCond),
        (0xb400_0083, Sim::Cbz),
        (0x35ff_ffe4, Sim::Cbz),
        (0xb608_0065, Sim::Tbz),
        (0x3717_ffa6, Sim::Tbz),
        (0x1000_0327, Sim::Adr),
        (0x9000_0008, Sim::Adr),
        (0x1400_0040, Sim::B),
        (0x97ff_ffc0, Sim::B),
        (0xd61f_0120, Sim::Br),
        (0xd63f_03c0, Sim::Br),
        (0xd65f_03c0, Sim::Ret),
        (0xd65f_0040, Sim::Ret),
        (0x5800_008a, Sim::LdrLiteral),
        (0x18ff_ffcb, Sim::LdrLiteral),
        (0x9800_004c, Sim::LdrswLiteral),
    ] {
        assert_eq!(plan(insn), Plan::Simulate(sim), "{insn:#010x}");
    }
}

#[test]
fn ordinary_instructions_run_out_of_line() {
    for insn in [
        0xa9bf_7bfd, // stp x29, x30, [sp, #-16]!
        0x9100_03fd, // mov x29, sp
        0x9100_1020, // add x0, x1, #4
        0xf940_0420, // ldr x0, [x1, #8]
        0xd503_3bbf, // dmb ish
        0xd503_233f, // paciasp
        0xd503_245f, // bti c
        0xd53b_4200, // mrs x0, nzcv
        0xc8e0_fc41, // casal x0, x1, [x2]
        0xb820_0041, // ldadd w0, w1, [x2]
    ] {
        assert_eq!(plan(insn), Plan::OutOfLine, "{insn:#010x}");
    }
}

#[test]
fn refused_like_linux() {
    for insn in [
        0x9c00_0080, // ldr q0, literal
        0xd800_0040, // prfm literal
        0xc85f_7c20, // ldxr
        0xc802_7c20, // stxr
        0x885f_fc20, // ldaxr
        0x8802_fc20, // stlxr
        0xd400_0001, // svc
        0xd420_0080, // brk
        0xd400_0022, // hvc
        0xd69f_03e0, // eret
        0xd503_42df, // msr daifset
        0xd518_1000, // msr sctlr_el1
        0xd53b_4220, // mrs daif
        0xd503_23bf, // autiasp: not on Linux's list of steppable hints
        0xd503_203f, // yield
        0xd503_207f, // wfi
        0xd65f_0bff, // retaa
        0xd71f_0822, // braa
        0x1901_0440, // cpyfp
    ] {
        let r = classify(insn).expect_err("refused");
        assert_eq!(r.errno(), errno::EINVAL, "{insn:#010x}");
    }
}

#[test]
fn exclusive_sequences() {
    let (ldxr, stxr, add) = (0xc85f_7c20, 0xc802_7c20, 0x9100_1020);
    // Nearest first: inside `ldxr; add; <probe>`.
    assert!(in_atomic_sequence([add, ldxr]));
    // After the store the sequence is over.
    assert!(!in_atomic_sequence([add, stxr, ldxr]));
    assert!(!in_atomic_sequence([add, add]));
    // Linux looks no further back than MAX_ATOMIC_CONTEXT instructions.
    let far = core::iter::repeat_n(add, MAX_ATOMIC_CONTEXT).chain([ldxr]);
    assert!(!in_atomic_sequence(far));
}
