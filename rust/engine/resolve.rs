// SPDX-License-Identifier: GPL-2.0

//! Resolving a probe's target to an address and the function holding it, with the refusals
//! Linux makes (each logged with its reason).

use kernel::{
    prelude::*,
    sync::{atomic::Relaxed, MutexGuard},
};

use super::{errno_name, Engine, Registry};
use crate::abi::{RawKprobe, FLAG_DEFERRED};
use crate::arch::{Arch, Function, Insns};
use crate::kallsyms;

impl Engine {
    /// Resolves a probe's target and returns it with the registry locked, such that no
    /// module came or went since it was resolved. Symbol look-ups read `/proc/kallsyms`,
    /// which takes a seq_file lock: never under the registry mutex, which clients may call
    /// into while holding locks of their own.
    pub(super) fn resolve_locked(
        &self,
        p: &RawKprobe,
    ) -> Result<(usize, Function, MutexGuard<'_, Registry>)> {
        loop {
            let generation = self.registry.lock().generation;
            let resolved = self.resolve(p);
            let reg = self.registry.lock();
            // A module came or went meanwhile: the answer, success or failure (reading
            // `/proc/kallsyms` while the module list changes can miss a symbol), may be stale.
            if reg.generation == generation {
                return resolved.map(|(addr, func)| (addr, func, reg));
            }
        }
    }

    /// The module a deferred probe's `module:symbol` target waits for, if it is not loaded.
    fn waits_for_module<'a>(&self, p: &RawKprobe, name: &'a CStr) -> Option<&'a [u8]> {
        let module = name.to_bytes().split(|&c| c == b':').next()?;
        let deferred = p.flags.load(Relaxed) & FLAG_DEFERRED != 0;
        (deferred && module.len() < name.to_bytes().len() && !self.symbols.module_loaded(module))
            .then_some(module)
    }

    /// Resolves a probe's target to an address and the function containing it; `EAGAIN` for
    /// a deferred probe whose module is not loaded.
    pub(super) fn resolve(&self, p: &RawKprobe) -> Result<(usize, Function)> {
        // Each refusal says why in the log (Documentation/errors.rst lists them); a bad
        // offset (`EILSEQ`) does not, as in Linux: sweeps try every byte.
        let refuse = |errno: Error, why: core::fmt::Arguments<'_>| {
            pr_info!("cannot probe {why}: {}\n", errno_name(errno));
            errno
        };
        let base = match (p.symbol_name.is_null(), p.addr) {
            (true, 0) => {
                return Err(refuse(
                    EINVAL,
                    format_args!("nothing: no symbol or address"),
                ))
            }
            (false, 1..) => {
                return Err(refuse(EINVAL, format_args!("both a symbol and an address")))
            }
            (true, addr) => addr,
            (false, 0) => {
                // SAFETY: The ABI requires `symbol_name` to be NUL-terminated when set.
                let name = unsafe { CStr::from_char_ptr(p.symbol_name) };
                if let Some(module) = self.waits_for_module(p, name) {
                    pr_info!(
                        "the probe on {} waits for module {} to load\n",
                        name.to_str().unwrap_or("?"),
                        core::str::from_utf8(module).unwrap_or("?")
                    );
                    return Err(EAGAIN);
                }
                self.symbols.lookup(name).map_err(|e| {
                    refuse(
                        e,
                        format_args!("{}: no such symbol", name.to_str().unwrap_or("?")),
                    )
                })?
            }
        };
        let addr = base
            .checked_add(p.offset as usize)
            .ok_or_else(|| refuse(EINVAL, format_args!("{base:#x}+{:#x}: overflows", p.offset)))?;
        let desc = kallsyms::Description::of(addr);
        let Some(d) = desc.as_ref().and_then(|d| d.parsed()) else {
            return Err(refuse(ENOENT, format_args!("{addr:#x}: in no symbol")));
        };
        if d.name.starts_with(b"__cfi_") || d.name.starts_with(b"__pfx_") {
            return Err(refuse(
                EINVAL,
                format_args!("{addr:#x}: CFI or padding before a function"),
            ));
        }
        if self.blacklist.contains(addr) {
            return Err(refuse(EINVAL, format_args!("{addr:#x}: blacklisted")));
        }
        let func = Function::new(addr - d.offset, d.size);
        let text = &self.symbols.kernel_text;
        let is_text =
            !text.is_init(addr) && (text.contains(addr) || self.symbols.is_module_text(addr));
        if !is_text {
            return Err(refuse(EINVAL, format_args!("{addr:#x}: not (live) text")));
        }
        let addr = Arch::canonical_addr(addr, &func);
        self.sites.check(addr, func.start)?;
        Ok((addr, func))
    }
}
