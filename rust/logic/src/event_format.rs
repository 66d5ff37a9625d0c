// SPDX-License-Identifier: GPL-2.0

//! A probe event's record and how it prints, as Linux lays out and prints its own kprobe
//! events (kernel/trace/trace_probe.c, trace_kprobe.c):
//!
//! - the record is the trace entry, a head (`__probe_ip`, or `__probe_func` and
//!   `__probe_ret_ip` for a return probe), then each argument at the sum of the sizes
//!   before it (no padding), then the strings; a string argument holds a `__data_loc` word:
//!   its length (with the NUL) in the high half, its offset from the entry in the low half;
//! - fields are named and typed as Linux names and types them, so filters, triggers and the
//!   `format` file read the same;
//! - `print_fmt` is built as `__set_print_fmt()` builds it, and `kprobe_profile` lines as
//!   `probes_profile_seq_show()` prints them.

use core::fmt;

use super::probe_event::{Arch, Arg, Args, Definition, Type};

/// How the trace output prints a field.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Print {
    Unsigned = 0,
    Signed = 1,
    Hex = 2,
    Char = 3,
    Symbol = 4,
    String = 5,
}

/// Bytes of a native word (both supported architectures are 64-bit).
const WORD: usize = 8;

impl Type {
    /// Bytes the argument takes in the record's fixed part (a string: its `__data_loc`).
    pub const fn size(self) -> usize {
        match self {
            Type::Int { bits, .. } => bits as usize / 8,
            Type::String | Type::UString => 4,
            Type::Symbol => WORD,
            Type::Char => 1,
        }
    }

    /// Whether filters compare it as signed.
    pub const fn is_signed(self) -> bool {
        matches!(self, Type::Int { signed: true, .. })
    }

    /// The field's C type in the `format` file (Linux's `fmttype`: the hexadecimal types
    /// and `char` are unsigned integers, `symbol` the native word).
    pub const fn field_type(self) -> &'static str {
        match self {
            Type::Int { bits, signed, .. } => match (bits, signed) {
                (8, false) => "u8",
                (16, false) => "u16",
                (32, false) => "u32",
                (8, true) => "s8",
                (16, true) => "s16",
                (32, true) => "s32",
                (_, true) => "s64",
                (_, false) => "u64",
            },
            Type::String | Type::UString => "__data_loc char[]",
            Type::Symbol => "u64",
            Type::Char => "u8",
        }
    }

    /// How the output prints it.
    pub const fn print(self) -> Print {
        match self {
            Type::Int { hex: true, .. } => Print::Hex,
            Type::Int { signed: true, .. } => Print::Signed,
            Type::Int { .. } => Print::Unsigned,
            Type::String | Type::UString => Print::String,
            Type::Symbol => Print::Symbol,
            Type::Char => Print::Char,
        }
    }

    /// Its conversion in `print_fmt` (Linux's `print_type_format_*`, escaped as the `format`
    /// file shows it).
    pub const fn print_fmt(self) -> &'static str {
        match self {
            Type::Int {
                bits: 64,
                hex: true,
                ..
            } => "0x%Lx",
            Type::Int { hex: true, .. } => "0x%x",
            Type::Int {
                bits: 64,
                signed: true,
                ..
            } => "%Ld",
            Type::Int { signed: true, .. } => "%d",
            Type::Int { bits: 64, .. } => "%Lu",
            Type::Int { .. } => "%u",
            Type::String | Type::UString => "\\\"%s\\\"",
            Type::Symbol => "%pS",
            Type::Char => "'%c'",
        }
    }
}

/// The arguments of `def` with the offset of each in the record's fixed part (from the end
/// of the head), in order.
pub fn fields<'d, 'a>(def: &'d Definition<'a>) -> Fields<'d, 'a> {
    Fields {
        args: def.args(),
        at: 0,
    }
}

/// An iterator over the arguments and their offsets.
pub struct Fields<'d, 'a> {
    args: Args<'d, 'a>,
    at: usize,
}

impl<'a> Iterator for Fields<'_, 'a> {
    type Item = (Arg<'a>, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let a = self.args.next()?;
        let offset = self.at;
        self.at += a.ty.size();
        Some((a, offset))
    }
}

/// The size of the record's fixed part after the head.
pub fn fixed_size(def: &Definition<'_>) -> usize {
    let mut size = 0;
    for a in def.args() {
        size += a.ty.size();
    }
    size
}

/// Writes the event's `print_fmt`, as `__set_print_fmt()` does.
pub fn write_print_fmt(def: &Definition<'_>, f: &mut impl fmt::Write) -> fmt::Result {
    let (fmt, head) = if def.is_return {
        ("(%lx <- %lx)", ", REC->__probe_func, REC->__probe_ret_ip")
    } else {
        ("(%lx)", ", REC->__probe_ip")
    };
    write!(f, "\"{fmt}")?;
    for a in def.args() {
        f.write_char(' ')?;
        a.write_name(f)?;
        write!(f, "={}", a.ty.print_fmt())?;
    }
    write!(f, "\"{head}")?;
    for a in def.args() {
        let string = a.ty.print() == Print::String;
        f.write_str(if string { ", __get_str(" } else { ", REC->" })?;
        a.write_name(f)?;
        if string {
            f.write_char(')')?;
        }
    }
    Ok(())
}

/// Writes one line of `kprobe_profile`: the event, its hits and its misses.
pub fn write_profile_line(
    f: &mut impl fmt::Write,
    event: &str,
    hits: u64,
    misses: u64,
) -> fmt::Result {
    writeln!(f, "  {event:<44} {hits:>15} {misses:>15}")
}

/// A string argument's `__data_loc` word.
pub const fn data_loc(len: usize, offset: usize) -> u32 {
    ((len as u32) << 16) | (offset as u32 & 0xffff)
}

impl Arch {
    /// The index of register `name` (without `%`) among the native words of `struct
    /// pt_regs`.
    pub fn register_index(self, name: &str) -> Option<usize> {
        match self {
            Arch::X86_64 => [
                "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx",
                "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss",
            ]
            .iter()
            .position(|&r| r == name),
            Arch::Arm64 => match name {
                "sp" => Some(31),
                "pc" => Some(32),
                "pstate" => Some(33),
                _ => name
                    .strip_prefix('x')
                    .filter(|_| self.has_register(name))
                    .and_then(|n| n.parse().ok()),
            },
        }
    }
}

#[cfg(test)]
#[path = "event_format/tests.rs"]
mod tests;
