// SPDX-License-Identifier: GPL-2.0

//! Resolving symbol names as `kallsyms_lookup_name()` does (not exported to modules), without
//! reading `/proc/kallsyms` per look-up:
//!
//! - the core kernel's text symbols are read once, when rkprobes loads, into a table of name
//!   hashes (`logic::symtab`; the core kernel's symbols never change);
//! - module symbols are looked up in the modules' own symbol tables on the module list
//!   (`rust/module_syms.c`), so they are current across module loads and unloads;
//! - any other name (data, or no symbol at all) falls back to reading `/proc/kallsyms`.

use kernel::{ffi::c_char, prelude::*};

use crate::kallsyms::{self, KernelText};
use crate::logic::symtab::{self, Slot};

extern "C" {
    fn rkp_module_symbol(
        modules: usize,
        module: *const u8,
        len: usize,
        name: *const c_char,
    ) -> usize;
    fn rkp_module_text(modules: usize, addr: usize) -> bool;
    fn rkp_module_loaded(modules: usize, module: *const u8, len: usize) -> bool;
}

/// The symbols rkprobes resolves probe targets with.
pub(crate) struct Symbols {
    /// The core kernel's text symbols.
    core: KVVec<Slot>,
    /// Where the core kernel's text is.
    pub(crate) kernel_text: KernelText,
    /// The address of the module list's head (`modules`).
    modules: usize,
}

impl Symbols {
    /// Reads `/proc/kallsyms` once.
    pub(crate) fn build() -> Result<Self> {
        let mut core = KVVec::new();
        let mut text = KernelText::default();
        let mut modules = 0;
        let mut failed: Result = Ok(());
        kallsyms::scan(|e| {
            if e.module.is_some() {
                // Module symbols come last: the core kernel's are all read.
                return Some(());
            }
            text.note(&e);
            if e.name == b"modules" && e.kind.eq_ignore_ascii_case(&b'd') {
                modules = e.addr;
            }
            if e.addr != 0 && symtab::is_cached_kind(e.kind) {
                if let Err(err) = core.push(Slot::new(e.name, e.addr), GFP_KERNEL) {
                    failed = Err(err.into());
                    return Some(());
                }
            }
            None
        })?;
        failed?;
        let kernel_text = text.found()?;
        if modules == 0 {
            pr_err!("cannot find the module list in /proc/kallsyms\n");
            return Err(ENOENT);
        }
        symtab::sort(&mut core);
        Ok(Self {
            core,
            kernel_text,
            modules,
        })
    }

    /// The address of the first symbol called `spec` (`name`, or `module:name`); `ENOENT`
    /// if there is none.
    pub(crate) fn lookup(&self, spec: &CStr) -> Result<usize> {
        let bytes = spec.to_bytes();
        let found = match bytes.iter().position(|&c| c == b':') {
            // SAFETY: `module` is `colon` bytes long; the name after it is NUL-terminated, as
            // the rest of `spec`.
            Some(colon) => unsafe {
                rkp_module_symbol(
                    self.modules,
                    bytes.as_ptr(),
                    colon,
                    spec.as_char_ptr().add(colon + 1),
                )
            },
            None => match symtab::find(&self.core, bytes) {
                Some(addr) => addr,
                // SAFETY: `spec` is NUL-terminated; a null module means any module.
                None => unsafe {
                    rkp_module_symbol(self.modules, core::ptr::null(), 0, spec.as_char_ptr())
                },
            },
        };
        match found {
            0 => kallsyms::lookup(bytes),
            addr => Ok(addr),
        }
    }

    /// Whether module `name` is loaded (Linux's `find_module()`).
    pub(crate) fn module_loaded(&self, name: &[u8]) -> bool {
        // SAFETY: `modules` is the module list's head; `name` is valid for `name.len()` bytes;
        // the helper walks the list under RCU.
        unsafe { rkp_module_loaded(self.modules, name.as_ptr(), name.len()) }
    }

    /// Whether `addr` is in a loaded module's text (Linux's `is_module_text_address()`).
    pub(crate) fn is_module_text(&self, addr: usize) -> bool {
        // SAFETY: `modules` is the module list's head; the helper walks it under RCU.
        unsafe { rkp_module_text(self.modules, addr) }
    }
}
