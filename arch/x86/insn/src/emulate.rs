// SPDX-License-Identifier: GPL-2.0

//! Carrying out an [`Emulation`] on the trapped context, as Linux's `int3_emulate_*` helpers
//! do (arch/x86/include/asm/text-patching.h, arch/x86/kernel/kprobes/core.c).

use super::prepare::Emulation;

/// `EFLAGS` bits the emulation reads or writes.
pub mod flags {
    /// Carry.
    pub const CF: u64 = 1 << 0;
    /// Parity.
    pub const PF: u64 = 1 << 2;
    /// Zero.
    pub const ZF: u64 = 1 << 6;
    /// Sign.
    pub const SF: u64 = 1 << 7;
    /// Interrupt enable.
    pub const IF: u64 = 1 << 9;
    /// Overflow.
    pub const OF: u64 = 1 << 11;
}

/// The trapped context, as the emulation sees it.
pub trait Machine {
    /// Instruction pointer.
    fn ip(&self) -> u64;
    /// Sets the instruction pointer.
    fn set_ip(&mut self, ip: u64);
    /// Stack pointer.
    fn sp(&self) -> u64;
    /// Sets the stack pointer.
    fn set_sp(&mut self, sp: u64);
    /// `EFLAGS`.
    fn flags(&self) -> u64;
    /// Sets `EFLAGS`.
    fn set_flags(&mut self, flags: u64);
    /// General purpose register `n` in encoding order (0 = rax, 1 = rcx, ..., 4 = rsp, 15 = r15).
    fn gpr(&self, n: u8) -> u64;
    /// Sets general purpose register `n`.
    fn set_gpr(&mut self, n: u8, value: u64);
    /// Writes a stack word. On x86-64 the kernel's int3 entry leaves a gap below the trapped
    /// stack pointer, so a push from the trap handler cannot hit the exception frame.
    fn write_stack(&mut self, addr: u64, value: u64);
    /// Reads a stack word.
    fn read_stack(&self, addr: u64) -> u64;
}

fn push(m: &mut impl Machine, value: u64) {
    let sp = m.sp().wrapping_sub(8);
    m.set_sp(sp);
    m.write_stack(sp, value);
}

fn pop(m: &mut impl Machine) -> u64 {
    let sp = m.sp();
    let value = m.read_stack(sp);
    m.set_sp(sp.wrapping_add(8));
    value
}

/// Whether condition code `cc` (the low nibble of a `jcc` opcode) holds for `flags`.
pub fn condition_holds(cc: u8, flags: u64) -> bool {
    use self::flags::*;
    let set = |f| flags & f != 0;
    let base = match cc >> 1 {
        0 => set(OF),
        1 => set(CF),
        2 => set(ZF),
        3 => set(CF) || set(ZF),
        4 => set(SF),
        5 => set(PF),
        6 => set(SF) != set(OF),
        _ => set(ZF) || set(SF) != set(OF),
    };
    base != (cc & 1 != 0)
}

/// Carries out `e`, the instruction of `len` bytes at `addr`, on `m`.
pub fn emulate(e: Emulation, m: &mut impl Machine, addr: u64, len: u8) {
    let next = addr.wrapping_add(u64::from(len));
    let rel = |r: i32| next.wrapping_add(i64::from(r) as u64);
    let ip = match e {
        Emulation::Nop => next,
        Emulation::Cli => {
            m.set_flags(m.flags() & !flags::IF);
            next
        }
        Emulation::Sti => {
            m.set_flags(m.flags() | flags::IF);
            next
        }
        Emulation::Pushf => {
            push(m, m.flags());
            next
        }
        Emulation::Popf => {
            let f = pop(m);
            m.set_flags(f);
            next
        }
        Emulation::Ret { pop_bytes } => {
            let target = pop(m);
            m.set_sp(m.sp().wrapping_add(u64::from(pop_bytes)));
            target
        }
        Emulation::Call { rel: r } => {
            push(m, next);
            rel(r)
        }
        Emulation::Jmp { rel: r } => rel(r),
        Emulation::Jcc { cc, rel: r } => {
            if condition_holds(cc, m.flags()) {
                rel(r)
            } else {
                next
            }
        }
        Emulation::Loop {
            kind,
            addr_bits,
            rel: r,
        } => {
            let cx = m.gpr(1);
            let mask = if addr_bits == 32 {
                u64::from(u32::MAX)
            } else {
                u64::MAX
            };
            let count = cx & mask;
            let taken = if kind == 3 {
                count == 0
            } else {
                // Only the address-sized part of rcx counts down, and the branch tests the
                // count after the decrement. (Linux's kprobe_emulate_loop tests it before the
                // decrement, which takes one iteration too many.)
                let dec = count.wrapping_sub(1) & mask;
                m.set_gpr(1, (cx & !mask) | dec);
                let zf = m.flags() & flags::ZF != 0;
                dec != 0
                    && match kind {
                        0 => !zf,
                        1 => zf,
                        _ => true,
                    }
            };
            if taken {
                rel(r)
            } else {
                next
            }
        }
        Emulation::CallIndirect { reg } => {
            let target = m.gpr(reg);
            push(m, next);
            target
        }
        Emulation::JmpIndirect { reg } => m.gpr(reg),
    };
    m.set_ip(ip);
}

#[cfg(test)]
#[path = "emulate/tests.rs"]
mod tests;
