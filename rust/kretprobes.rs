// SPDX-License-Identifier: GPL-2.0

//! Return probes. A call is hooked at the function's entry and its return handler runs when it
//! returns, by one of two routes:
//! - through ftrace ([`crate::fexit`]) on functions with an ftrace site: fprobe calls back at
//!   the entry and, through the function-graph tracer's return hook, at the return;
//! - through the trampoline otherwise: the entry probe's pre-handler swaps the return address
//!   on the stack for the trampoline's, which runs the return handler (x86: by a call, with
//!   the registers saved; arm64: in the trap at its landing) and sends the CPU on to the real
//!   return address.
//!
//! Each return probe has a [`Pool`] of `maxactive` instances, owned by rkprobes: an instance
//! is claimed lock-free at the entry (`cmpxchg` on its state; none free: `nmissed`), and freed
//! when the call returns. On the trampoline, a pool outlives its probe's unregistration while
//! calls are still pending (they return through the trampoline, without a handler), and every
//! pending call holds a reference on `rkprobes.ko`, so the trampoline cannot go away under it;
//! when the last of them returns, the pool is freed in process context (`rust/reap.c`).
//! Through ftrace, pending calls no longer call back once the hook is removed, so their
//! instances are freed at unregistration.
//!
//! The pools' state is in `core` atomics, for the reason `rust/percpu.rs` gives (the hit path
//! reads it on every call and return; no C code sees it).
//!
//! Every pending call holds a reference on its task: the `task_struct` cannot be freed and
//! reused by another task while the instance names it, so (stack slot, task) identifies the
//! call. A task that dies inside a hooked call (it exits, never returning) leaves its
//! instance behind; process context reclaims those of tasks that reached `TASK_DEAD` (they
//! never run again) at every return-probe registration and unregistration.

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use kernel::{
    bindings,
    ffi::{c_int, c_void},
    prelude::*,
    sync::atomic::Acquire,
    task::Task,
};

use crate::abi::{RawInstance, RawKprobe, RawKretprobe};

extern "C" {
    /// `rust/reap.c`: has process context call [`rkp_reap_pools`] soon. NMI-safe.
    fn rkp_request_reap();
}

/// Frees the pools whose last pending call has returned (`rust/reap.c`'s work item).
#[no_mangle]
extern "C" fn rkp_reap_pools() {
    if let Some(engine) = crate::engine::current() {
        engine.reap();
    }
}
use crate::arch::{Arch, Returns};

const FREE: u32 = 0;
const CLAIMED: u32 = 1;
const HOOKED: u32 = 2;

/// Per-call data is at most this large (Linux's `KRETPROBE_MAX_DATA_SIZE`).
pub(crate) const MAX_DATA_SIZE: usize = 4096;

/// Orders instances hooked on the same frame (several return probes on one function).
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// One pending call.
struct Instance {
    state: AtomicU32,
    seq: AtomicU64,
    task: AtomicUsize,
    frame: AtomicUsize,
    ret_addr: AtomicUsize,
}

/// The instances of one return probe.
pub(crate) struct Pool {
    /// The probe; null once it is unregistered (pending calls then run no handler).
    rp: AtomicPtr<RawKretprobe>,
    instances: KVec<Instance>,
    /// Per-call data, `stride` 16-byte words per instance.
    data: KVec<u128>,
    stride: usize,
    data_size: usize,
    /// Calls hooked and not yet returned.
    pending: AtomicUsize,
    /// `rkprobes.ko`, referenced by every call pending on the trampoline.
    module: *mut bindings::module,
    /// Calls are hooked through ftrace ([`crate::fexit`]), not the trampoline.
    via_ftrace: bool,
    /// Through ftrace: the hook (null before it is registered and after it is removed).
    hook: AtomicPtr<c_void>,
    /// Through ftrace: whether new calls are hooked (on the trampoline that is the entry
    /// probe's breakpoint being in place).
    armed: AtomicBool,
}

impl Pool {
    /// A pool of `count` instances with `data_size` bytes each, hooked through ftrace or the
    /// trampoline.
    pub(crate) fn new(
        rp: *mut RawKretprobe,
        count: usize,
        data_size: usize,
        module: &ThisModule,
        via_ftrace: bool,
    ) -> Result<KBox<Self>> {
        let stride = data_size.div_ceil(16);
        let mut instances = KVec::with_capacity(count, GFP_KERNEL)?;
        for _ in 0..count {
            let i = Instance {
                state: AtomicU32::new(FREE),
                seq: AtomicU64::new(0),
                task: AtomicUsize::new(0),
                frame: AtomicUsize::new(0),
                ret_addr: AtomicUsize::new(0),
            };
            instances.push(i, GFP_KERNEL)?;
        }
        let mut data = KVec::new();
        data.resize(count * stride, 0u128, GFP_KERNEL)?;
        let pool = Self {
            rp: AtomicPtr::new(rp),
            instances,
            data,
            stride,
            data_size,
            pending: AtomicUsize::new(0),
            module: module.as_ptr(),
            via_ftrace,
            hook: AtomicPtr::new(core::ptr::null_mut()),
            armed: AtomicBool::new(false),
        };
        Ok(KBox::new(pool, GFP_KERNEL)?)
    }

    fn data_ptr(&self, i: usize) -> *mut u8 {
        // The data is only written through these pointers, by the one CPU that owns instance
        // `i` (claimed by `cmpxchg`).
        self.data
            .as_ptr()
            .wrapping_add(i * self.stride)
            .cast_mut()
            .cast()
    }

    /// The probe the pool belongs to (null once detached).
    pub(crate) fn probe(&self) -> *mut RawKretprobe {
        self.rp.load(Ordering::Relaxed)
    }

    /// Stops calling the probe's handlers (before it is unregistered).
    pub(crate) fn detach(&self) {
        self.rp.store(core::ptr::null_mut(), Ordering::Release);
    }

    /// Whether the pool can be freed: detached and no call pending.
    pub(crate) fn drained(&self) -> bool {
        self.rp.load(Ordering::Relaxed).is_null() && self.pending.load(Ordering::Acquire) == 0
    }

    /// Calls still pending.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Frees the instances of tasks that died inside a hooked call (process context).
    /// Returns how many it freed.
    pub(crate) fn reclaim_dead(&self) -> usize {
        self.release_where(|task| {
            // SAFETY: The instance holds a reference on its task, so it is valid. A task in
            // `TASK_DEAD` never runs again: its call can never return, so nothing else uses
            // the instance.
            unsafe { core::ptr::read_volatile(&raw const (*task).__state) == bindings::TASK_DEAD }
        })
    }

    /// Frees every pending call's instance once no call can return through the pool any
    /// more (an unregistered ftrace hook, after a grace period). Process context.
    pub(crate) fn release_all(&self) -> usize {
        self.release_where(|_| true)
    }

    /// Frees the hooked instances whose task `dead` says will never return.
    fn release_where(&self, dead: impl Fn(*mut bindings::task_struct) -> bool) -> usize {
        let mut freed = 0;
        for inst in self.instances.iter() {
            if inst.state.load(Ordering::Acquire) != HOOKED {
                continue;
            }
            let task = inst.task.load(Ordering::Relaxed) as *mut bindings::task_struct;
            if !dead(task) {
                continue;
            }
            // SAFETY: Taken when the call was hooked; process context may drop the last one.
            unsafe { bindings::put_task_struct(task) };
            self.put_module();
            inst.state.store(FREE, Ordering::Release);
            self.pending.fetch_sub(1, Ordering::Release);
            freed += 1;
        }
        freed
    }

    /// Drops the module reference a call pending on the trampoline holds.
    fn put_module(&self) {
        if !self.via_ftrace {
            // SAFETY: Taken when the call was hooked.
            unsafe { bindings::module_put(self.module) };
        }
    }

    /// Claims an instance for a call and runs the entry handler. `None`: no instance was
    /// free (counted in `nmissed`), or the entry handler left the call alone.
    fn claim(&self, rp: *mut RawKretprobe, regs: &mut bindings::pt_regs) -> Option<usize> {
        let Some(i) = self.instances.iter().position(|s| {
            s.state
                .compare_exchange(FREE, CLAIMED, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        }) else {
            // SAFETY: `rp` is registered (its entry fired).
            crate::hit::core_usize(unsafe { &(*rp).nmissed }).fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let data = self.data_ptr(i);
        // SAFETY: Instance `i` is ours; its data has `data_size` bytes.
        unsafe { core::ptr::write_bytes(data, 0, self.data_size) };
        let mut ri = RawInstance {
            ret_addr: 0,
            task: Task::current_raw(),
            frame: Arch::stack_pointer(regs),
            data,
        };
        // SAFETY: `rp` is registered, so its handlers are callable in this context.
        if let Some(entry) = unsafe { (*rp).entry_handler } {
            // SAFETY: As above; `ri` and `regs` are valid for the call.
            if unsafe { entry(rp, &mut ri, regs) } != 0 {
                self.instances[i].state.store(FREE, Ordering::Release);
                return None;
            }
        }
        Some(i)
    }

    /// Records claimed instance `i` as the pending call of the current task whose return
    /// address `ret` is at `frame`; returns its sequence number.
    fn hook(&self, i: usize, ret: usize, frame: usize) -> u64 {
        let task = Task::current_raw();
        // SAFETY: `task` is current, alive; the reference keeps its `task_struct` from being
        // reused while the instance names it.
        unsafe { bindings::get_task_struct(task) };
        self.pending.fetch_add(1, Ordering::Relaxed);
        let inst = &self.instances[i];
        let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed) + 1;
        inst.ret_addr.store(ret, Ordering::Relaxed);
        inst.frame.store(frame, Ordering::Relaxed);
        inst.task.store(task as usize, Ordering::Relaxed);
        inst.seq.store(seq, Ordering::Relaxed);
        inst.state.store(HOOKED, Ordering::Release);
        seq
    }

    /// The return of the call on instance `i` to `ret` (the current task's; `regs` already
    /// returns there): runs the return handler if the probe is still registered, frees the
    /// instance.
    fn complete(&self, i: usize, ret: usize, regs: &mut bindings::pt_regs, run_handler: bool) {
        let inst = &self.instances[i];
        let rp = self.rp.load(Ordering::Acquire);
        let task = inst.task.load(Ordering::Relaxed) as *mut bindings::task_struct;
        let mut ri = RawInstance {
            ret_addr: ret,
            task,
            frame: inst.frame.load(Ordering::Relaxed),
            data: self.data_ptr(i),
        };
        let handler = (run_handler && !rp.is_null())
            // SAFETY: A non-null `rp` is registered: its handler is callable until it is
            // detached, which is followed by a grace period before unregistration returns.
            .then(|| unsafe { (*rp).handler })
            .flatten();
        if let Some(handler) = handler {
            // SAFETY: As above; `ri` and `regs` are valid for the call.
            unsafe { handler(rp, &mut ri, regs) };
        }
        inst.state.store(FREE, Ordering::Release);
        let last = self.pending.fetch_sub(1, Ordering::Release) == 1;
        if last && self.rp.load(Ordering::Acquire).is_null() {
            // The last call of an unregistered probe: its pool can go (process context).
            // SAFETY: No preconditions; NMI-safe.
            unsafe { rkp_request_reap() };
        }
        // SAFETY: Taken when the call was hooked. The task is current, so this is never its
        // last reference (nothing is freed here).
        unsafe { bindings::put_task_struct(task) };
        self.put_module();
    }

    /// The entry of a probed call on the trampoline route (hit path).
    fn enter(&self, rp: *mut RawKretprobe, regs: &mut bindings::pt_regs) {
        let Some(i) = self.claim(rp, regs) else {
            return;
        };
        // SAFETY: `module` is this live module (it runs this code); the reference keeps the
        // trampoline alive until the call returns.
        unsafe { bindings::__module_get(self.module) };
        let (ret, frame) = Arch::hook_return(regs, Arch::trampoline());
        self.hook(i, ret, frame);
    }

    /// Sets whether new calls are hooked (ftrace route; process context).
    pub(crate) fn set_armed(&self, armed: bool) {
        self.armed.store(armed, Ordering::Relaxed);
    }

    /// The entry of a call through ftrace: `Some((instance, sequence))` to hook its return.
    pub(crate) fn enter_via_ftrace(&self, regs: &mut bindings::pt_regs) -> Option<(usize, u64)> {
        let rp = self.rp.load(Ordering::Acquire);
        if !self.armed.load(Ordering::Relaxed) || rp.is_null() {
            return None;
        }
        // SAFETY: Armed, so `rp` is registered.
        crate::hit::core_usize(unsafe { &(*rp).kp.nhit }).fetch_add(1, Ordering::Relaxed);
        let i = self.claim(rp, regs)?;
        let frame = Arch::stack_pointer(regs);
        Some((i, self.hook(i, 0, frame)))
    }

    /// The return of a call [`Self::enter_via_ftrace`] hooked, to `ret` (`regs` holds it).
    /// Ignored unless instance `i` is still that call's (`seq`); with `run_handler` false the
    /// call is only freed.
    pub(crate) fn return_via_ftrace(
        &self,
        i: usize,
        seq: u64,
        ret: usize,
        regs: &mut bindings::pt_regs,
        run_handler: bool,
    ) {
        let Some(inst) = self.instances.get(i) else {
            return;
        };
        if inst.state.load(Ordering::Acquire) != HOOKED
            || inst.seq.load(Ordering::Relaxed) != seq
            || inst.task.load(Ordering::Relaxed) != Task::current_raw() as usize
        {
            return;
        }
        self.complete(i, ret, regs, run_handler);
    }

    /// Registers the ftrace hook of the function whose ftrace site is `site`.
    pub(crate) fn hook_ftrace(&self, site: usize) -> Result {
        let hook = crate::fexit::register(site, core::ptr::from_ref(self))?;
        self.hook.store(hook, Ordering::Release);
        Ok(())
    }

    /// Removes the ftrace hook, if any: no entry or return calls back once this returns.
    pub(crate) fn unhook_ftrace(&self) {
        let hook = self.hook.swap(core::ptr::null_mut(), Ordering::Acquire);
        if !hook.is_null() {
            // SAFETY: Registered by `hook_ftrace`, removed once (the exchange).
            unsafe { crate::fexit::unregister(hook) };
        }
    }

    /// Whether calls are hooked through ftrace.
    pub(crate) fn via_ftrace(&self) -> bool {
        self.via_ftrace
    }
}

// SAFETY: The raw pointers are to the registered probe (valid while `rp` is non-null, by the
// ABI contract) and to this module; the rest is atomics and data owned per instance.
unsafe impl Send for Pool {}
// SAFETY: As above.
unsafe impl Sync for Pool {}

/// The entry probe's pre-handler of every return probe.
///
/// # Safety
///
/// `p` must be the `kp` of a registered [`RawKretprobe`] whose `pool` is set, `regs` the
/// trapped registers at the function's entry.
pub(crate) unsafe extern "C" fn entry_pre_handler(
    p: *mut RawKprobe,
    regs: *mut bindings::pt_regs,
) -> c_int {
    // CAST: `kp` is the first field of the `repr(C)` `RawKretprobe`.
    let rp = p.cast::<RawKretprobe>();
    // SAFETY: Per the safety requirement: the pool lives until after the probe is unregistered
    // and drained, and `regs` is valid.
    unsafe { (*(*rp).pool.load(Acquire).cast::<Pool>()).enter(rp, &mut *regs) };
    // The function's first instruction always runs.
    0
}

/// A hooked return at the trampoline (hit path): runs the return handlers of every instance hooked
/// on this frame, newest first, and sends the CPU on to the real return address. `false` if
/// no instance matches (which would be a bug).
pub(crate) fn on_return(pools: &[*const Pool], regs: &mut bindings::pt_regs) -> bool {
    let frame = Arch::returned_frame(regs);
    let task = Task::current_raw() as usize;
    // The oldest or newest instance hooked on this frame, and how many there are.
    let find = |newest: bool| {
        let mut best: Option<(&Pool, usize, u64)> = None;
        let mut count = 0;
        for &pool in pools {
            // SAFETY: Pools in a published snapshot live until a grace period after they
            // leave it; interrupts are off.
            let pool = unsafe { &*pool };
            if pool.via_ftrace {
                continue;
            }
            for (i, inst) in pool.instances.iter().enumerate() {
                if inst.state.load(Ordering::Acquire) == HOOKED
                    && inst.frame.load(Ordering::Relaxed) == frame
                    && inst.task.load(Ordering::Relaxed) == task
                {
                    count += 1;
                    let seq = inst.seq.load(Ordering::Relaxed);
                    if best.is_none_or(|(_, _, s)| (seq > s) == newest) {
                        best = Some((pool, i, seq));
                    }
                }
            }
        }
        (best.map(|(p, i, _)| (p, i)), count)
    };
    // The oldest instance on the frame saved the real return address (the others saved the
    // trampoline's). Go there first, so that handlers see it (and stack traces from them do).
    let (Some((oldest_pool, oldest)), count) = find(false) else {
        return false;
    };
    let real = oldest_pool.instances[oldest]
        .ret_addr
        .load(Ordering::Relaxed);
    Arch::return_to(regs, real);
    if count == 1 {
        // The usual case: one return probe on the function.
        oldest_pool.complete(oldest, real, regs, true);
        return true;
    }
    while let (Some((pool, i)), _) = find(true) {
        pool.complete(i, real, regs, true);
    }
    true
}
