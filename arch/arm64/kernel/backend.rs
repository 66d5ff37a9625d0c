// SPDX-License-Identifier: GPL-2.0

//! The arm64 backend: not implemented yet. Linux 7.3 dispatches EL1 BRK immediates through a
//! fixed switch (`arch/arm64/kernel/debug-monitors.c`) with no registration API, so a module
//! cannot receive a breakpoint; registration fails with `EOPNOTSUPP`, as Linux's own API does
//! on a kernel without `CONFIG_KPROBES`. The interface below is the one the x86 backend
//! implements.

// The interface is the x86 one; parts of it have no use until the backend exists.
#![allow(dead_code)]

use kernel::{bindings, ffi::c_void, prelude::*};

/// See the x86 backend.
pub(crate) const TRAP_PATH: &[&[u8]] = &[];

/// No slots on this architecture yet.
pub(crate) struct Slots;

impl Slots {
    pub(crate) const fn new() -> Self {
        Self
    }
    pub(crate) fn in_use(&self) -> u32 {
        0
    }
}

/// See the x86 backend.
pub(crate) struct Function {
    pub(crate) start: usize,
    pub(crate) size: usize,
}

impl Function {
    /// See the x86 backend.
    pub(crate) fn new(start: usize, size: usize) -> Self {
        Self { start, size }
    }

    /// See the x86 backend (the arm64 backend does not use ftrace).
    pub(crate) fn ftrace_site(&self) -> Option<usize> {
        None
    }
}

/// See the x86 backend.
pub(crate) struct Probe {
    pub(crate) addr: usize,
}

impl Probe {
    pub(crate) fn prepare(
        _addr: usize,
        _func: &Function,
        _slots: &mut Slots,
        _recover: impl Fn(usize) -> Option<u8>,
    ) -> Result<Self> {
        Err(EOPNOTSUPP)
    }
    pub(crate) fn original_byte(&self) -> u8 {
        0
    }
    pub(crate) fn release(&mut self, _slots: &mut Slots) {}
}

pub(crate) fn canonical_addr(addr: usize, _func: &Function) -> usize {
    addr
}

pub(crate) fn arm(_addr: usize) -> Result {
    Err(EOPNOTSUPP)
}

pub(crate) fn disarm(_addr: usize, _original: u8) -> Result {
    Err(EOPNOTSUPP)
}

/// # Safety
///
/// `val` and `data` must be the arguments of a die notifier call.
pub(crate) unsafe fn breakpoint_regs<'a>(
    _val: usize,
    _data: *mut c_void,
) -> Option<&'a mut bindings::pt_regs> {
    None
}

pub(crate) fn breakpoint_addr(_regs: &bindings::pt_regs) -> usize {
    0
}

pub(crate) fn retry_if_stale(_regs: &mut bindings::pt_regs) -> bool {
    false
}

pub(crate) enum Step {
    Emulated,
    InSlot { interrupts_were_on: bool },
}

pub(crate) fn single_step(_probe: &Probe, _regs: &mut bindings::pt_regs) -> Step {
    Step::Emulated
}

pub(crate) fn is_slot_trap(_probe: &Probe, _regs: &bindings::pt_regs) -> bool {
    false
}

pub(crate) fn finish_slot(
    _probe: &Probe,
    _regs: &mut bindings::pt_regs,
    _interrupts_were_on: bool,
) {
}

pub(crate) fn trampoline() -> usize {
    0
}

pub(crate) fn hook_return(_regs: &bindings::pt_regs, _to: usize) -> (usize, usize) {
    (0, 0)
}

pub(crate) fn returned_frame(_regs: &bindings::pt_regs) -> usize {
    0
}

pub(crate) fn set_ip(_regs: &mut bindings::pt_regs, _to: usize) {}

pub(crate) fn stack_pointer(_regs: &bindings::pt_regs) -> usize {
    0
}
