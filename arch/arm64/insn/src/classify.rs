// SPDX-License-Identifier: GPL-2.0

//! Which A64 instructions can be probed, and how: Linux's `arm_kprobe_decode_insn()`
//! (arch/arm64/kernel/probes/decode-insn.c) with the masks of `arch/arm64/include/asm/insn.h`.

/// Linux's errno values, as positive numbers (the module turns them into kernel errors).
pub mod errno {
    /// The instruction cannot be probed (Linux's `INSN_REJECTED`).
    pub const EINVAL: i32 = 22;
}

/// An instruction the hit path simulates: it reads or writes the PC, so a copy elsewhere
/// would compute the wrong thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sim {
    /// `NOP`: nothing to do but move on.
    Nop,
    /// `B.cond`.
    BCond,
    /// `CBZ`/`CBNZ`.
    Cbz,
    /// `TBZ`/`TBNZ`.
    Tbz,
    /// `ADR`/`ADRP`.
    Adr,
    /// `B`/`BL`.
    B,
    /// `BR`/`BLR`.
    Br,
    /// `RET`.
    Ret,
    /// `LDR` (literal) into a general register.
    LdrLiteral,
    /// `LDRSW` (literal).
    LdrswLiteral,
}

/// How a probed instruction runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Copied to an out-of-line slot and run there.
    OutOfLine,
    /// Simulated in the breakpoint handler.
    Simulate(Sim),
}

/// Why an instruction cannot be probed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal(&'static str);

impl Refusal {
    /// What the log line says.
    pub fn reason(self) -> &'static str {
        self.0
    }

    /// The errno registration returns: Linux refuses every such instruction with `EINVAL`.
    pub fn errno(self) -> i32 {
        errno::EINVAL
    }
}

const fn is(insn: u32, mask: u32, value: u32) -> bool {
    insn & mask == value
}

fn is_class_branch_sys(i: u32) -> bool {
    is(i, 0x1c00_0000, 0x1400_0000)
}
fn is_b(i: u32) -> bool {
    is(i, 0xfc00_0000, 0x1400_0000)
}
fn is_bl(i: u32) -> bool {
    is(i, 0xfc00_0000, 0x9400_0000)
}
fn is_cbz_cbnz(i: u32) -> bool {
    is(i, 0x7e00_0000, 0x3400_0000)
}
fn is_tbz_tbnz(i: u32) -> bool {
    is(i, 0x7e00_0000, 0x3600_0000)
}
fn is_bcond(i: u32) -> bool {
    is(i, 0xff00_0000, 0x5400_0000)
}
fn is_br(i: u32) -> bool {
    is(i, 0xffff_fc1f, 0xd61f_0000)
}
fn is_blr(i: u32) -> bool {
    is(i, 0xffff_fc1f, 0xd63f_0000)
}
fn is_ret(i: u32) -> bool {
    is(i, 0xffff_fc1f, 0xd65f_0000)
}
fn is_branch(i: u32) -> bool {
    is_b(i)
        || is_bl(i)
        || is_cbz_cbnz(i)
        || is_tbz_tbnz(i)
        || is_ret(i)
        || is(i, 0xffff_fbff, 0xd65f_0bff) // RETAA/RETAB
        || is_br(i)
        || is(i, 0xfeff_f800, 0xd61f_0800) // BRAA and friends
        || is_blr(i)
        || is(i, 0xfeff_f800, 0xd63f_0800) // BLRAA and friends
        || is_bcond(i)
}
fn is_adr_adrp(i: u32) -> bool {
    is(i, 0x1f00_0000, 0x1000_0000)
}
fn is_ldr_lit(i: u32) -> bool {
    is(i, 0xbf00_0000, 0x1800_0000)
}
fn is_ldrsw_lit(i: u32) -> bool {
    is(i, 0xff00_0000, 0x9800_0000)
}
fn is_hint(i: u32) -> bool {
    is(i, 0xffff_f01f, 0xd503_201f)
}
/// `NOP`.
pub const NOP: u32 = 0xd503_201f;

/// Hints that behave the same anywhere: `NOP`, pointer authentication of x30/x17 and `BTI`.
fn is_steppable_hint(i: u32) -> bool {
    is_hint(i)
        && matches!(
            (i & 0xfe0) >> 5,
            0x00 | 0x07 | 0x08 | 0x0a | 0x18 | 0x19 | 0x1a | 0x1b | 0x20 | 0x22 | 0x24 | 0x26
        )
}
/// `MRS` of `DAIF` (Linux's `AARCH64_INSN_SPCLREG_DAIF` in bits 5..20).
fn is_mrs_daif(i: u32) -> bool {
    (i & 0x001f_ffe0) >> 5 == 0xda11
}

/// Whether `insn` starts an exclusive load (an atomic sequence ends at the store).
pub fn is_load_exclusive(i: u32) -> bool {
    is(i, 0x3fc0_0000, 0x0840_0000)
}
/// Whether `insn` is an exclusive store.
pub fn is_store_exclusive(i: u32) -> bool {
    is(i, 0x3fc0_0000, 0x0800_0000)
}

/// How many instructions before a probe are searched for an open exclusive sequence
/// (Linux's `MAX_ATOMIC_CONTEXT_SIZE`).
pub const MAX_ATOMIC_CONTEXT: usize = 128;

/// Whether the instructions before a probe, nearest first, leave it inside a load/store
/// exclusive sequence, where a breakpoint's exception would clear the monitor and make the
/// store fail for ever.
pub fn in_atomic_sequence(before_nearest_first: impl IntoIterator<Item = u32>) -> bool {
    for i in before_nearest_first.into_iter().take(MAX_ATOMIC_CONTEXT) {
        if is_store_exclusive(i) {
            return false;
        }
        if is_load_exclusive(i) {
            return true;
        }
    }
    false
}

/// Decides how the instruction `insn` runs under a probe, or why it cannot be probed.
pub fn classify(insn: u32) -> Result<Plan, Refusal> {
    if is_ldr_lit(insn) {
        return Ok(Plan::Simulate(Sim::LdrLiteral));
    }
    // PC-relative, into a register the hit path does not reach (Linux would run it out of
    // line and load from the wrong place).
    if is(insn, 0x3f00_0000, 0x1c00_0000) {
        return Err(Refusal("a literal load into a SIMD&FP register"));
    }
    if is_ldrsw_lit(insn) {
        return Ok(Plan::Simulate(Sim::LdrswLiteral));
    }
    if insn == NOP {
        return Ok(Plan::Simulate(Sim::Nop));
    }
    if is_class_branch_sys(insn) {
        let sim = if is_bcond(insn) {
            Sim::BCond
        } else if is_cbz_cbnz(insn) {
            Sim::Cbz
        } else if is_tbz_tbnz(insn) {
            Sim::Tbz
        } else if is_b(insn) || is_bl(insn) {
            Sim::B
        } else if is_br(insn) || is_blr(insn) {
            Sim::Br
        } else if is_ret(insn) {
            Sim::Ret
        } else if is_branch(insn) {
            return Err(Refusal("an authenticated branch"));
        } else if is(insn, 0xff00_0000, 0xd400_0000) {
            return Err(Refusal("an exception-generating instruction"));
        } else if is(insn, 0xffff_fbff, 0xd69f_0bff) || insn == 0xd69f_03e0 {
            return Err(Refusal("an exception return"));
        } else if is(insn, 0xfff8_f01f, 0xd500_401f) || is(insn, 0xfff0_0000, 0xd510_0000) {
            return Err(Refusal("a write to a system register"));
        } else if is(insn, 0xfff0_0000, 0xd530_0000) && is_mrs_daif(insn) {
            // The slot runs with interrupts masked: the copy would read the wrong DAIF.
            return Err(Refusal("a read of DAIF"));
        } else if is_hint(insn) {
            if is_steppable_hint(insn) {
                return Ok(Plan::OutOfLine);
            }
            return Err(Refusal("a hint that may trap"));
        } else {
            return Ok(Plan::OutOfLine);
        };
        return Ok(Plan::Simulate(sim));
    }
    if is_adr_adrp(insn) {
        return Ok(Plan::Simulate(Sim::Adr));
    }
    if is(insn, 0xff00_0000, 0xd800_0000) {
        return Err(Refusal("a literal prefetch"));
    }
    if is(insn, 0x3f80_0000, 0x0800_0000) {
        return Err(Refusal("an exclusive load or store"));
    }
    if is(insn, 0x3b20_0c00, 0x1900_0400) {
        return Err(Refusal("a memory copy/set instruction"));
    }
    Ok(Plan::OutOfLine)
}

// A path the kernel crate, which includes this file with `#[path]`, resolves too.
#[cfg(test)]
#[path = "classify/tests.rs"]
mod tests;
