// SPDX-License-Identifier: GPL-2.0

//! Addresses the kernel rewrites at run time or that must not run out of line: jump-label
//! and static-call sites (a breakpoint there breaks the kernel's next rewrite of them),
//! instructions with exception-table entries (a fault in a slot would find no fixup), a
//! module's `noinstr` and `kprobes` text, and ftrace's function-entry sites. Linux refuses the
//! first ones with `EINVAL` (`check_kprobe_address_safe()`); `rust/sites.c` reads the tables.

use kernel::{
    ffi::{c_char, c_void},
    prelude::*,
};

use crate::kallsyms;

/// `struct rkp_core_sites` (rust/sites.h).
#[repr(C)]
#[derive(Default)]
struct CoreTables {
    jump: Bounds,
    static_call: Bounds,
    extable: Bounds,
    modules: usize,
}

/// `[start, stop)` of a table.
#[repr(C)]
#[derive(Default)]
struct Bounds(usize, usize);

extern "C" {
    fn rkp_site_kind(addr: usize, func: usize, core: *const CoreTables) -> c_int;
    fn rkp_jump_site_kind(
        lo: usize,
        hi: usize,
        func: usize,
        func_end: usize,
        core: *const CoreTables,
    ) -> c_int;
    fn rkp_is_ftrace_site(addr: usize) -> bool;
    fn rkp_for_each_module_area(
        core: *const CoreTables,
        f: unsafe extern "C" fn(*mut c_void, usize, usize, *const c_char, *const c_char) -> c_int,
        ctx: *mut c_void,
    ) -> c_int;
    fn rkp_ftrace_query_release();
}

// The kinds `rkp_site_kind()` returns (rust/sites.h).
const JUMP_LABEL: c_int = 1;
const STATIC_CALL: c_int = 2;
const EXTABLE: c_int = 3;
const NOINSTR: c_int = 4;

/// Where the core kernel's tables are.
pub(crate) struct Sites {
    core: CoreTables,
}

impl Sites {
    /// Finds the core kernel's tables in `/proc/kallsyms` (tables a kernel does not have stay
    /// empty).
    pub(crate) fn find() -> Result<Self> {
        let mut t = CoreTables::default();
        kallsyms::scan(|e| {
            if e.module.is_some() {
                return None;
            }
            let slot = match e.name {
                b"__start___jump_table" => &mut t.jump.0,
                b"__stop___jump_table" => &mut t.jump.1,
                b"__start_static_call_sites" => &mut t.static_call.0,
                b"__stop_static_call_sites" => &mut t.static_call.1,
                b"__start___ex_table" => &mut t.extable.0,
                b"__stop___ex_table" => &mut t.extable.1,
                b"modules" if e.kind.eq_ignore_ascii_case(&b'd') => &mut t.modules,
                _ => return None,
            };
            *slot = e.addr;
            None::<()>
        })?;
        if t.extable.0 == 0 || t.modules == 0 {
            pr_err!("cannot find the exception table or the module list in /proc/kallsyms\n");
            return Err(ENOENT);
        }
        Ok(Self { core: t })
    }

    /// Refuses `addr` (an instruction boundary in the function starting at `func`) if the
    /// kernel may rewrite it, if it has an exception-table entry or if its module marks it
    /// unprobeable: `EINVAL` with a log line saying which, as Linux does.
    pub(crate) fn check(&self, addr: usize, func: usize) -> Result {
        // SAFETY: `core` holds the bounds of the kernel's own tables (or zeros); the function
        // only reads them and the module list, under RCU.
        let why = match unsafe { rkp_site_kind(addr, func, &self.core) } {
            JUMP_LABEL => "a jump-label site, which the kernel rewrites when its key flips",
            STATIC_CALL => "a static-call site, which the kernel rewrites",
            EXTABLE => "an instruction with an exception-table entry (no fixup out of line)",
            NOINSTR => "in a module's noinstr or kprobes text, or its NOKPROBE_SYMBOL()",
            _ => return Ok(()),
        };
        pr_info!("cannot probe {addr:#x}: {why}\n");
        Err(EINVAL)
    }
}

impl Sites {
    /// Says why a jump over `[lo, hi)` in the function `[func, func_end)` would break what the
    /// kernel knows of that text: a jump-label or static-call site in it, a jump label that
    /// lands inside it, or an exception-table entry anywhere in the function (its fixup could
    /// land inside it; Linux's optprobes refuse those functions too).
    pub(crate) fn check_jump(
        &self,
        lo: usize,
        hi: usize,
        func: usize,
        func_end: usize,
    ) -> core::result::Result<(), &'static str> {
        // SAFETY: As in `check`.
        match unsafe { rkp_jump_site_kind(lo, hi, func, func_end, &self.core) } {
            JUMP_LABEL => Err("a jump-label site or target"),
            STATIC_CALL => Err("a static-call site"),
            EXTABLE => Err("an exception-table entry in the function"),
            NOINSTR => Err("noinstr text"),
            _ => Ok(()),
        }
    }
}

/// A blacklisted area of a loaded module: `[start, end)` named `what` (`.noinstr.text`,
/// `.kprobes.text`), or, with `what` `None`, the function at `start`, which the module marks
/// `NOKPROBE_SYMBOL()`.
pub(crate) struct ModuleArea<'a> {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) what: Option<&'a CStr>,
    pub(crate) module: &'a CStr,
}

impl Sites {
    /// Calls `f` with each blacklisted area of every loaded module (but rkprobes, which is
    /// blacklisted whole), until it fails. Runs under RCU: `f` must not sleep.
    pub(crate) fn for_each_module_area(
        &self,
        mut f: impl FnMut(ModuleArea<'_>) -> core::fmt::Result,
    ) -> core::fmt::Result {
        type Callback<'b> = dyn FnMut(ModuleArea<'_>) -> core::fmt::Result + 'b;
        /// # Safety
        ///
        /// `ctx` must be a `&mut &mut Callback`; `what` null or, like `module`, a
        /// NUL-terminated string valid for the call.
        unsafe extern "C" fn trampoline(
            ctx: *mut c_void,
            start: usize,
            end: usize,
            what: *const c_char,
            module: *const c_char,
        ) -> c_int {
            // SAFETY: Per the function's safety requirement.
            let (f, area) = unsafe {
                (
                    &mut *ctx.cast::<&mut Callback<'_>>(),
                    ModuleArea {
                        start,
                        end,
                        what: (!what.is_null()).then(|| CStr::from_char_ptr(what)),
                        module: CStr::from_char_ptr(module),
                    },
                )
            };
            c_int::from(f(area).is_err())
        }
        let mut f: &mut Callback<'_> = &mut f;
        // SAFETY: `core` holds the kernel's table bounds; the callback context is `f`, as
        // `trampoline` expects, and outlives the call; the strings passed are the module's.
        let failed =
            unsafe { rkp_for_each_module_area(&self.core, trampoline, (&raw mut f).cast()) };
        if failed != 0 {
            Err(core::fmt::Error)
        } else {
            Ok(())
        }
    }
}

impl Drop for Sites {
    fn drop(&mut self) {
        // SAFETY: No preconditions; frees the filter `is_ftrace_site` used.
        unsafe { rkp_ftrace_query_release() };
    }
}

/// Whether ftrace patches `addr` (a function's `__fentry__` call, or the NOP in its place).
/// Process context. Only the x86 backend looks for them (the arm64 test kernel has no ftrace,
/// and arm64 probes nothing yet).
pub(crate) fn is_ftrace_site(addr: usize) -> bool {
    // SAFETY: No preconditions beyond process context; ftrace validates `addr`.
    unsafe { rkp_is_ftrace_site(addr) }
}
