//! Decoder unit tests on encodings as gcc emits them into kernel text.

use super::*;

fn len(bytes: &[u8]) -> u8 {
    decode(bytes)
        .unwrap_or_else(|e| panic!("{bytes:02x?}: {e:?}"))
        .len
}

#[test]
fn common_kernel_instructions() {
    let cases: &[(&[u8], u8)] = &[
        (&[0xf3, 0x0f, 0x1e, 0xfa], 4),                       // endbr64
        (&[0x55], 1),                                         // push %rbp
        (&[0x48, 0x89, 0xe5], 3),                             // mov %rsp,%rbp
        (&[0x41, 0x57], 2),                                   // push %r15
        (&[0xe8, 1, 2, 3, 4], 5),                             // call rel32
        (&[0x0f, 0x1f, 0x44, 0x00, 0x00], 5),                 // nopl 0(%rax,%rax)
        (&[0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0], 10), // cs nopw
        (&[0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8], 10),          // movabs $imm64,%rax
        (&[0x66, 0xb8, 1, 2], 4),                             // mov $imm16,%ax
        (&[0xb8, 1, 2, 3, 4], 5),                             // mov $imm32,%eax
        (&[0xc3], 1),                                         // ret
        (&[0xcc], 1),                                         // int3
        (&[0x0f, 0x0b], 2),                                   // ud2
        (&[0xf6, 0xc3, 0x01], 3),                             // test $1,%bl
        (&[0xf6, 0xd8], 2),                                   // neg %al
        (&[0xf7, 0x05, 1, 2, 3, 4, 5, 6, 7, 8], 10),          // testl $imm32,rip(disp)
        (&[0x48, 0xc7, 0xc0, 1, 2, 3, 4], 7),                 // mov $imm32,%rax
        (&[0x66, 0xc7, 0x00, 1, 2], 5),                       // movw $imm16,(%rax)
        (&[0x0f, 0x20, 0xc0], 3),                             // mov %cr0,%rax
        (&[0x0f, 0x22, 0x05], 3),                             // mov to %cr0: mod ignored
        (&[0xa1, 1, 2, 3, 4, 5, 6, 7, 8], 9),                 // movabs moffs64,%eax
        (&[0x67, 0xa1, 1, 2, 3, 4], 6),                       // mov moffs32,%eax
        (&[0xc8, 0x10, 0x00, 0x01], 4),                       // enter
        (&[0x8f, 0xc0], 2),                                   // pop %rax
        (&[0x42, 0x8b, 0x04, 0xa5, 1, 2, 3, 4], 8),           // mov disp32(,%r12,4),%eax
        (&[0x8b, 0x44, 0x24, 0x08], 4),                       // mov 8(%rsp),%eax
        (&[0x8b, 0x84, 0x24, 1, 2, 3, 4], 7),                 // mov disp32(%rsp),%eax
        (&[0x65, 0x48, 0x8b, 0x04, 0x25, 1, 2, 3, 4], 9),     // mov %gs:disp32,%rax
        (&[0xf0, 0x48, 0x0f, 0xb1, 0x17], 5),                 // lock cmpxchg %rdx,(%rdi)
        (&[0x0f, 0x01, 0xf8], 3),                             // swapgs
        (&[0x0f, 0xae, 0xe8], 3),                             // lfence
        (&[0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08], 6),           // palignr $8
        (&[0xc5, 0xf8, 0x77], 3),                             // vzeroupper
        (&[0xc4, 0xe2, 0x79, 0x18, 0x05, 1, 2, 3, 4], 9),     // vbroadcastss rip
        (&[0x62, 0xf1, 0x7c, 0x48, 0x28, 0xc1], 6),           // vmovaps %zmm1,%zmm0
        (&[0x62, 0xf3, 0x7d, 0x48, 0x39, 0xc1, 0x01], 7),     // vextracti32x4 $1
        (&[0x8f, 0xe8, 0x78, 0xc0, 0xc1, 0x05], 6),           // XOP vprotb $5
        (&[0x0f, 0x0f, 0xc1, 0xb4], 4),                       // 3DNow! pfmul
        (&[0x66, 0x0f, 0x78, 0xc0, 0x01, 0x02], 6),           // extrq $1,$2
        (&[0x0f, 0x85, 1, 2, 3, 4], 6),                       // jne rel32
        (&[0x74, 0x05], 2),                                   // je rel8
        (&[0xff, 0xe0], 2),                                   // jmp *%rax
        (&[0xff, 0x25, 1, 2, 3, 4], 6),                       // jmp *rip(disp)
        (&[0x40, 0x66, 0x90], 3),                             // REX then 66: REX ignored
    ];
    for &(bytes, want) in cases {
        assert_eq!(len(bytes), want, "{bytes:02x?}");
    }
}

#[test]
fn operand_fields() {
    let bytes = [0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00];
    let insn = decode(&bytes).unwrap();
    assert!(insn.is_rip_relative());
    assert_eq!((insn.disp_offset, insn.disp_size), (3, 4));
    assert_eq!(insn.displacement(&bytes), 0x10);
    assert!(insn.rex_w());
    assert_eq!(
        (insn.map, insn.opcode, insn.opcode_offset),
        (Map::OneByte, 0x8b, 1)
    );

    let bytes = [0x74, 0xfe];
    let insn = decode(&bytes).unwrap();
    assert_eq!(
        (insn.imm_offset, insn.imm_size, insn.immediate(&bytes)),
        (1, 1, -2)
    );

    let mov_cr = decode(&[0x0f, 0x22, 0x05]).unwrap();
    assert!(!mov_cr.is_rip_relative());

    let sib_no_base = decode(&[0x8b, 0x04, 0x25, 1, 0, 0, 0]).unwrap();
    assert!(!sib_no_base.is_rip_relative());
    assert_eq!(sib_no_base.disp_size, 4);
}

#[test]
fn errors() {
    assert_eq!(decode(&[]), Err(DecodeError::Truncated));
    assert_eq!(decode(&[0x48, 0x8b]), Err(DecodeError::Truncated));
    assert_eq!(decode(&[0xe8, 1, 2]), Err(DecodeError::Truncated));
    for op in [0x06, 0x1f, 0x27, 0x60, 0x82, 0x9a, 0xce, 0xd4, 0xd6, 0xea] {
        assert_eq!(
            decode(&[op, 0, 0, 0, 0, 0]),
            Err(DecodeError::Invalid),
            "{op:02x}"
        );
    }
    for op in [0x04, 0x0a, 0x0c, 0x24, 0x36, 0x39, 0x3b, 0x7a] {
        assert_eq!(
            decode(&[0x0f, op, 0xc0]),
            Err(DecodeError::Invalid),
            "0f {op:02x}"
        );
    }
    assert_eq!(decode(&[0x48, 0xc5, 0xf8, 0x77]), Err(DecodeError::Invalid));
    let mut long = [0x66u8; 16];
    long[15] = 0x90;
    assert_eq!(decode(&long), Err(DecodeError::TooLong));
    // 14 prefixes and a one-byte opcode is exactly 15 bytes.
    assert_eq!(len(&long[1..]), 15);
}
