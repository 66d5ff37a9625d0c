// SPDX-License-Identifier: GPL-2.0

//! Deferred probes: a `module:symbol` probe registered with `FLAG_DEFERRED` while its module
//! is not loaded waits in the registry, and is armed each time the module loads (before its
//! init runs); when the module unloads it waits again, listed `[GONE]`. Linux refuses such
//! targets (`ENOENT`).

use kernel::{prelude::*, sync::atomic::Relaxed};

use super::{Engine, Registry};
use crate::abi::{RawKprobe, FLAG_DEFERRED};

impl Engine {
    /// Keeps `p`, whose module was not loaded, until the module loads; `false` if it has
    /// loaded meanwhile (register `p` again). Checked under the registry mutex, which the
    /// module notifier takes before it arms the probes that wait: `p` is either seen by it or
    /// registered again.
    ///
    /// # Safety
    ///
    /// As [`Engine::register`]; the caller holds `p`'s claim.
    pub(super) unsafe fn defer(&self, p: *mut RawKprobe) -> Result<bool> {
        // SAFETY: Valid per the function's safety requirement.
        let probe = unsafe { &*p };
        let mut reg = self.registry.lock();
        // SAFETY: As above; a deferred probe's target is a NUL-terminated `module:symbol`.
        let spec = unsafe { CStr::from_char_ptr(probe.symbol_name) }.to_bytes();
        let module = spec.split(|&c| c == b':').next().unwrap_or(spec);
        if self.symbols.module_loaded(module) {
            return Ok(false);
        }
        reg.deferred.push(p, GFP_KERNEL)?;
        probe.resolved.store(0, Relaxed);
        probe.nmissed.store(0, Relaxed);
        probe.nhit.store(0, Relaxed);
        Ok(true)
    }

    /// Module `name` is coming (its text is final, its init has not run): arms the probes that
    /// wait for it. Those it cannot arm keep waiting, and say why in the log.
    pub(crate) fn module_coming(&self, name: &[u8]) {
        // Until they are armed, no probe taken off the list can be unregistered.
        let _deferred = self.deferred_lock.lock();
        let mut waiting = KVec::new();
        {
            let mut reg = self.registry.lock();
            reg.deferred.retain(|&mut p| {
                // SAFETY: Registered, hence valid, while the registry is locked.
                let keep = !waits_for(unsafe { &*p }, name);
                keep || waiting.push(p, GFP_KERNEL).is_err()
            });
        }
        for &p in waiting.iter() {
            // SAFETY: Registered (claimed) by a client that keeps it valid until it unregisters,
            // which waits for `deferred_lock`, held here.
            let armed = unsafe { self.register_claimed(p) };
            if armed.is_err() {
                // Keep waiting (for a version of the module that has the symbol).
                let mut reg = self.registry.lock();
                if reg.deferred.push(p, GFP_KERNEL).is_err() {
                    pr_err!("no memory to keep a deferred probe waiting\n");
                }
            }
        }
    }
}

impl Registry {
    /// Takes `p` out of the deferred probes, if it is one.
    pub(super) fn forget_deferred(&mut self, p: *mut RawKprobe) {
        self.deferred.retain(|&mut d| d != p);
    }

    /// Whether `p` waits for its module.
    pub(super) fn is_deferred(&self, p: *mut RawKprobe) -> bool {
        self.deferred.contains(&p)
    }
}

/// Whether `p` is a deferred probe on module `name`.
fn waits_for(p: &RawKprobe, name: &[u8]) -> bool {
    if p.flags.load(Relaxed) & FLAG_DEFERRED == 0 || p.symbol_name.is_null() {
        return false;
    }
    // SAFETY: The ABI requires `symbol_name` to be NUL-terminated when set.
    let spec = unsafe { CStr::from_char_ptr(p.symbol_name) }.to_bytes();
    spec.len() > name.len() && spec.starts_with(name) && spec[name.len()] == b':'
}
