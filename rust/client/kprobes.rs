// SPDX-License-Identifier: GPL-2.0

//! Kernel probes for Rust modules, through `rkprobes.ko`.
//!
//! A client module compiles this file into its crate:
//!
//! ```ignore
//! #[path = "<rkprobes>/rust/client/kprobes.rs"]
//! pub mod kprobes;
//! ```
//!
//! and needs `rkprobes.ko` loaded (its exports are GPL). A probe is a pinned [`Registration`]
//! that owns a [`Handler`]; it is registered when initialised and unregistered when dropped,
//! and after the drop no CPU runs its handler any more.
//!
//! Handlers run in the breakpoint trap, in NMI-like context with interrupts off: they get a
//! [`HitContext`] that says so, must not sleep, allocate with `GFP_KERNEL` or take locks that
//! other contexts hold. Atomics are fine.
//!
//! # Examples
//!
//! ```ignore
//! use kernel::{prelude::*, sync::atomic::{Atomic, Relaxed}};
//! use crate::kprobes::{Handler, HitContext, PreAction, PtRegs, Registration, Target};
//!
//! struct CountForks {
//!     hits: Atomic<u64>,
//! }
//!
//! #[vtable]
//! impl Handler for CountForks {
//!     fn pre_handler(&self, _ctx: &HitContext<'_>, regs: &mut PtRegs) -> PreAction {
//!         self.hits.add(1, Relaxed);
//!         pr_info!("kernel_clone at {:#x}\n", regs.ip());
//!         PreAction::Continue
//!     }
//! }
//!
//! let probe = KBox::pin_init(
//!     Registration::new(Target::symbol(c"kernel_clone"), CountForks { hits: Atomic::new(0) }),
//!     GFP_KERNEL,
//! )?;
//! // ... later, dropping `probe` unregisters it.
//! ```

#![allow(dead_code, reason = "each client uses a different part of the API")]

/// The raw ABI, for tests that need what the safe API rules out.
#[path = "../abi.rs"]
pub mod abi;

use core::marker::{PhantomData, PhantomPinned};

use kernel::{
    bindings,
    error::{to_result, VTABLE_DEFAULT_ERROR},
    ffi::{c_int, c_ulong},
    prelude::*,
    str::CString,
    sync::atomic::{Atomic, Relaxed},
    types::Opaque,
};

use self::abi::{RawInstance, RawKprobe, RawKretprobe, FLAG_DEFERRED, FLAG_DISABLED, FLAG_GONE};

extern "C" {
    /// `register_kprobe()` (raw ABI; see `rust/exports.rs` for the contract).
    pub fn rkp_register_kprobe(p: *mut RawKprobe) -> c_int;
    fn rkp_register_kprobes(ps: *const *mut RawKprobe, num: c_int) -> c_int;
    /// `unregister_kprobe()` (raw ABI).
    pub fn rkp_unregister_kprobe(p: *mut RawKprobe);
    fn rkp_unregister_kprobes(ps: *const *mut RawKprobe, num: c_int);
    fn rkp_enable_kprobe(p: *mut RawKprobe) -> c_int;
    fn rkp_disable_kprobe(p: *mut RawKprobe) -> c_int;
    fn rkp_register_kretprobe(rp: *mut RawKretprobe) -> c_int;
    fn rkp_register_kretprobes(rps: *const *mut RawKretprobe, num: c_int) -> c_int;
    fn rkp_unregister_kretprobes(rps: *const *mut RawKretprobe, num: c_int);
}

/// Where a probe goes: a symbol or an address, plus an offset.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    symbol: Option<&'a CStr>,
    addr: usize,
    offset: u32,
    disabled: bool,
    deferred: bool,
}

impl<'a> Target<'a> {
    /// The start of `name` (`module:name` selects a module's symbol).
    pub fn symbol(name: &'a CStr) -> Self {
        Self {
            symbol: Some(name),
            addr: 0,
            offset: 0,
            disabled: false,
            deferred: false,
        }
    }

    /// An address in kernel or module text.
    pub fn address(addr: usize) -> Self {
        Self {
            symbol: None,
            addr,
            offset: 0,
            disabled: false,
            deferred: false,
        }
    }

    /// `offset` bytes further. It must land on an instruction boundary (`EILSEQ` otherwise).
    pub fn offset(self, offset: u32) -> Self {
        Self { offset, ..self }
    }

    /// Registers the probe disabled; [`Registration::enable`] arms it.
    pub fn disabled(self) -> Self {
        Self {
            disabled: true,
            ..self
        }
    }

    /// For a `module:name` symbol: if the module is not loaded, the registration succeeds and
    /// the probe waits for it, armed whenever the module loads (listed `[DEFERRED]` until the
    /// first load, `[GONE]` while the module is unloaded). Linux refuses such targets.
    pub fn deferred(self) -> Self {
        Self {
            deferred: true,
            ..self
        }
    }
}

impl Target<'_> {
    /// A copy of the symbol's name, which rkprobes reads at every registration.
    fn name(&self) -> Result<Option<CString>> {
        Ok(match self.symbol {
            Some(name) => Some(CString::try_from(name)?),
            None => None,
        })
    }

    /// Writes the target into a raw probe, except the name (see [`Target::name`]).
    fn fill(&self, raw: &mut RawKprobe) {
        raw.addr = self.addr;
        raw.offset = self.offset;
        let flags = if self.disabled { FLAG_DISABLED } else { 0 }
            | if self.deferred { FLAG_DEFERRED } else { 0 };
        raw.flags.store(flags, Relaxed);
    }
}

/// Where a registration's copy of its target's name is, for `symbol_name`.
fn name_ptr(name: &Option<CString>) -> *const u8 {
    name.as_deref()
        .map_or(core::ptr::null(), |n| n.as_char_ptr())
}

/// `handler` as an initialiser with the kernel's error type.
fn with_kernel_error<'a, T: 'a, E>(handler: impl PinInit<T, E> + 'a) -> impl PinInit<T, Error> + 'a
where
    Error: From<E>,
{
    // SAFETY: The closure initialises `slot` exactly when `handler` does (`slot` is the pinned
    // slot `pin_init_from_closure` passes), and only maps the error.
    unsafe {
        pin_init::pin_init_from_closure(move |slot: *mut T| {
            pin_init::raw_try_init(slot, handler).map_err(Error::from)
        })
    }
}

/// What happens after the pre-handlers.
#[derive(PartialEq, Eq, Debug)]
pub enum PreAction {
    /// Run the probed instruction, then the post-handlers.
    Continue,
    /// Continue where [`PtRegs::set_ip`] sent the CPU, without running the probed instruction
    /// or the post-handlers (Linux: a pre-handler returning non-zero). Only `set_ip` gives
    /// the [`Redirect`], so a handler cannot skip without choosing where to go.
    Skip(Redirect),
}

/// Proof that a handler set the instruction pointer (see [`PtRegs::set_ip`]).
#[derive(PartialEq, Eq, Debug)]
#[must_use = "return it in `PreAction::Skip`"]
pub struct Redirect(());

/// Proof that the code holding it runs in the probe hit path: NMI-like context, interrupts
/// off, preemption off. It cannot leave the handler (`!Send`, borrowed).
pub struct HitContext<'a> {
    addr: usize,
    _not_send: PhantomData<(&'a (), *mut ())>,
}

impl HitContext<'_> {
    /// The address of the probe that fired.
    pub fn address(&self) -> usize {
        self.addr
    }

    /// Monotonic time in nanoseconds, safe to read here (`ktime_get_mono_fast_ns()`;
    /// `ktime_get()` could spin forever if the trap interrupted a timekeeping update).
    pub fn now_ns(&self) -> u64 {
        // SAFETY: No preconditions; NMI-safe.
        unsafe { bindings::ktime_get_mono_fast_ns() }
    }

    /// The CPU the probe hit on.
    pub fn cpu(&self) -> u32 {
        kernel::cpu::CpuId::current().as_u32()
    }
}

/// The registers of the probed context, which handlers may read and change.
#[repr(transparent)]
pub struct PtRegs(Opaque<bindings::pt_regs>);

impl PtRegs {
    /// # Safety
    ///
    /// `ptr` must be valid and not aliased for `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::pt_regs) -> &'a mut Self {
        // SAFETY: `PtRegs` is transparent over `pt_regs`; validity per the safety requirement.
        unsafe { &mut *ptr.cast() }
    }

    fn regs(&self) -> &bindings::pt_regs {
        // SAFETY: Valid by construction (`from_raw`).
        unsafe { &*self.0.get() }
    }

    fn regs_mut(&mut self) -> &mut bindings::pt_regs {
        // SAFETY: Valid and exclusive by construction (`from_raw`).
        unsafe { &mut *self.0.get() }
    }

    /// The raw registers, for what the accessors do not cover (read only).
    pub fn as_raw(&self) -> &bindings::pt_regs {
        self.regs()
    }

    /// The raw registers, writable.
    ///
    /// # Safety
    ///
    /// The probed context continues with whatever is left in them: the caller must leave a
    /// state in which the interrupted code can go on correctly (for instance, only change
    /// registers that the probed instruction overwrites anyway).
    pub unsafe fn as_raw_mut(&mut self) -> &mut bindings::pt_regs {
        self.regs_mut()
    }
}

#[cfg(CONFIG_X86_64)]
impl PtRegs {
    /// The instruction pointer. In a pre-handler it is the probe address plus one (the
    /// `int3` has run); in a post-handler, where the probed instruction went.
    pub fn ip(&self) -> usize {
        self.regs().ip
    }

    /// Sets the instruction pointer; a pre-handler returns [`PreAction::Skip`] with the
    /// [`Redirect`] to continue there.
    ///
    /// # Safety
    ///
    /// `ip` must be the start of an instruction that is correct to run next with the
    /// current registers and stack (for example, the address of an instruction the probed
    /// code jumps to anyway, or a function-entry probe emulating a return).
    pub unsafe fn set_ip(&mut self, ip: usize) -> Redirect {
        self.regs_mut().ip = ip;
        Redirect(())
    }

    /// The stack pointer.
    pub fn sp(&self) -> usize {
        self.regs().sp
    }

    /// `EFLAGS` (`PSTATE` on arm64).
    pub fn flags(&self) -> usize {
        self.regs().flags
    }

    /// Integer argument `n` (0-5) of a function probed at its entry (System V AMD64).
    pub fn arg(&self, n: usize) -> Option<usize> {
        let r = self.regs();
        [r.di, r.si, r.dx, r.cx, r.r8, r.r9].get(n).copied()
    }

    /// The return value register (`rax`).
    pub fn return_value(&self) -> usize {
        self.regs().ax
    }

    /// The second return value register (`rdx`): the high half of 128-bit values and of
    /// two-register aggregates (Rust pairs, `Option`, `Result`).
    pub fn return_value2(&self) -> usize {
        self.regs().dx
    }

    /// Sets the return value register.
    ///
    /// # Safety
    ///
    /// The caller of the probed function receives `v`: it must be a value that function
    /// could have returned (a valid pointer where it returns one, and so on).
    pub unsafe fn set_return_value(&mut self, v: usize) {
        self.regs_mut().ax = v;
    }
}

#[cfg(CONFIG_ARM64)]
impl PtRegs {
    fn user_regs(&self) -> &bindings::user_pt_regs {
        // SAFETY: Both members of the union are plain `u64`s in the same layout; any bit
        // pattern is valid.
        unsafe { &self.regs().__bindgen_anon_1.user_regs }
    }

    fn user_regs_mut(&mut self) -> &mut bindings::user_pt_regs {
        // SAFETY: As in `user_regs`.
        unsafe { &mut self.regs_mut().__bindgen_anon_1.user_regs }
    }

    /// The program counter.
    pub fn ip(&self) -> usize {
        self.user_regs().pc as usize
    }

    /// Sets the program counter; see the x86-64 `set_ip`.
    ///
    /// # Safety
    ///
    /// As on x86-64.
    pub unsafe fn set_ip(&mut self, ip: usize) -> Redirect {
        self.user_regs_mut().pc = ip as u64;
        Redirect(())
    }

    /// The stack pointer.
    pub fn sp(&self) -> usize {
        self.user_regs().sp as usize
    }

    /// `PSTATE`.
    pub fn flags(&self) -> usize {
        self.user_regs().pstate as usize
    }

    /// Integer argument `n` (0-7) of a function probed at its entry (AAPCS64).
    pub fn arg(&self, n: usize) -> Option<usize> {
        self.user_regs()
            .regs
            .get(n)
            .filter(|_| n < 8)
            .map(|&r| r as usize)
    }

    /// The return value register (`x0`).
    pub fn return_value(&self) -> usize {
        self.user_regs().regs[0] as usize
    }

    /// The second return value register (`x1`): the high half of 128-bit values and of
    /// two-register aggregates.
    pub fn return_value2(&self) -> usize {
        self.user_regs().regs[1] as usize
    }

    /// Sets the return value register.
    ///
    /// # Safety
    ///
    /// As on x86-64.
    pub unsafe fn set_return_value(&mut self, v: usize) {
        self.user_regs_mut().regs[0] = v as u64;
    }
}

/// A type arguments and return values can be read as, without knowing the calling
/// convention: the integer types and `bool` (the low bits of the register, as both x86-64
/// and arm64 pass narrower values), and raw pointers (the address only; reading through one
/// takes `unsafe` or a nofault accessor).
pub trait FromRegister: Sized {
    /// The value of type `Self` held in a register word.
    fn from_register(word: usize) -> Self;
}

macro_rules! from_register_as {
    ($($t:ty),*) => {
        $(impl FromRegister for $t {
            fn from_register(word: usize) -> Self {
                // CAST: The calling convention keeps a narrower value in the low bits.
                word as $t
            }
        })*
    };
}

from_register_as!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl FromRegister for bool {
    fn from_register(word: usize) -> Self {
        word as u8 != 0
    }
}

impl<T> FromRegister for *const T {
    fn from_register(word: usize) -> Self {
        word as *const T
    }
}

impl<T> FromRegister for *mut T {
    fn from_register(word: usize) -> Self {
        word as *mut T
    }
}

impl PtRegs {
    /// Argument `n` (from 0) of a function probed at its entry, as `T`: `arg_as::<i32>(0)`
    /// is the first argument of a function whose first parameter is an `int`. `None` past
    /// the arguments passed in registers (6 on x86-64, 8 on arm64).
    pub fn arg_as<T: FromRegister>(&self, n: usize) -> Option<T> {
        self.arg(n).map(T::from_register)
    }

    /// The return value as `T`, in a return handler: `return_value_as::<i32>()` of a
    /// function returning `int` (on x86-64 the upper half of `rax` is then undefined).
    pub fn return_value_as<T: FromRegister>(&self) -> T {
        T::from_register(self.return_value())
    }
}

/// The callbacks of a kprobe. Both are optional.
#[vtable]
pub trait Handler: Send + Sync + 'static {
    /// Runs before the probed instruction.
    fn pre_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) -> PreAction {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Runs after the probed instruction, with the registers it left.
    fn post_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A registered kprobe that owns its handler. Unregistered when dropped; after that no CPU
/// runs the handler.
///
/// # Invariants
///
/// `raw` is registered with rkprobes from initialisation (or from a [`Batch`]) until drop,
/// with handlers that reach `handler` through `container_of!`.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Handler> {
    #[pin]
    raw: Opaque<RawKprobe>,
    /// The target's name, owned: rkprobes reads it at every registration.
    name: Option<CString>,
    #[pin]
    handler: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: rkprobes touches `raw` only through atomics or under its own lock; `T: Send + Sync`.
unsafe impl<T: Handler> Send for Registration<T> {}
// SAFETY: As above.
unsafe impl<T: Handler> Sync for Registration<T> {}

impl<T: Handler> Registration<T> {
    /// Registers a probe at `target` that runs `handler`.
    ///
    /// Errors, as Linux's `register_kprobe()`: `ENOENT` (no such symbol, or the address is in
    /// none), `EILSEQ` (not an instruction boundary, or a trap instruction), `EINVAL` (not
    /// text, blacklisted, or an instruction that must not be single-stepped; on arm64 also
    /// a misaligned address), `EOPNOTSUPP` (cannot be emulated), `ENOMEM` (no out-of-line
    /// slot left), `ENOSPC` (arm64: no hardware breakpoint register free to arm it).
    pub fn new<'a, E>(
        target: Target<'a>,
        handler: impl PinInit<T, E> + 'a,
    ) -> impl PinInit<Self, Error> + 'a
    where
        Error: From<E>,
    {
        Self::init(target, handler).pin_chain(|this| {
            // SAFETY: `this` is pinned and initialised; its drop unregisters the probe.
            to_result(unsafe { rkp_register_kprobe(this.raw.get()) })
        })
    }

    /// Prepares a probe that a [`Batch`] registers.
    pub fn new_unregistered<'a, E>(
        target: Target<'a>,
        handler: impl PinInit<T, E> + 'a,
    ) -> impl PinInit<Self, Error> + 'a
    where
        Error: From<E>,
    {
        Self::init(target, handler)
    }

    fn init<'a, E>(
        target: Target<'a>,
        handler: impl PinInit<T, E> + 'a,
    ) -> impl PinInit<Self, Error> + 'a
    where
        Error: From<E>,
    {
        try_pin_init!(Self {
            name: target.name()?,
            handler <- with_kernel_error(handler),
            raw <- Opaque::ffi_init(move |slot: *mut RawKprobe| {
                let mut raw = RawKprobe::zeroed();
                target.fill(&mut raw);
                raw.pre_handler = if T::HAS_PRE_HANDLER { Some(pre_trampoline::<T>) } else { None };
                raw.post_handler = if T::HAS_POST_HANDLER { Some(post_trampoline::<T>) } else { None };
                // SAFETY: `slot` is valid for writes.
                unsafe { slot.write(raw) };
            }),
            _pin: PhantomPinned,
        }? Error)
        .pin_chain(|this| {
            // SAFETY: Not registered yet, so nothing else reads `raw`; the name lives as long
            // as the registration.
            unsafe { (*this.raw.get()).symbol_name = name_ptr(&this.name) };
            Ok(())
        })
    }

    fn raw(&self) -> &RawKprobe {
        // SAFETY: `raw` is initialised; rkprobes changes only its atomics and `addr` (during
        // registration, which has returned).
        unsafe { &*self.raw.get() }
    }

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }

    /// The address the probe sits at (after the `ENDBR64` and ftrace-site adjustments), 0
    /// before registration.
    pub fn address(&self) -> usize {
        self.raw().resolved.load(Relaxed)
    }

    /// Hits whose handlers ran.
    pub fn nhit(&self) -> usize {
        self.raw().nhit.load(Relaxed)
    }

    /// Hits whose handlers were skipped because another probe was being handled on that CPU.
    pub fn nmissed(&self) -> usize {
        self.raw().nmissed.load(Relaxed)
    }

    /// Whether the probe is disabled (or its code is gone).
    pub fn is_disabled(&self) -> bool {
        self.raw().flags.load(Relaxed) & (FLAG_DISABLED | FLAG_GONE) != 0
    }

    /// Arms the probe again (`EINVAL` if its code is gone; on arm64 `ENOSPC` if no hardware
    /// breakpoint register is free). Sleeps: it takes the
    /// registration exclusively, which a handler (given only `&self` of its own state) cannot.
    pub fn enable(self: Pin<&mut Self>) -> Result {
        // SAFETY: `raw` is valid and pinned.
        to_result(unsafe { rkp_enable_kprobe(self.raw.get()) })
    }

    /// Disarms the probe; it stays registered (and listed with `[DISABLED]`). Sleeps, as
    /// [`Registration::enable`].
    pub fn disable(self: Pin<&mut Self>) -> Result {
        // SAFETY: `raw` is valid and pinned.
        to_result(unsafe { rkp_disable_kprobe(self.raw.get()) })
    }
}

#[pinned_drop]
impl<T: Handler> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `raw` is valid; unregistering an unregistered probe does nothing, and when
        // this returns no CPU runs the handlers.
        unsafe { rkp_unregister_kprobe(self.raw.get()) };
    }
}

/// Gets the registration back from the raw probe the engine hands a trampoline.
///
/// # Safety
///
/// `p` must be the `raw` field of a live `Registration<T>`.
unsafe fn registration<'a, T: Handler>(p: *mut RawKprobe) -> &'a Registration<T> {
    // SAFETY: Per the safety requirement.
    unsafe { &*kernel::container_of!(Opaque::cast_from(p), Registration<T>, raw) }
}

/// The pre-handler rkprobes calls for a `Registration<T>`.
///
/// # Safety
///
/// `p` must be the `raw` field of a live `Registration<T>`, `regs` the trapped registers.
unsafe extern "C" fn pre_trampoline<T: Handler>(
    p: *mut RawKprobe,
    regs: *mut bindings::pt_regs,
) -> c_int {
    // SAFETY: rkprobes calls handlers only for registered probes, which are `raw` fields of
    // live registrations (invariant), with the trapped registers.
    let (reg, regs) = unsafe { (registration::<T>(p), PtRegs::from_raw(regs)) };
    let ctx = HitContext {
        addr: reg.address(),
        _not_send: PhantomData,
    };
    match reg.handler.pre_handler(&ctx, regs) {
        PreAction::Continue => 0,
        PreAction::Skip(Redirect(())) => 1,
    }
}

/// The post-handler rkprobes calls for a `Registration<T>`.
///
/// # Safety
///
/// As [`pre_trampoline`].
unsafe extern "C" fn post_trampoline<T: Handler>(
    p: *mut RawKprobe,
    regs: *mut bindings::pt_regs,
    _flags: c_ulong,
) {
    // SAFETY: As in `pre_trampoline`.
    let (reg, regs) = unsafe { (registration::<T>(p), PtRegs::from_raw(regs)) };
    let ctx = HitContext {
        addr: reg.address(),
        _not_send: PhantomData,
    };
    reg.handler.post_handler(&ctx, regs);
}

/// Access to the raw probe of a registration, for batches. Sealed: only [`Registration`]s
/// (`R` = [`RawKprobe`]) and [`KretprobeRegistration`]s (`R` = [`RawKretprobe`]).
pub trait AsRaw<R>: private::Sealed {
    /// The raw probe.
    fn as_raw(&self) -> *mut R;
}

mod private {
    use super::*;

    pub trait Sealed {}

    /// The batch functions of one kind of probe.
    pub trait BatchRaw {
        /// # Safety
        ///
        /// As `rkp_register_kprobes()`.
        unsafe fn register(ps: *const *mut Self, num: c_int) -> c_int;
        /// # Safety
        ///
        /// As `rkp_unregister_kprobes()`.
        unsafe fn unregister(ps: *const *mut Self, num: c_int);
    }

    impl BatchRaw for RawKprobe {
        unsafe fn register(ps: *const *mut Self, num: c_int) -> c_int {
            // SAFETY: Per the safety requirement.
            unsafe { rkp_register_kprobes(ps, num) }
        }
        unsafe fn unregister(ps: *const *mut Self, num: c_int) {
            // SAFETY: Per the safety requirement.
            unsafe { rkp_unregister_kprobes(ps, num) }
        }
    }

    impl BatchRaw for RawKretprobe {
        unsafe fn register(ps: *const *mut Self, num: c_int) -> c_int {
            // SAFETY: Per the safety requirement.
            unsafe { rkp_register_kretprobes(ps, num) }
        }
        unsafe fn unregister(ps: *const *mut Self, num: c_int) {
            // SAFETY: Per the safety requirement.
            unsafe { rkp_unregister_kretprobes(ps, num) }
        }
    }
}

impl<T: Handler> private::Sealed for Registration<T> {}

impl<T: Handler> AsRaw<RawKprobe> for Registration<T> {
    fn as_raw(&self) -> *mut RawKprobe {
        self.raw.get()
    }
}

/// Probes registered together (Linux's `register_kprobes()` / `register_kretprobes()`): all
/// or none, and unregistered together when the batch is dropped (for kprobes, with a single
/// RCU grace period).
pub struct ProbeBatch<'a, R: private::BatchRaw> {
    probes: KVec<*mut R>,
    _probes: PhantomData<&'a ()>,
}

/// A batch of kprobes.
pub type Batch<'a> = ProbeBatch<'a, RawKprobe>;

/// A batch of return probes.
pub type ReturnBatch<'a> = ProbeBatch<'a, RawKretprobe>;

impl<'a, R: private::BatchRaw> ProbeBatch<'a, R> {
    /// Registers `probes` (made with `new_unregistered`) in order; on the first failure,
    /// unregisters those already registered and returns its error.
    pub fn register(probes: &[&'a dyn AsRaw<R>]) -> Result<Self> {
        let mut raw = KVec::with_capacity(probes.len(), GFP_KERNEL)?;
        for p in probes {
            raw.push(p.as_raw(), GFP_KERNEL)?;
        }
        let num = c_int::try_from(raw.len()).map_err(|_| EINVAL)?;
        // SAFETY: Each pointer is the `raw` field of a pinned registration, which unregisters
        // itself on drop at the latest; the batch borrows them meanwhile.
        to_result(unsafe { R::register(raw.as_ptr(), num) })?;
        Ok(Self {
            probes: raw,
            _probes: PhantomData,
        })
    }
}

impl<R: private::BatchRaw> Drop for ProbeBatch<'_, R> {
    fn drop(&mut self) {
        // SAFETY: The probes are borrowed for the batch's lifetime, so still valid.
        unsafe { R::unregister(self.probes.as_ptr(), self.probes.len() as c_int) };
    }
}

/// What happens after a return probe's entry handler.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum EntryAction {
    /// Hook this call's return: the return handler runs when it returns.
    Hook,
    /// Leave this call alone (Linux: an entry handler returning non-zero).
    Skip,
}

/// One call of a function under a return probe, with its per-call data.
pub struct Instance<'a, D> {
    raw: &'a mut RawInstance,
    _data: PhantomData<&'a mut D>,
}

impl<D> Instance<'_, D> {
    /// The data of this call, zeroed at its entry and shared by its entry and return handler.
    pub fn data(&mut self) -> &mut D {
        // SAFETY: rkprobes gives each instance `size_of::<D>()` bytes, 16-byte aligned, zeroed
        // at the entry, and `D: Zeroable` (see `KretprobeRegistration`); the instance is this
        // call's alone while its handler runs.
        unsafe { &mut *self.raw.data.cast::<D>() }
    }

    /// Where the function returns to (in the entry handler: 0, not known yet).
    pub fn ret_addr(&self) -> usize {
        self.raw.ret_addr
    }

    /// The task that made the call (the current one).
    pub fn task(&self) -> &kernel::task::Task {
        // SAFETY: The instance's task is the current task, which lives while its handler runs;
        // `Task` is a transparent wrapper of `task_struct`.
        unsafe { &*self.raw.task.cast::<kernel::task::Task>() }
    }
}

/// The callbacks of a return probe: `handler` when the function returns, `entry_handler`
/// (optional) when it is entered. Both run in the breakpoint trap, as kprobe handlers do.
#[vtable]
pub trait RetHandler: Send + Sync + 'static {
    /// Per-call data (at most 4096 bytes, alignment at most 16), zeroed at each entry.
    type Data: pin_init::Zeroable + Send;

    /// Runs at the function's entry; [`EntryAction::Skip`] leaves this call unhooked.
    fn entry_handler(
        &self,
        _ctx: &HitContext<'_>,
        _ri: &mut Instance<'_, Self::Data>,
        _regs: &mut PtRegs,
    ) -> EntryAction {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Runs when the function returns: `regs` holds its return value, `regs.ip()` the real
    /// return address.
    fn handler(&self, ctx: &HitContext<'_>, ri: &mut Instance<'_, Self::Data>, regs: &mut PtRegs);
}

/// A registered return probe that owns its handler. Unregistered when dropped: after that no
/// CPU runs the handlers; calls still inside the function return normally (and keep
/// `rkprobes.ko` loaded until they have).
///
/// # Invariants
///
/// `raw` is registered with rkprobes from initialisation until drop.
#[pin_data(PinnedDrop)]
pub struct KretprobeRegistration<T: RetHandler> {
    #[pin]
    raw: Opaque<RawKretprobe>,
    /// As in [`Registration`].
    name: Option<CString>,
    #[pin]
    handler: T,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: As for `Registration`.
unsafe impl<T: RetHandler> Send for KretprobeRegistration<T> {}
// SAFETY: As above.
unsafe impl<T: RetHandler> Sync for KretprobeRegistration<T> {}

impl<T: RetHandler> KretprobeRegistration<T> {
    /// Registers a return probe on the function `target` names (its entry: `EINVAL`
    /// elsewhere), with up to `maxactive` calls pending at once (0: Linux's default,
    /// `max(10, 2 * possible CPUs)`).
    pub fn new<'a, E>(
        target: Target<'a>,
        maxactive: u32,
        handler: impl PinInit<T, E> + 'a,
    ) -> impl PinInit<Self, Error> + 'a
    where
        Error: From<E>,
    {
        Self::init(target, maxactive, handler).pin_chain(|this| {
            // SAFETY: `this` is pinned and initialised; its drop unregisters the probe.
            to_result(unsafe { rkp_register_kretprobe(this.raw.get()) })
        })
    }

    /// Prepares a return probe that a [`ReturnBatch`] registers.
    pub fn new_unregistered<'a, E>(
        target: Target<'a>,
        maxactive: u32,
        handler: impl PinInit<T, E> + 'a,
    ) -> impl PinInit<Self, Error> + 'a
    where
        Error: From<E>,
    {
        Self::init(target, maxactive, handler)
    }

    fn init<'a, E>(
        target: Target<'a>,
        maxactive: u32,
        handler: impl PinInit<T, E> + 'a,
    ) -> impl PinInit<Self, Error> + 'a
    where
        Error: From<E>,
    {
        const {
            assert!(
                core::mem::size_of::<T::Data>() <= 4096,
                "per-call data is at most 4096 bytes"
            );
            assert!(
                core::mem::align_of::<T::Data>() <= 16,
                "per-call data is aligned to 16 at most"
            );
        }
        try_pin_init!(Self {
            name: target.name()?,
            handler <- with_kernel_error(handler),
            raw <- Opaque::ffi_init(move |slot: *mut RawKretprobe| {
                let mut raw = RawKretprobe::zeroed();
                target.fill(&mut raw.kp);
                raw.handler = Some(ret_trampoline::<T>);
                raw.entry_handler = if T::HAS_ENTRY_HANDLER { Some(entry_trampoline::<T>) } else { None };
                raw.maxactive = Atomic::new(i32::try_from(maxactive).unwrap_or(i32::MAX));
                raw.data_size = core::mem::size_of::<T::Data>();
                // SAFETY: `slot` is valid for writes.
                unsafe { slot.write(raw) };
            }),
            _pin: PhantomPinned,
        }? Error)
        .pin_chain(|this| {
            // SAFETY: As in `Registration::init`.
            unsafe { (*this.raw.get()).kp.symbol_name = name_ptr(&this.name) };
            Ok(())
        })
    }

    fn raw(&self) -> &RawKretprobe {
        // SAFETY: `raw` is initialised; rkprobes changes only its atomics after registration.
        unsafe { &*self.raw.get() }
    }

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.handler
    }

    /// The address of the probed function's entry.
    pub fn address(&self) -> usize {
        self.raw().kp.resolved.load(Relaxed)
    }

    /// The number of calls that can be pending at once.
    pub fn maxactive(&self) -> u32 {
        self.raw().maxactive.load(Relaxed).max(0) as u32
    }

    /// Calls not hooked because `maxactive` calls were already pending.
    pub fn nmissed(&self) -> usize {
        self.raw().nmissed.load(Relaxed)
    }

    /// Entries of the function whose handlers ran (hooked or not).
    pub fn nhit(&self) -> usize {
        self.raw().kp.nhit.load(Relaxed)
    }

    /// Stops hooking calls (pending ones still return through their handler). Sleeps, as
    /// [`Registration::enable`].
    pub fn disable(self: Pin<&mut Self>) -> Result {
        // SAFETY: `raw.kp` is valid and pinned.
        to_result(unsafe { rkp_disable_kprobe(&raw mut (*self.raw.get()).kp) })
    }

    /// Hooks calls again. Sleeps, as [`Registration::enable`].
    pub fn enable(self: Pin<&mut Self>) -> Result {
        // SAFETY: `raw.kp` is valid and pinned.
        to_result(unsafe { rkp_enable_kprobe(&raw mut (*self.raw.get()).kp) })
    }
}

impl<T: RetHandler> private::Sealed for KretprobeRegistration<T> {}

impl<T: RetHandler> AsRaw<RawKretprobe> for KretprobeRegistration<T> {
    fn as_raw(&self) -> *mut RawKretprobe {
        self.raw.get()
    }
}

#[pinned_drop]
impl<T: RetHandler> PinnedDrop for KretprobeRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        let rp = self.raw.get();
        // SAFETY: `raw` is valid; unregistering an unregistered probe does nothing, and when
        // this returns no CPU runs the handlers.
        unsafe { rkp_unregister_kretprobes(&rp, 1) };
    }
}

/// # Safety
///
/// `rp` must be the `raw` field of a live `KretprobeRegistration<T>`, `ri` a valid instance
/// with data for `T::Data`, `regs` the trapped registers.
unsafe fn ret_context<'a, T: RetHandler>(
    rp: *mut RawKretprobe,
    ri: *mut RawInstance,
    regs: *mut bindings::pt_regs,
) -> (
    &'a KretprobeRegistration<T>,
    Instance<'a, T::Data>,
    &'a mut PtRegs,
) {
    // SAFETY: Per the safety requirement.
    unsafe {
        (
            &*kernel::container_of!(Opaque::cast_from(rp), KretprobeRegistration<T>, raw),
            Instance {
                raw: &mut *ri,
                _data: PhantomData,
            },
            PtRegs::from_raw(regs),
        )
    }
}

/// The entry handler rkprobes calls for a `KretprobeRegistration<T>`.
///
/// # Safety
///
/// As [`ret_context`].
unsafe extern "C" fn entry_trampoline<T: RetHandler>(
    rp: *mut RawKretprobe,
    ri: *mut RawInstance,
    regs: *mut bindings::pt_regs,
) -> c_int {
    // SAFETY: rkprobes calls it with a registered probe of this type, the call's instance
    // and the trapped registers.
    let (reg, mut ri, regs) = unsafe { ret_context::<T>(rp, ri, regs) };
    let ctx = HitContext {
        addr: reg.address(),
        _not_send: PhantomData,
    };
    match reg.handler.entry_handler(&ctx, &mut ri, regs) {
        EntryAction::Hook => 0,
        EntryAction::Skip => 1,
    }
}

/// The return handler rkprobes calls for a `KretprobeRegistration<T>`.
///
/// # Safety
///
/// As [`ret_context`].
unsafe extern "C" fn ret_trampoline<T: RetHandler>(
    rp: *mut RawKretprobe,
    ri: *mut RawInstance,
    regs: *mut bindings::pt_regs,
) -> c_int {
    // SAFETY: As in `entry_trampoline`.
    let (reg, mut ri, regs) = unsafe { ret_context::<T>(rp, ri, regs) };
    let ctx = HitContext {
        addr: reg.address(),
        _not_send: PhantomData,
    };
    reg.handler.handler(&ctx, &mut ri, regs);
    0
}
