// SPDX-License-Identifier: GPL-2.0

//! What a probe does with the instruction its breakpoint displaces: run a copy out of line,
//! emulate it, or refuse it, with the errno Linux returns (arch/x86/kernel/kprobes/core.c:
//! `can_probe`, `__copy_instruction`, `prepare_emulation`, `prepare_singlestep`).

use super::decode::{decode, Insn, Map, VectorPrefix, MAX_INSN_LEN};

/// `EILSEQ`, `EINVAL`, `EOPNOTSUPP`, `ENOSPC`, as positive numbers.
pub mod errno {
    /// Illegal byte sequence.
    pub const EILSEQ: i32 = 84;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// Operation not supported.
    pub const EOPNOTSUPP: i32 = 95;
    /// No space left.
    pub const ENOSPC: i32 = 28;
}

/// Why an instruction cannot be probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The bytes do not decode (`EILSEQ`, as `can_probe` fails).
    Undecodable,
    /// INT3, INT n, INTO, INT1, UD0, UD1, UD2: the kernel uses them as traps (`EILSEQ`).
    ExceptionInsn,
    /// Another breakpoint is already there (`EINVAL`).
    ForeignBreakpoint,
    /// A Xen/KVM emulate prefix (`ud2; .ascii "xen"`) (`EINVAL`).
    EmulatePrefix,
    /// MOV SS or POP SS: they mask the trap after them (`EINVAL`).
    MasksExceptions,
    /// Cannot be emulated and must not run elsewhere (`EOPNOTSUPP`).
    Unsupported(&'static str),
    /// 15 bytes leave no room for the breakpoint after the copy (`ENOSPC`).
    TooLong,
}

impl Refusal {
    /// The (positive) errno Linux returns for this case.
    pub fn errno(self) -> i32 {
        match self {
            Self::Undecodable | Self::ExceptionInsn => errno::EILSEQ,
            Self::ForeignBreakpoint | Self::EmulatePrefix | Self::MasksExceptions => errno::EINVAL,
            Self::Unsupported(_) => errno::EOPNOTSUPP,
            Self::TooLong => errno::ENOSPC,
        }
    }

    /// Why, in a few words (for the log).
    pub fn reason(self) -> &'static str {
        match self {
            Self::Undecodable => "undecodable bytes",
            Self::ExceptionInsn => "a trap instruction",
            Self::ForeignBreakpoint => "another breakpoint",
            Self::EmulatePrefix => "a Xen/KVM emulate prefix",
            Self::MasksExceptions => "a mov to %ss",
            Self::Unsupported(what) => what,
            Self::TooLong => "a 15-byte instruction",
        }
    }
}

/// An instruction the trap handler carries out itself, because running it at another address
/// would do something else (relative branches, return addresses) or because it changes IF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emulation {
    /// `nop` (`90`, `66 90`) and `nopl`/`nopw` (`0f 1f /0`): nothing but the next instruction.
    Nop,
    /// `cli`.
    Cli,
    /// `sti`.
    Sti,
    /// `pushf`.
    Pushf,
    /// `popf`.
    Popf,
    /// `ret` / `ret imm16`: pops the return address, then `pop_bytes` more.
    Ret { pop_bytes: u16 },
    /// `call rel32`.
    Call { rel: i32 },
    /// `jmp rel8/rel32`.
    Jmp { rel: i32 },
    /// `jcc rel8/rel32` with condition code `cc` (low nibble of the opcode).
    Jcc { cc: u8, rel: i32 },
    /// `loopne` (0), `loope` (1), `loop` (2), `jrcxz` (3), with the address size in bits.
    Loop { kind: u8, addr_bits: u8, rel: i32 },
    /// `call *%reg` (register number 0-15).
    CallIndirect { reg: u8 },
    /// `jmp *%reg`.
    JmpIndirect { reg: u8 },
}

/// How a probe handles its instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Copy it to a slot (rewriting a RIP-relative displacement) and run it there, followed by
    /// a breakpoint.
    OutOfLine,
    /// Carry it out in the trap handler.
    Emulate(Emulation),
}

/// The result of preparing an instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// The decoded instruction.
    pub insn: Insn,
    /// What to do with it.
    pub plan: Plan,
}

/// The prefix Xen and KVM put before an instruction they should emulate: `ud2; .ascii "xen"`
/// or `ud2; .ascii "kvm"` (arch/x86/include/asm/emulate_prefix.h).
fn has_emulate_prefix(bytes: &[u8]) -> bool {
    bytes.len() >= 5
        && bytes[..2] == [0x0f, 0x0b]
        && (&bytes[2..5] == b"xen" || &bytes[2..5] == b"kvm")
}

/// Whether `insn` is one of the instructions the kernel uses to raise a trap on purpose.
pub fn is_exception_insn(insn: &Insn) -> bool {
    match (insn.map, insn.vector) {
        (Map::OneByte, VectorPrefix::None) => matches!(insn.opcode, 0xcc | 0xcd | 0xce | 0xf1),
        (Map::TwoByte, VectorPrefix::None) => matches!(insn.opcode, 0xff | 0xb9 | 0x0b),
        _ => false,
    }
}

/// Decides what a probe at the start of `bytes` does. `bytes` holds the original instruction
/// (at least [`MAX_INSN_LEN`] bytes, or up to the end of the function).
pub fn prepare(bytes: &[u8]) -> Result<Prepared, Refusal> {
    if has_emulate_prefix(bytes) {
        return Err(Refusal::EmulatePrefix);
    }
    let insn = decode(bytes).map_err(|_| Refusal::Undecodable)?;
    if insn.map == Map::OneByte && insn.vector == VectorPrefix::None && insn.opcode == 0xcc {
        return Err(Refusal::ForeignBreakpoint);
    }
    if is_exception_insn(&insn) {
        return Err(Refusal::ExceptionInsn);
    }
    // MOV SS (8e /2). POP SS (17) does not decode in 64-bit mode.
    if insn.map == Map::OneByte && insn.opcode == 0x8e && insn.modrm_reg() == Some(2) {
        return Err(Refusal::MasksExceptions);
    }
    let plan = emulation(&insn, bytes)?.map_or(Plan::OutOfLine, Plan::Emulate);
    if usize::from(insn.len) >= MAX_INSN_LEN {
        return Err(Refusal::TooLong);
    }
    Ok(Prepared { insn, plan })
}

fn emulation(insn: &Insn, bytes: &[u8]) -> Result<Option<Emulation>, Refusal> {
    use Emulation::*;
    if insn.vector != VectorPrefix::None {
        return Ok(None);
    }
    let imm = insn.immediate(bytes);
    let rel = imm as i32;
    // Near branches with a 66 prefix would truncate the target to 16 bits; no kernel code has
    // them, and Linux emulates them wrongly (as if 66 were absent on some paths).
    let branch_opsize16 = insn.prefixes.operand_size;
    let e = match insn.map {
        Map::OneByte => match insn.opcode {
            // Not `f3 90` (pause, kept) nor with REX.B (`xchg %r8, %rax`).
            0x90 if !insn.prefixes.rep
                && !insn.prefixes.lock
                && insn.rex.is_none_or(|r| r & 1 == 0) =>
            {
                Nop
            }
            0xfa => Cli,
            0xfb => Sti,
            0x9c => Pushf,
            0x9d => Popf,
            0xc3 => Ret { pop_bytes: 0 },
            0xc2 => Ret {
                pop_bytes: imm as u16,
            },
            // Far returns pop CS too; Linux emulates them as a near `ret` (wrong). Refuse.
            0xca | 0xcb => return Err(Refusal::Unsupported("far return")),
            0xcf => return Err(Refusal::Unsupported("iret")),
            0xe8 | 0xe9 | 0xeb | 0x70..=0x7f | 0xe0..=0xe3 if branch_opsize16 => {
                return Err(Refusal::Unsupported("16-bit branch target"))
            }
            0xe8 => Call { rel },
            0xe9 | 0xeb => Jmp { rel },
            0x70..=0x7f => Jcc {
                cc: insn.opcode & 0xf,
                rel,
            },
            0xe0..=0xe3 => Loop {
                kind: insn.opcode & 3,
                addr_bits: if insn.prefixes.address_size { 32 } else { 64 },
                rel,
            },
            0xff => match insn.modrm_reg() {
                Some(2 | 4) => {
                    if insn.prefixes.address_size || insn.modrm_mod() != Some(3) {
                        return Err(Refusal::Unsupported("indirect branch through memory"));
                    }
                    let reg = insn.modrm_rm().unwrap_or(0)
                        + if insn.rex.is_some_and(|r| r & 1 != 0) {
                            8
                        } else {
                            0
                        };
                    if insn.modrm_reg() == Some(2) {
                        CallIndirect { reg }
                    } else {
                        JmpIndirect { reg }
                    }
                }
                Some(3 | 5) => return Err(Refusal::Unsupported("far indirect branch")),
                _ => return Ok(None),
            },
            // hlt would sleep with interrupts off in the slot.
            0xf4 => return Err(Refusal::Unsupported("hlt")),
            _ => return Ok(None),
        },
        Map::TwoByte => match insn.opcode {
            0x80..=0x8f if branch_opsize16 => {
                return Err(Refusal::Unsupported("16-bit branch target"))
            }
            0x80..=0x8f => Jcc {
                cc: insn.opcode & 0xf,
                rel,
            },
            // VMCALL, VMLAUNCH, VMRESUME, VMXOFF, ...
            0x01 if insn.modrm_reg() == Some(0) && insn.modrm_mod() == Some(3) => {
                return Err(Refusal::Unsupported("VMX instruction"))
            }
            0x1f if !insn.prefixes.lock && insn.modrm_reg() == Some(0) => Nop,
            // sysret/sysexit leave the kernel.
            0x07 | 0x35 => return Err(Refusal::Unsupported("return to user mode")),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(e))
}

/// The displacement a RIP-relative operand needs when the instruction at `orig` runs at
/// `slot` instead, or `None` if it does not fit in 32 bits (Linux: "new displacement does not
/// fit into s32", `EINVAL`).
pub fn relocated_displacement(insn: &Insn, bytes: &[u8], orig: u64, slot: u64) -> Option<i32> {
    let new = (orig as i64)
        .wrapping_add(insn.displacement(bytes))
        .wrapping_sub(slot as i64);
    i32::try_from(new).ok()
}

#[cfg(test)]
#[path = "prepare/tests.rs"]
mod tests;
