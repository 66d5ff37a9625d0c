//! Which instructions are refused, emulated or run out of line, with Linux's errnos.

use super::*;

fn plan(bytes: &[u8]) -> Result<Plan, i32> {
    prepare(bytes).map(|p| p.plan).map_err(Refusal::errno)
}

#[test]
fn refused_like_linux() {
    assert_eq!(plan(&[0xcc]), Err(errno::EINVAL)); // someone else's int3
    for trap in [
        &[0xcd, 0x80][..],
        &[0xf1],
        &[0x0f, 0x0b],
        &[0x0f, 0xb9, 0x00],
        &[0x0f, 0xff, 0xc0],
    ] {
        assert_eq!(plan(trap), Err(errno::EILSEQ), "{trap:02x?}");
    }
    assert_eq!(
        plan(&[0x0f, 0x0b, b'x', b'e', b'n', 0x0f, 0xa2]),
        Err(errno::EINVAL)
    );
    assert_eq!(plan(&[0x8e, 0xd0]), Err(errno::EINVAL)); // mov %eax,%ss
    assert_eq!(plan(&[0xcf]), Err(errno::EOPNOTSUPP)); // iret
    assert_eq!(plan(&[0xff, 0x15, 1, 2, 3, 4]), Err(errno::EOPNOTSUPP)); // call *rip(disp)
    assert_eq!(plan(&[0x67, 0xff, 0xd0]), Err(errno::EOPNOTSUPP)); // 32-bit address size
    assert_eq!(plan(&[0xff, 0x1f]), Err(errno::EOPNOTSUPP)); // lcall *(%rdi)
    assert_eq!(plan(&[0x0f, 0x01, 0xc1]), Err(errno::EOPNOTSUPP)); // vmcall
    assert_eq!(plan(&[0x06]), Err(errno::EILSEQ)); // undecodable in 64-bit mode
                                                   // add $1, %ax after redundant operand-size prefixes.
    let mut long = [0x66u8; 15];
    long[11..14].copy_from_slice(&[0x05, 0x01, 0x00]);
    assert_eq!(plan(&long[..14]), Ok(Plan::OutOfLine)); // 14 bytes fit with the int3
    long[12..15].copy_from_slice(&[0x05, 0x01, 0x00]);
    long[11] = 0x66;
    assert_eq!(plan(&long), Err(errno::ENOSPC));
}

#[test]
fn emulated() {
    use Emulation::*;
    assert_eq!(plan(&[0xfa]), Ok(Plan::Emulate(Cli)));
    assert_eq!(plan(&[0x90]), Ok(Plan::Emulate(Nop)));
    assert_eq!(plan(&[0x66, 0x90]), Ok(Plan::Emulate(Nop)));
    assert_eq!(plan(&[0x0f, 0x1f, 0x00]), Ok(Plan::Emulate(Nop)));
    assert_eq!(
        plan(&[0x0f, 0x1f, 0x44, 0x00, 0x00]),
        Ok(Plan::Emulate(Nop))
    );
    // pause, and xchg %r8, %rax: not NOPs.
    assert_eq!(plan(&[0xf3, 0x90]), Ok(Plan::OutOfLine));
    assert_eq!(plan(&[0x41, 0x90]), Ok(Plan::OutOfLine));
    assert_eq!(plan(&[0x9d]), Ok(Plan::Emulate(Popf)));
    assert_eq!(plan(&[0xc3]), Ok(Plan::Emulate(Ret { pop_bytes: 0 })));
    assert_eq!(
        plan(&[0xc2, 0x10, 0x00]),
        Ok(Plan::Emulate(Ret { pop_bytes: 16 }))
    );
    assert_eq!(
        plan(&[0xe8, 0xfb, 0xff, 0xff, 0xff]),
        Ok(Plan::Emulate(Call { rel: -5 }))
    );
    assert_eq!(plan(&[0xeb, 0x80]), Ok(Plan::Emulate(Jmp { rel: -128 })));
    assert_eq!(
        plan(&[0x0f, 0x84, 0, 1, 0, 0]),
        Ok(Plan::Emulate(Jcc { cc: 4, rel: 256 }))
    );
    assert_eq!(
        plan(&[0x75, 0x02]),
        Ok(Plan::Emulate(Jcc { cc: 5, rel: 2 }))
    );
    assert_eq!(
        plan(&[0xe2, 0xfe]),
        Ok(Plan::Emulate(Loop {
            kind: 2,
            addr_bits: 64,
            rel: -2
        }))
    );
    assert_eq!(
        plan(&[0x67, 0xe3, 0x01]),
        Ok(Plan::Emulate(Loop {
            kind: 3,
            addr_bits: 32,
            rel: 1
        }))
    );
    assert_eq!(
        plan(&[0x41, 0xff, 0xd3]),
        Ok(Plan::Emulate(CallIndirect { reg: 11 }))
    );
    assert_eq!(
        plan(&[0xff, 0xe0]),
        Ok(Plan::Emulate(JmpIndirect { reg: 0 }))
    );
    assert_eq!(plan(&[0x66, 0xe9, 1, 0]), Err(errno::EOPNOTSUPP));
    assert_eq!(plan(&[0xca, 0, 0]), Err(errno::EOPNOTSUPP)); // lret: Linux wrongly runs a near ret
}

#[test]
fn out_of_line() {
    for bytes in [
        &[0xf3, 0x0f, 0x1e, 0xfa][..],   // endbr64
        &[0x55],                         // push %rbp
        &[0x48, 0x8b, 0x05, 1, 2, 3, 4], // mov rip(disp),%rax
        &[0xff, 0xc0],                   // inc %eax (group 5, not a branch)
        &[0xff, 0x30],                   // push (%rax)
        &[0xc5, 0xf8, 0x77],             // vzeroupper
        &[0x0f, 0x31],                   // rdtsc
    ] {
        assert_eq!(plan(bytes), Ok(Plan::OutOfLine), "{bytes:02x?}");
    }
}

#[test]
fn rip_relative_relocation() {
    let bytes = [0x48, 0x8b, 0x05, 0x00, 0x10, 0x00, 0x00]; // mov 0x1000(%rip),%rax
    let insn = prepare(&bytes).unwrap().insn;
    let orig = 0xffff_ffff_8100_0000u64;
    // The copy runs 0x100 bytes higher: the operand is 0x100 bytes closer.
    assert_eq!(
        relocated_displacement(&insn, &bytes, orig, orig + 0x100),
        Some(0xf00)
    );
    assert_eq!(
        relocated_displacement(&insn, &bytes, orig, orig - 0x7fff_0000),
        Some(0x7fff_1000)
    );
    assert_eq!(
        relocated_displacement(&insn, &bytes, orig, orig - 0x8000_0000),
        None
    );
}

#[test]
fn every_refusal_has_a_reason() {
    for r in [
        Refusal::Undecodable,
        Refusal::ExceptionInsn,
        Refusal::ForeignBreakpoint,
        Refusal::EmulatePrefix,
        Refusal::MasksExceptions,
        Refusal::Unsupported("iret"),
        Refusal::TooLong,
    ] {
        assert!(!r.reason().is_empty());
    }
    assert_eq!(Refusal::Unsupported("iret").reason(), "iret");
}
