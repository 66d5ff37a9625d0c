// SPDX-License-Identifier: GPL-2.0

//! Whether a probe can become a jump ("jump optimization", Linux's optprobes:
//! arch/x86/kernel/kprobes/opt.c, `can_optimize()` and `copy_optimized_instructions()`).
//!
//! An optimized probe replaces the [`JMP_LEN`] bytes at the probe address with `jmp rel32` to
//! a detour that calls the handlers and then runs the instructions those bytes belonged to.
//! That is safe only if:
//! - whole instructions cover the jump, each of them able to run anywhere ([`copyable`]), and
//!   no other probe is on them ([`jump_range`]);
//! - nothing in the function can jump into the replaced bytes after the first: no relative
//!   branch targets them, and the function has no indirect jump, whose targets nobody knows
//!   ([`check_function`]). The kernel side adds what only it knows: exception-table entries
//!   and jump-label targets.

use super::decode::{decode, Insn, Map, VectorPrefix, MAX_INSN_LEN};
use super::prepare::{prepare, Emulation, Plan};

/// The length of `jmp rel32`: the bytes an optimized probe replaces.
pub const JMP_LEN: usize = 5;

/// Why a probe stays a breakpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The instruction at `at` cannot run in the detour (a branch, a call, a trap, an
    /// instruction the trap handler emulates, or one with a `lock` prefix, which the kernel
    /// rewrites when CPUs come and go).
    NotCopyable { at: u64 },
    /// The instructions the jump replaces end past the function (or past [`MAX_INSN_LEN`]
    /// bytes from the probe).
    TooShort,
    /// Another probe is on an instruction the jump replaces.
    ProbeInRange { at: u64 },
    /// The function has an indirect jump at `at` (or a jump to a retpoline thunk).
    IndirectJump { at: u64 },
    /// The branch at `from` goes into the replaced bytes.
    JumpIntoRange { from: u64 },
    /// The function's text at `at` does not decode.
    Undecodable { at: u64 },
    /// A breakpoint that is not rkprobes' (nor padding after the end of the flow) is at `at`.
    Breakpoint { at: u64 },
}

impl Refusal {
    /// Why, in a few words (for the log), and where.
    pub fn reason(self) -> (&'static str, Option<u64>) {
        match self {
            Self::NotCopyable { at } => ("an instruction that cannot run in a detour", Some(at)),
            Self::TooShort => ("fewer than 5 bytes of instructions before the end", None),
            Self::ProbeInRange { at } => ("another probe on the replaced bytes", Some(at)),
            Self::IndirectJump { at } => ("an indirect jump in the function", Some(at)),
            Self::JumpIntoRange { from } => ("a branch into the replaced bytes", Some(from)),
            Self::Undecodable { at } => ("undecodable text in the function", Some(at)),
            Self::Breakpoint { at } => ("a foreign breakpoint in the function", Some(at)),
        }
    }
}

/// Whether execution never falls through `insn`, so that an `int3` after it is padding (as
/// with straight-line-speculation hardening), not someone's breakpoint.
pub fn ends_flow(insn: &Insn) -> bool {
    let one_byte = insn.map == Map::OneByte && insn.vector == VectorPrefix::None;
    one_byte
        && (matches!(insn.opcode, 0xc3 | 0xc2 | 0xe9 | 0xeb | 0xcc)
            || insn.opcode == 0xff && insn.modrm_reg() == Some(4))
}

/// Whether the instruction at the start of `bytes` does the same wherever it runs (after a
/// RIP-relative displacement is rewritten), so that the detour may run it. Returns its
/// length.
pub fn copyable(bytes: &[u8]) -> Option<usize> {
    let p = prepare(bytes).ok()?;
    let runs_anywhere = matches!(p.plan, Plan::OutOfLine | Plan::Emulate(Emulation::Nop));
    (runs_anywhere && !p.insn.prefixes.lock).then_some(usize::from(p.insn.len))
}

/// The bytes the jump at `addr` replaces, rounded up to whole instructions: at least
/// [`JMP_LEN`], all [`copyable`], none of them but the first probed. `bytes` holds the
/// original text from `addr` to at most the end of its function.
pub fn jump_range(
    bytes: &[u8],
    addr: u64,
    is_probed: impl Fn(u64) -> bool,
) -> Result<usize, Refusal> {
    let mut len = 0;
    while len < JMP_LEN {
        let at = addr + len as u64;
        if len > 0 && is_probed(at) {
            return Err(Refusal::ProbeInRange { at });
        }
        if len >= bytes.len() {
            return Err(Refusal::TooShort);
        }
        len += copyable(&bytes[len..]).ok_or(Refusal::NotCopyable { at })?;
    }
    if len > bytes.len().min(MAX_INSN_LEN) {
        return Err(Refusal::TooShort);
    }
    Ok(len)
}

/// The function's text as [`check_function`] reads it.
pub trait Text {
    /// Reads up to [`MAX_INSN_LEN`] bytes at `at` into `buf` (never past the function's end),
    /// with rkprobes' own breakpoints undone. Returns how many, or `None` if unreadable.
    fn read(&self, at: u64, buf: &mut [u8; MAX_INSN_LEN]) -> Option<usize>;
    /// Bytes to step over at `at` without decoding (0 if none): ftrace's site, which changes
    /// under us, or another optimized probe's jump and the instructions it replaced (checked
    /// when it was optimized).
    fn opaque(&self, at: u64) -> usize;
    /// Whether `target` is a retpoline thunk: a jump there is an indirect jump.
    fn is_indirect_thunk(&self, target: u64) -> bool;
}

/// The target of a relative branch (`jmp`, `jcc`, `call`, `loop`, `jrcxz`), if `insn` at `at`
/// is one.
fn branch_target(insn: &Insn, bytes: &[u8], at: u64) -> Option<u64> {
    if insn.vector != VectorPrefix::None {
        return None;
    }
    let relative = match insn.map {
        Map::OneByte => matches!(insn.opcode, 0x70..=0x7f | 0xe0..=0xe3 | 0xe8 | 0xe9 | 0xeb),
        Map::TwoByte => matches!(insn.opcode, 0x80..=0x8f),
        _ => false,
    };
    relative.then(|| (at + u64::from(insn.len)).wrapping_add(insn.immediate(bytes) as u64))
}

/// Whether `insn` jumps through a register or memory (`ff /4`, `ff /5`).
fn is_indirect_jump(insn: &Insn) -> bool {
    insn.map == Map::OneByte
        && insn.vector == VectorPrefix::None
        && insn.opcode == 0xff
        && matches!(insn.modrm_reg(), Some(4 | 5))
}

/// Walks the function `[start, end)` and refuses a jump over `[addr, addr + len)` if anything
/// in it could land in `(addr, addr + len)`.
pub fn check_function(
    text: &impl Text,
    start: u64,
    end: u64,
    addr: u64,
    len: usize,
) -> Result<(), Refusal> {
    let inside = |target: u64| target > addr && target < addr + len as u64;
    let mut at = start;
    let mut after_flow_end = false;
    let mut buf = [0u8; MAX_INSN_LEN];
    while at < end {
        let skip = text.opaque(at);
        if skip > 0 {
            at += skip as u64;
            after_flow_end = false;
            continue;
        }
        let n = text.read(at, &mut buf).ok_or(Refusal::Undecodable { at })?;
        if buf[0] == 0xcc {
            if !after_flow_end {
                return Err(Refusal::Breakpoint { at });
            }
            at += 1;
            continue;
        }
        let insn = decode(&buf[..n]).map_err(|_| Refusal::Undecodable { at })?;
        if is_indirect_jump(&insn) {
            return Err(Refusal::IndirectJump { at });
        }
        if let Some(target) = branch_target(&insn, &buf, at) {
            if inside(target) {
                return Err(Refusal::JumpIntoRange { from: at });
            }
            let is_call = insn.map == Map::OneByte && insn.opcode == 0xe8;
            if !is_call && text.is_indirect_thunk(target) {
                return Err(Refusal::IndirectJump { at });
            }
        }
        after_flow_end = ends_flow(&insn);
        at += u64::from(insn.len);
    }
    Ok(())
}

#[cfg(test)]
#[path = "optimize/tests.rs"]
mod tests;
