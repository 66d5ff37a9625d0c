// SPDX-License-Identifier: GPL-2.0

//! Per-CPU state of the hit path: a small stack of probes this CPU is handling.
//!
//! A probe can be hit while another is being handled on the same CPU: a handler calls a probed
//! function, or an NMI arrives while the CPU single-steps in a slot (interrupts are off, NMIs
//! are not). Linux keeps one saved level and `BUG()`s on a third; the stack here holds
//! [`MAX_DEPTH`] levels, more than NMI nesting can produce.
//!
//! Only the owning CPU touches its stack, but an NMI may interrupt it between any two
//! instructions and push and pop frames of its own. So a push first reserves the frame (its
//! status is 0, "being set up", which the hit path treats as "a probe is running") and fills
//! it afterwards; a pop clears the status before it releases the frame.
//!
//! The fields are `core` atomics, not the kernel crate's `Atomic`: no C code sees this state,
//! and an access to `core`'s compiles to the one instruction, where the kernel crate's goes
//! through two out-of-line calls (its C helper, and `as_ptr`), about twenty instructions
//! with the return thunks on every hit path access.

use core::sync::atomic::{
    compiler_fence, AtomicBool, AtomicPtr, AtomicU32, AtomicUsize,
    Ordering::{Relaxed, SeqCst},
};

use kernel::{
    cpu::{nr_cpu_ids, CpuId},
    prelude::*,
};

use crate::snapshot::Entry;

/// Nesting levels per CPU.
pub(crate) const MAX_DEPTH: usize = 4;

/// What a frame's probe is doing (Linux's `kprobe_status` values).
pub(crate) mod status {
    /// Reserved, not filled in yet.
    pub(crate) const SETUP: u32 = 0;
    /// Pre-handlers running.
    pub(crate) const ACTIVE: u32 = 1;
    /// Single-stepping in the slot.
    pub(crate) const SS: u32 = 2;
    /// Single-stepping a probe hit while another was being handled (no handlers).
    pub(crate) const REENTER: u32 = 4;
    /// Post-handlers running.
    pub(crate) const SSDONE: u32 = 8;
    /// Return handlers running (the frame has no entry).
    pub(crate) const RETURN: u32 = 16;
}

/// One level of the stack.
pub(crate) struct Frame {
    entry: AtomicPtr<Entry>,
    status: AtomicU32,
    interrupts_were_on: AtomicBool,
}

impl Frame {
    /// The probed address this frame handles (not for `RETURN` frames).
    pub(crate) fn entry(&self) -> &Entry {
        // SAFETY: A frame with a status other than `SETUP` and `RETURN` points to an entry of a snapshot
        // that stays alive while this CPU handles the hit: the hit runs with interrupts off
        // (an RCU read-side critical section) from the first trap to the last.
        unsafe { &*self.entry.load(Relaxed) }
    }

    /// The frame's status.
    pub(crate) fn status(&self) -> u32 {
        self.status.load(Relaxed)
    }

    /// Sets the frame's status.
    pub(crate) fn set_status(&self, s: u32) {
        self.status.store(s, Relaxed);
    }

    /// Whether interrupts were on at the first trap.
    pub(crate) fn interrupts_were_on(&self) -> bool {
        self.interrupts_were_on.load(Relaxed)
    }

    /// Records whether interrupts were on at the first trap.
    pub(crate) fn set_interrupts_were_on(&self, on: bool) {
        self.interrupts_were_on.store(on, Relaxed);
    }
}

/// One CPU's stack.
pub(crate) struct CpuState {
    depth: AtomicUsize,
    frames: [Frame; MAX_DEPTH],
}

impl CpuState {
    fn new() -> Self {
        Self {
            depth: AtomicUsize::new(0),
            frames: core::array::from_fn(|_| Frame {
                entry: AtomicPtr::new(core::ptr::null_mut()),
                status: AtomicU32::new(status::SETUP),
                interrupts_were_on: AtomicBool::new(false),
            }),
        }
    }

    /// Whether a probe is being handled on this CPU (Linux's `kprobe_running()`).
    pub(crate) fn running(&self) -> bool {
        self.depth.load(Relaxed) > 0
    }

    /// The innermost frame, if it is filled in.
    pub(crate) fn top(&self) -> Option<&Frame> {
        let d = self.depth.load(Relaxed);
        let f = self.frames.get(d.checked_sub(1)?)?;
        (f.status() != status::SETUP).then_some(f)
    }

    /// Pushes a frame for `entry` (null for `RETURN`); `None` when the stack is full.
    pub(crate) fn push(&self, entry: *const Entry, s: u32) -> Option<&Frame> {
        let d = self.depth.load(Relaxed);
        let f = self.frames.get(d)?;
        f.set_status(status::SETUP);
        compiler_fence(SeqCst);
        self.depth.store(d + 1, Relaxed);
        compiler_fence(SeqCst);
        f.entry.store(entry.cast_mut(), Relaxed);
        compiler_fence(SeqCst);
        f.set_status(s);
        Some(f)
    }

    /// Pops the innermost frame.
    pub(crate) fn pop(&self) {
        let d = self.depth.load(Relaxed);
        if let Some(f) = d.checked_sub(1).and_then(|i| self.frames.get(i)) {
            f.set_status(status::SETUP);
            compiler_fence(SeqCst);
            self.depth.store(d - 1, Relaxed);
        }
    }
}

/// The stacks of all possible CPUs.
pub(crate) struct CpuStates(KVec<CpuState>);

impl CpuStates {
    /// Allocates a stack for every possible CPU.
    pub(crate) fn new() -> Result<Self> {
        let n = nr_cpu_ids() as usize;
        let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            v.push(CpuState::new(), GFP_KERNEL)?;
        }
        Ok(Self(v))
    }

    /// This CPU's stack. The caller runs with interrupts off (the trap handler).
    pub(crate) fn this_cpu(&self) -> &CpuState {
        &self.0[CpuId::current().as_u32() as usize]
    }
}
