// SPDX-License-Identifier: GPL-2.0

//! The C ABI between `rkprobes.ko` and the modules that use it.
//!
//! Both sides compile this file (clients through `rust/client/kprobes.rs`), so the layout is
//! the same on both sides. It mirrors Linux's `struct kprobe`: the client owns the memory,
//! keeps it pinned from registration until unregistration returns, and the framework links it
//! into its tables meanwhile.

use kernel::{
    bindings,
    ffi::{c_int, c_ulong},
    sync::atomic::Atomic,
};

/// A pre-handler: non-zero means "the handler changed the instruction pointer; do not run
/// the probed instruction" (Linux's contract).
pub type PreHandler =
    unsafe extern "C" fn(probe: *mut RawKprobe, regs: *mut bindings::pt_regs) -> c_int;

/// A post-handler, called after the probed instruction ran; `flags` is always 0, as in Linux.
pub type PostHandler =
    unsafe extern "C" fn(probe: *mut RawKprobe, regs: *mut bindings::pt_regs, flags: c_ulong);

/// The probed code went away (its module was unloaded).
pub const FLAG_GONE: u32 = 1;
/// The probe is registered but does not fire.
pub const FLAG_DISABLED: u32 = 2;
/// Set before registering a `module:symbol` target: if the module is not loaded, the probe
/// waits for it (it is armed whenever the module loads, `[GONE]` while it is unloaded).
pub const FLAG_DEFERRED: u32 = 4;

/// `struct rkp_kprobe`.
#[repr(C)]
pub struct RawKprobe {
    /// In: the symbol to probe (NUL-terminated), or null when `addr` is given. Read at every
    /// registration: it must stay valid while the probe may be registered.
    pub symbol_name: *const u8,
    /// In: the address to probe, or 0 when `symbol_name` is given.
    pub addr: usize,
    /// In: added to the symbol or address.
    pub offset: u32,
    /// Out: the address the probe really sits at (after the `ENDBR` and ftrace-site
    /// adjustments). The inputs are never changed, so registering again probes the same place.
    pub resolved: Atomic<usize>,
    /// In: `FLAG_DISABLED` to register the probe disabled. Afterwards owned by rkprobes.
    pub flags: Atomic<u32>,
    /// In: called before the probed instruction.
    pub pre_handler: Option<PreHandler>,
    /// In: called after it, if set.
    pub post_handler: Option<PostHandler>,
    /// Out: hits whose handlers were skipped because a probe was already running on that CPU.
    pub nmissed: Atomic<usize>,
    /// Out: hits whose handlers ran.
    pub nhit: Atomic<usize>,
    /// Private to rkprobes: whether the probe is registered.
    pub registered: Atomic<bool>,
}

impl RawKprobe {
    /// A probe with every field empty.
    pub const fn zeroed() -> Self {
        Self {
            symbol_name: core::ptr::null(),
            addr: 0,
            offset: 0,
            resolved: Atomic::new(0),
            flags: Atomic::new(0),
            pre_handler: None,
            post_handler: None,
            nmissed: Atomic::new(0),
            nhit: Atomic::new(0),
            registered: Atomic::new(false),
        }
    }
}

/// One pending return, as return probes' handlers see it.
#[repr(C)]
pub struct RawInstance {
    /// Where the probed function really returns to.
    pub ret_addr: usize,
    /// The task that called it (`struct task_struct *`).
    pub task: *mut bindings::task_struct,
    /// The stack slot that held the return address.
    pub frame: usize,
    /// `data_size` bytes private to this call, shared by its entry and return handler.
    pub data: *mut u8,
}

/// An entry or return handler of a return probe: for the entry handler, non-zero means "do
/// not hook this call's return" (Linux's contract); the return handler's value is ignored.
pub type RetHandler = unsafe extern "C" fn(
    rp: *mut RawKretprobe,
    ri: *mut RawInstance,
    regs: *mut bindings::pt_regs,
) -> c_int;

/// `struct rkp_kretprobe`: a return probe. `kp` gives the function (its entry); rkprobes owns
/// `kp`'s handlers.
#[repr(C)]
pub struct RawKretprobe {
    /// The entry probe.
    pub kp: RawKprobe,
    /// In: called when the function returns.
    pub handler: Option<RetHandler>,
    /// In: called at the function's entry, optional.
    pub entry_handler: Option<RetHandler>,
    /// In: how many calls may be pending at once (`<= 0`: Linux's default,
    /// `max(10, 2 * possible CPUs)`). Out: the number used.
    pub maxactive: Atomic<i32>,
    /// In: bytes of per-call data (at most 4096, else `E2BIG`), aligned to 16.
    pub data_size: usize,
    /// Out: calls whose return was not hooked because all `maxactive` instances were in use.
    pub nmissed: Atomic<usize>,
    /// Private to rkprobes: its instance pool.
    pub pool: Atomic<*mut u8>,
}

impl RawKretprobe {
    /// A return probe with every field empty.
    pub const fn zeroed() -> Self {
        Self {
            kp: RawKprobe::zeroed(),
            handler: None,
            entry_handler: None,
            maxactive: Atomic::new(0),
            data_size: 0,
            nmissed: Atomic::new(0),
            pool: Atomic::new(core::ptr::null_mut()),
        }
    }
}

// The layouts `include/rkprobes.h` gives C modules, which check the same offsets: a change
// here fails the build until the header (and `RKP_ABI_VERSION`) follows.
const _: () = {
    use core::mem::{offset_of, size_of};
    const W: usize = size_of::<usize>();
    assert!(offset_of!(RawKprobe, resolved) == 3 * W);
    assert!(offset_of!(RawKprobe, pre_handler) == 5 * W);
    assert!(offset_of!(RawKprobe, registered) == 9 * W);
    assert!(size_of::<RawKprobe>() == 10 * W);
    assert!(offset_of!(RawKretprobe, maxactive) == 12 * W);
    assert!(size_of::<RawKretprobe>() == 16 * W);
    assert!(size_of::<RawInstance>() == 4 * W);
};
