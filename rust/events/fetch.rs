// SPDX-License-Identifier: GPL-2.0

//! Fetch arguments of probe events, compiled when an event is defined and run at each hit:
//! where the value comes from, the dereferences, and how it is stored in the record (Linux's
//! `process_fetch_insn()`, kernel/trace/trace_probe_tmpl.h). Memory is read with the nofault
//! accessors: a bad pointer gives a zero, or `(fault)` for a string.

use kernel::{bindings, ffi::c_int, prelude::*};

use crate::kallsyms;
use crate::logic::{
    event_format::data_loc,
    probe_event::{Arch, Arg, Fetch, Type, MAX_DEREF},
};

#[cfg(CONFIG_X86_64)]
pub(super) const ARCH: Arch = Arch::X86_64;
#[cfg(CONFIG_ARM64)]
pub(super) const ARCH: Arch = Arch::Arm64;

/// `enum rkp_fetch_var` (events.h).
mod var {
    pub(super) const STACK_NTH: i32 = 0;
    pub(super) const STACK: i32 = 1;
    pub(super) const ARG: i32 = 2;
    pub(super) const RETVAL: i32 = 3;
    pub(super) const COMM: i32 = 4;
    pub(super) const CURRENT: i32 = 5;
}

extern "C" {
    fn rkp_fetch_var(regs: *mut bindings::pt_regs, var: c_int, n: u32) -> usize;
    fn rkp_fetch_mem(dst: *mut u8, src: usize, size: usize, user: bool) -> c_int;
    fn rkp_fetch_string(dst: *mut u8, src: usize, max: usize, user: bool) -> isize;
}

/// Where a value comes from.
#[derive(Clone, Copy)]
enum Source {
    /// A word of `pt_regs`.
    Reg(usize),
    /// `rkp_fetch_var()`.
    Var(c_int, u32),
    /// `$argN` of a return event: word N of what its entry saved.
    EntryArg(usize),
    /// A constant.
    Imm(usize),
    /// The memory at an address (`@ADDR`, `@SYM`, `$comm`).
    Mem(usize),
}

/// One compiled argument.
pub(super) struct Program {
    source: Source,
    derefs: [(i64, bool); MAX_DEREF],
    nderef: usize,
    ty: Type,
    /// Its offset in the record's fixed part.
    offset: usize,
}

impl Program {
    /// Compiles `arg`, stored at `offset`, of a return event if `is_return`. `ENOENT` (and a
    /// log line) for an `@SYM` that does not exist.
    pub(super) fn new(arg: &Arg<'_>, offset: usize, is_return: bool) -> Result<Self> {
        let source = match arg.fetch {
            Fetch::Reg(name) => Source::Reg(ARCH.register_index(name).ok_or(EINVAL)?),
            Fetch::Stack(n) => Source::Var(var::STACK_NTH, n),
            Fetch::StackPointer => Source::Var(var::STACK, 0),
            Fetch::Arg(n) if is_return => Source::EntryArg(n as usize - 1),
            Fetch::Arg(n) => Source::Var(var::ARG, n - 1),
            Fetch::Retval => Source::Var(var::RETVAL, 0),
            Fetch::Comm => Source::Var(var::COMM, 0),
            Fetch::Current => Source::Var(var::CURRENT, 0),
            Fetch::Memory(a) => Source::Mem(a as usize),
            Fetch::Symbol { name, offset } => {
                let addr = kallsyms::lookup(name.as_bytes()).inspect_err(|_| {
                    pr_info!("cannot resolve @{name}: ENOENT\n");
                })?;
                Source::Mem(addr.wrapping_add(offset as usize))
            }
            Fetch::Immediate(v) => Source::Imm(v as usize),
        };
        Ok(Self {
            source,
            derefs: arg.derefs,
            nderef: arg.nderef,
            ty: arg.ty,
            offset,
        })
    }

    /// How many of the entry's arguments a return event must save for this one.
    pub(super) fn entry_args(&self) -> usize {
        match self.source {
            Source::EntryArg(n) => n + 1,
            _ => 0,
        }
    }

    /// The value, or the address it is read from (and whether from user memory).
    fn locate(&self, regs: *mut bindings::pt_regs, entry: &[usize]) -> Option<Located> {
        let mut at = match self.source {
            Source::Reg(i) => Located::Value(
                // SAFETY: `regs` is the hit's; `ARCH.register_index` only gives words of
                // `pt_regs` (checked against its size in `events.rs`).
                unsafe { regs.cast::<usize>().add(i).read() },
            ),
            Source::Var(v, n) => {
                // SAFETY: `regs` is the hit's.
                let value = unsafe { rkp_fetch_var(regs, v, n) };
                // `$comm` is where the name is.
                if v == var::COMM {
                    Located::Mem(value, false)
                } else {
                    Located::Value(value)
                }
            }
            Source::EntryArg(n) => Located::Value(entry.get(n).copied().unwrap_or(0)),
            Source::Imm(v) => Located::Value(v),
            Source::Mem(a) => Located::Mem(a, false),
        };
        for &(offset, user) in &self.derefs[..self.nderef] {
            let base = match at {
                Located::Value(v) => v,
                Located::Mem(a, u) => read_word(a, u)?,
            };
            at = Located::Mem(base.wrapping_add(offset as usize), user);
        }
        Some(at)
    }

    /// Stores the argument in `buf` (the record after its head, `head` bytes): its fixed
    /// part at its offset, a string's bytes from `*dynamic` on (which it advances).
    pub(super) fn store(
        &self,
        regs: *mut bindings::pt_regs,
        entry: &[usize],
        buf: &mut [u8],
        dynamic: &mut usize,
        head: usize,
    ) {
        let size = self.ty.size();
        let at = self.locate(regs, entry);
        if matches!(self.ty, Type::String | Type::UString) {
            let user = self.ty == Type::UString;
            let start = *dynamic;
            let len = match (at, buf.get_mut(start..)) {
                (Some(Located::Mem(a, u)), Some(room)) if !room.is_empty() => {
                    // SAFETY: `room` is writable for its length.
                    let n =
                        unsafe { rkp_fetch_string(room.as_mut_ptr(), a, room.len(), u || user) };
                    usize::try_from(n).unwrap_or(0)
                }
                _ => 0,
            };
            *dynamic += len;
            put(buf, self.offset, &data_loc(len, head + start).to_ne_bytes());
            return;
        }
        let value = match at {
            Some(Located::Value(v)) => v as u64,
            Some(Located::Mem(a, u)) => {
                let mut bytes = [0u8; 8];
                // SAFETY: `bytes` is writable for `size` (at most 8) bytes.
                let bad = unsafe { rkp_fetch_mem(bytes.as_mut_ptr(), a, size, u) } != 0;
                if bad {
                    0
                } else {
                    u64::from_ne_bytes(bytes)
                }
            }
            None => 0,
        };
        put(buf, self.offset, &value.to_ne_bytes()[..size]);
    }
}

/// Argument `n` (from 0) at a function's entry.
pub(super) fn entry_arg(regs: *mut bindings::pt_regs, n: usize) -> usize {
    // SAFETY: `regs` is a hit's (the caller's handler's).
    unsafe { rkp_fetch_var(regs, var::ARG, n as u32) }
}

#[derive(Clone, Copy)]
enum Located {
    Value(usize),
    /// An address, and whether it is in user memory.
    Mem(usize, bool),
}

fn read_word(addr: usize, user: bool) -> Option<usize> {
    let mut w = [0u8; core::mem::size_of::<usize>()];
    // SAFETY: `w` is writable for its size.
    let ok = unsafe { rkp_fetch_mem(w.as_mut_ptr(), addr, w.len(), user) } == 0;
    ok.then(|| usize::from_ne_bytes(w))
}

/// Copies `bytes` to `buf` at `at` (the record is laid out to hold them; both supported
/// architectures are little-endian, so a value's low bytes come first).
fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}
