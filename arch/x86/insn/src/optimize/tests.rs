//! Which probes can become jumps: the replaced range, and the function-wide checks.

use super::*;

/// A function's text at 0x1000, with ftrace's site (if any) and retpoline thunks.
struct Func<'a> {
    bytes: &'a [u8],
    opaque: &'a [(u64, usize)],
    thunk: Option<u64>,
}

const START: u64 = 0x1000;

impl Text for Func<'_> {
    fn read(&self, at: u64, buf: &mut [u8; MAX_INSN_LEN]) -> Option<usize> {
        let from = usize::try_from(at.checked_sub(START)?).ok()?;
        let n = self.bytes.len().checked_sub(from)?.min(MAX_INSN_LEN);
        buf[..n].copy_from_slice(&self.bytes[from..from + n]);
        Some(n)
    }
    fn opaque(&self, at: u64) -> usize {
        self.opaque.iter().find(|o| o.0 == at).map_or(0, |o| o.1)
    }
    fn is_indirect_thunk(&self, target: u64) -> bool {
        Some(target) == self.thunk
    }
}

fn check(bytes: &[u8], addr: u64, len: usize) -> Result<(), Refusal> {
    let f = Func {
        bytes,
        opaque: &[],
        thunk: None,
    };
    check_function(&f, START, START + bytes.len() as u64, addr, len)
}

// push %rbp; mov %rsp,%rbp; lea 1(%rdi),%rax; add $0,%rax; pop %rbp; ret
const BENCH: &[u8] = &[
    0x55, 0x48, 0x89, 0xe5, 0x48, 0x8d, 0x47, 0x01, 0x48, 0x83, 0xc0, 0x00, 0x5d, 0xc3,
];

#[test]
fn range_covers_whole_instructions() {
    // From `push %rbp`: 1 + 3 + 4 bytes.
    assert_eq!(jump_range(BENCH, START, |_| false), Ok(8));
    // From the `lea`: 4 + 4.
    assert_eq!(jump_range(&BENCH[4..], START + 4, |_| false), Ok(8));
    // Exactly five: a 5-byte `mov $imm32, %eax`.
    assert_eq!(
        jump_range(&[0xb8, 1, 0, 0, 0, 0xc3], START, |_| false),
        Ok(5)
    );
    // NOPs run anywhere (the trap emulates them, the detour can run them).
    assert_eq!(
        jump_range(&[0x0f, 0x1f, 0x44, 0, 0, 0xc3], START, |_| false),
        Ok(5)
    );
}

#[test]
fn range_refusals() {
    // `pop %rbp; ret`: a ret cannot run in the detour.
    assert_eq!(
        jump_range(&BENCH[12..], START + 12, |_| false),
        Err(Refusal::NotCopyable { at: START + 13 })
    );
    // Another probe on the `mov`.
    assert_eq!(
        jump_range(BENCH, START, |a| a == START + 1),
        Err(Refusal::ProbeInRange { at: START + 1 })
    );
    // A probe at the address itself is the one being optimized.
    assert_eq!(jump_range(BENCH, START, |a| a == START), Ok(8));
    // The function ends first.
    assert_eq!(
        jump_range(&BENCH[..4], START, |_| false),
        Err(Refusal::TooShort)
    );
    // Branches, calls, traps, lock prefixes.
    for insn in [
        &[0x74, 0x02, 0x90, 0x90, 0x90, 0x90][..], // je
        &[0xe8, 0, 0, 0, 0, 0x90],                 // call
        &[0xcc, 0x90, 0x90, 0x90, 0x90, 0x90],     // int3
        &[0xf0, 0x48, 0x0f, 0xc1, 0x07, 0x90],     // lock xadd
        &[0x9c, 0x90, 0x90, 0x90, 0x90, 0x90],     // pushf
        &[0xff, 0xe0, 0x90, 0x90, 0x90, 0x90],     // jmp *%rax
    ] {
        assert_eq!(
            jump_range(insn, START, |_| false),
            Err(Refusal::NotCopyable { at: START }),
            "{insn:02x?}"
        );
    }
}

#[test]
fn rip_relative_is_copyable() {
    // mov 0x10(%rip),%rax: the detour rewrites the displacement.
    assert_eq!(
        jump_range(&[0x48, 0x8b, 0x05, 0x10, 0, 0, 0, 0xc3], START, |_| false),
        Ok(7)
    );
}

#[test]
fn function_without_branches_passes() {
    assert_eq!(check(BENCH, START + 4, 8), Ok(()));
}

#[test]
fn branch_into_the_range_is_refused() {
    // 0: jmp +4 (to 6); 2: mov $1,%eax (at 2..7); 7: ret
    let f = [0xeb, 0x04, 0xb8, 1, 0, 0, 0, 0xc3];
    // 6 is inside (2, 7)... the jump lands mid-instruction of the range.
    assert_eq!(
        check(&f, START + 2, 5),
        Err(Refusal::JumpIntoRange { from: START })
    );
    // To the probe address itself: fine.
    let f = [0xeb, 0x00, 0xb8, 1, 0, 0, 0, 0xc3];
    assert_eq!(check(&f, START + 2, 5), Ok(()));
    // To the first byte after the range: fine.
    let f = [0xeb, 0x05, 0xb8, 1, 0, 0, 0, 0xc3];
    assert_eq!(check(&f, START + 2, 5), Ok(()));
    // A backward jcc rel32 into the range, from after it.
    let f = [
        0xb8, 1, 0, 0, 0, // 0: mov $1,%eax
        0x0f, 0x85, 0xf6, 0xff, 0xff, 0xff, // 5: jne 5+6-10 = 1
        0xc3,
    ];
    assert_eq!(
        check(&f, START, 5),
        Err(Refusal::JumpIntoRange { from: START + 5 })
    );
}

#[test]
fn indirect_jumps_are_refused() {
    // jmp *%rax anywhere in the function.
    let f = [0xb8, 1, 0, 0, 0, 0xff, 0xe0];
    assert_eq!(
        check(&f, START, 5),
        Err(Refusal::IndirectJump { at: START + 5 })
    );
    // jmp *0x8(%rdi).
    let f = [0xb8, 1, 0, 0, 0, 0xff, 0x67, 0x08];
    assert_eq!(
        check(&f, START, 5),
        Err(Refusal::IndirectJump { at: START + 5 })
    );
    // A jump to a retpoline thunk is one; a call to it returns to the next instruction.
    let f = [0xb8, 1, 0, 0, 0, 0xe8, 0, 0, 0, 0, 0xe9, 0, 0, 0, 0];
    let thunk = Func {
        bytes: &f,
        opaque: &[],
        thunk: Some(START + 10),
    };
    assert_eq!(check_function(&thunk, START, START + 15, START, 5), Ok(()));
    let thunk = Func {
        thunk: Some(START + 15),
        ..thunk
    };
    assert_eq!(
        check_function(&thunk, START, START + 15, START, 5),
        Err(Refusal::IndirectJump { at: START + 10 })
    );
}

#[test]
fn breakpoints_padding_and_opaque_text() {
    // ret; int3 (straight-line-speculation padding) is fine.
    let f = [0xb8, 1, 0, 0, 0, 0xc3, 0xcc, 0xcc];
    assert_eq!(check(&f, START, 5), Ok(()));
    // An int3 in the flow is somebody's breakpoint.
    let f = [0xb8, 1, 0, 0, 0, 0xcc, 0xc3];
    assert_eq!(
        check(&f, START, 5),
        Err(Refusal::Breakpoint { at: START + 5 })
    );
    // ftrace's site (a breakpoint while ftrace patches it) is stepped over, not decoded.
    let f = [0xcc, 0, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0xc3];
    let traced = Func {
        bytes: &f,
        opaque: &[(START, 5)],
        thunk: None,
    };
    assert_eq!(
        check_function(&traced, START, START + 11, START + 5, 5),
        Ok(())
    );
    // Undecodable bytes.
    let f = [0xb8, 1, 0, 0, 0, 0x06];
    assert_eq!(
        check(&f, START, 5),
        Err(Refusal::Undecodable { at: START + 5 })
    );
}
