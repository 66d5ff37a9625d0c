// SPDX-License-Identifier: GPL-2.0

//! Return probes through ftrace, where the kernel has fprobe (x86-64 with `CONFIG_FPROBE`;
//! the C half is `arch/x86/kernel/fexit.c`).
//!
//! A return probe on a function with an ftrace site hooks its calls through an fprobe: the
//! function-graph tracer swaps the return address for its `return_to_handler`, which the
//! kernel's unwinders recover. Stack traces taken below a hooked call (a nested return
//! probe's handler, or anywhere while the call is pending) are then whole, which they cannot
//! be through rkprobes' own trampoline. Each call's instance and sequence number travel in
//! the two words fprobe keeps per call.

use kernel::{
    bindings,
    ffi::{c_int, c_void},
    prelude::*,
};

use crate::arch::Function;
use crate::kretprobes::Pool;
use crate::percpu::status;

#[cfg(all(CONFIG_X86_64, CONFIG_FPROBE))]
extern "C" {
    fn rkp_fexit_register(site: usize, ctx: *const c_void, err: *mut c_int) -> *mut c_void;
    fn rkp_fexit_unregister(hook: *mut c_void);
}

/// Whether return probes are hooked through ftrace where they can be: the kernel has fprobe
/// and the `ftrace_returns` parameter is on.
pub(crate) fn enabled() -> bool {
    AVAILABLE && crate::module_parameters::ftrace_returns.value()
}

/// Whether this kernel and architecture can hook returns through ftrace.
pub(crate) const AVAILABLE: bool = cfg!(all(CONFIG_X86_64, CONFIG_FPROBE));

/// Where the returns of `func` are hooked through ftrace: its ftrace site, if [`enabled`].
pub(crate) fn site(func: &Function) -> Option<usize> {
    func.ftrace_site.filter(|_| enabled())
}

/// Hooks the function whose ftrace site is `site` for `pool`, which must stay valid until
/// [`unregister`] returns. Process context.
pub(crate) fn register(site: usize, pool: *const Pool) -> Result<*mut c_void> {
    #[cfg(all(CONFIG_X86_64, CONFIG_FPROBE))]
    {
        let mut err: c_int = 0;
        // SAFETY: `err` is writable; the pool outlives the hook, per the caller.
        let hook = unsafe { rkp_fexit_register(site, pool.cast(), &mut err) };
        if hook.is_null() {
            return Err(Error::from_errno(err));
        }
        Ok(hook)
    }
    #[cfg(not(all(CONFIG_X86_64, CONFIG_FPROBE)))]
    {
        let _ = (site, pool);
        Err(EOPNOTSUPP)
    }
}

/// Removes a hook, waiting for a grace period: afterwards no entry or return calls back.
///
/// # Safety
///
/// `hook` must come from [`register`] and not have been unregistered.
pub(crate) unsafe fn unregister(hook: *mut c_void) {
    #[cfg(all(CONFIG_X86_64, CONFIG_FPROBE))]
    // SAFETY: Per the function's safety requirement.
    unsafe {
        rkp_fexit_unregister(hook)
    };
    #[cfg(not(all(CONFIG_X86_64, CONFIG_FPROBE)))]
    let _ = hook;
}

/// Runs `f` (which calls handlers) marked on this CPU's probe stack, so that probes hit
/// meanwhile count as missed; `None` if a probe's handlers already run on this CPU (hooked
/// functions called from them are left alone, as breakpoints hit there are). Interrupts are
/// off (`fexit.c`).
fn exclusive<R>(f: impl FnOnce() -> R) -> Option<R> {
    let cpu = crate::engine::current()?.cpus.this_cpu();
    if cpu.running() {
        return None;
    }
    cpu.push(core::ptr::null(), status::RETURN)?;
    let r = f();
    cpu.pop();
    Some(r)
}

/// The entry of a hooked call (`fexit.c`): non-zero leaves its return alone.
///
/// # Safety
///
/// `ctx` is the pool passed to [`register`], alive; `regs` valid; `data` two writable words.
#[no_mangle]
unsafe extern "C" fn rkp_fexit_on_entry(
    ctx: *const c_void,
    regs: *mut bindings::pt_regs,
    data: *mut [u64; 2],
) -> c_int {
    // SAFETY: Per the function's safety requirement.
    let (pool, regs) = unsafe { (&*ctx.cast::<Pool>(), &mut *regs) };
    match exclusive(|| pool.enter_via_ftrace(regs)) {
        Some(Some((i, seq))) => {
            // SAFETY: Per the function's safety requirement.
            unsafe { *data = [i as u64, seq] };
            0
        }
        Some(None) => 1,
        None => {
            let rp = pool.probe();
            if !rp.is_null() {
                // SAFETY: Non-null: registered.
                crate::hit::core_usize(unsafe { &(*rp).kp.nmissed })
                    .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
            }
            1
        }
    }
}

/// The return of a hooked call to `ret` (`fexit.c`).
///
/// # Safety
///
/// As [`rkp_fexit_on_entry`]; `data` holds what it wrote.
#[no_mangle]
unsafe extern "C" fn rkp_fexit_on_return(
    ctx: *const c_void,
    regs: *mut bindings::pt_regs,
    data: *const [u64; 2],
    ret: usize,
) {
    // SAFETY: Per the function's safety requirement.
    let (pool, regs, [i, seq]) = unsafe { (&*ctx.cast::<Pool>(), &mut *regs, *data) };
    let i = i as usize;
    if exclusive(|| pool.return_via_ftrace(i, seq, ret, regs, true)).is_none() {
        // Returning inside another probe's handler: free the call without its handler.
        pool.return_via_ftrace(i, seq, ret, regs, false);
    }
}
