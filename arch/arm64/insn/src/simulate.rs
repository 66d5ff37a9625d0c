// SPDX-License-Identifier: GPL-2.0

//! Simulation of the A64 instructions that read the PC (Linux's
//! arch/arm64/kernel/probes/simulate-insn.c), on any [`Machine`].

use super::classify::Sim;

/// The probed context as the simulation sees it.
pub trait Machine {
    /// General register `n` (0-30); 31 reads as zero (XZR).
    fn reg(&self, n: u32) -> u64;
    /// Sets general register `n` (0-30); writes to 31 (XZR) are dropped.
    fn set_reg(&mut self, n: u32, value: u64);
    /// Sets the PC.
    fn set_pc(&mut self, pc: u64);
    /// The N, Z, C, V flags in bits 31..28, as in `PSTATE`.
    fn nzcv(&self) -> u32;
    /// Reads `N` bytes (4 or 8) of kernel data at `addr`, little-endian.
    fn load(&self, addr: u64, bytes: usize) -> u64;
}

fn sign_extend(value: u32, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((u64::from(value) << shift) as i64) >> shift
}

fn offset(pc: u64, disp: i64) -> u64 {
    pc.wrapping_add(disp as u64)
}

/// Whether condition `cond` (bits 3..0 of `B.cond`) holds for `nzcv`.
pub fn condition_holds(cond: u32, nzcv: u32) -> bool {
    let (n, z, c, v) = (
        nzcv & (1 << 31) != 0,
        nzcv & (1 << 30) != 0,
        nzcv & (1 << 29) != 0,
        nzcv & (1 << 28) != 0,
    );
    let base = match (cond >> 1) & 7 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => n == v && !z,
        _ => true,
    };
    // Odd conditions negate the even ones, except 0b1111 ("always", like 0b1110).
    if cond & 1 == 1 && cond != 0xf {
        !base
    } else {
        base
    }
}

/// Carries out `insn`, classified as `sim`, at `pc` on `m`: registers, then the PC.
pub fn simulate(sim: Sim, insn: u32, pc: u64, m: &mut impl Machine) {
    let rt = insn & 0x1f;
    let next = pc.wrapping_add(4);
    let to = match sim {
        Sim::Nop => next,
        Sim::BCond => {
            if condition_holds(insn & 0xf, m.nzcv()) {
                offset(pc, sign_extend((insn >> 5) & 0x7ffff, 19) * 4)
            } else {
                next
            }
        }
        Sim::Cbz => {
            let value = if insn & (1 << 31) != 0 {
                m.reg(rt)
            } else {
                m.reg(rt) & 0xffff_ffff
            };
            let nonzero_branches = insn & (1 << 24) != 0;
            if (value != 0) == nonzero_branches {
                offset(pc, sign_extend((insn >> 5) & 0x7ffff, 19) * 4)
            } else {
                next
            }
        }
        Sim::Tbz => {
            let bit = ((insn >> 31) << 5) | ((insn >> 19) & 0x1f);
            let set = (m.reg(rt) >> bit) & 1 == 1;
            let set_branches = insn & (1 << 24) != 0;
            if set == set_branches {
                offset(pc, sign_extend((insn >> 5) & 0x3fff, 14) * 4)
            } else {
                next
            }
        }
        Sim::Adr => {
            let imm = sign_extend(((insn >> 5) & 0x7ffff) << 2 | ((insn >> 29) & 3), 21);
            let value = if insn & (1 << 31) != 0 {
                offset(pc & !0xfff, imm << 12)
            } else {
                offset(pc, imm)
            };
            m.set_reg(rt, value);
            next
        }
        Sim::B => {
            if insn & (1 << 31) != 0 {
                m.set_reg(30, next);
            }
            offset(pc, sign_extend(insn & 0x03ff_ffff, 26) * 4)
        }
        Sim::Br => {
            // Read the target before BLR writes x30: `blr x30` branches to the old value.
            let target = m.reg((insn >> 5) & 0x1f);
            if (insn >> 21) & 3 == 1 {
                m.set_reg(30, next);
            }
            target
        }
        Sim::Ret => m.reg((insn >> 5) & 0x1f),
        Sim::LdrLiteral => {
            let at = offset(pc, sign_extend((insn >> 5) & 0x7ffff, 19) * 4);
            let value = if insn & (1 << 30) != 0 {
                m.load(at, 8)
            } else {
                m.load(at, 4)
            };
            m.set_reg(rt, value);
            next
        }
        Sim::LdrswLiteral => {
            let at = offset(pc, sign_extend((insn >> 5) & 0x7ffff, 19) * 4);
            m.set_reg(rt, i64::from(m.load(at, 4) as u32 as i32) as u64);
            next
        }
    };
    m.set_pc(to);
}

// A path the kernel crate, which includes this file with `#[path]`, resolves too.
#[cfg(test)]
#[path = "simulate/tests.rs"]
mod tests;
