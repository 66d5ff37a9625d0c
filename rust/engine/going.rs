// SPDX-License-Identifier: GPL-2.0

//! Module text that goes away or comes: probes there become `[GONE]`, probes whose handlers
//! are there are unregistered, and freed text is refused until new text reuses it.

use kernel::{bindings, prelude::*, sync::atomic::Relaxed};

use super::Engine;
use crate::abi::{RawKprobe, RawKretprobe, FLAG_DEFERRED, FLAG_GONE};
use crate::arch::{Arch, Arming, Insns};

impl Engine {
    /// Marks every probe in `[start, end)` gone: the text is about to be freed. The text is
    /// not touched; the probes stay registered (and listed with `[GONE]`) until their owners
    /// unregister them.
    pub(crate) fn code_going(&self, start: usize, end: usize) {
        let mut reg = self.registry.lock();
        reg.generation += 1;
        if reg.going.push((start, end), GFP_KERNEL).is_err() {
            pr_warn!("cannot remember freed text {start:#x}-{end:#x}\n");
        }
        let mut any = false;
        for site in reg
            .sites
            .iter_mut()
            .filter(|s| (start..end).contains(&s.addr()) && !s.gone)
        {
            site.gone = true;
            if core::mem::take(&mut site.armed) {
                Arch::forget(&site.code.probe);
            }
            if site.stuck {
                site.stuck = false;
                // SAFETY: Taken when the site got stuck; the text it guarded is going away.
                unsafe { bindings::module_put(self.module.as_ptr()) };
            }
            for &p in site.probes.iter() {
                // SAFETY: Registered, hence valid, while we hold the mutex.
                unsafe {
                    (*p).flags
                        .store((*p).flags.load(Relaxed) | FLAG_GONE, Relaxed)
                };
            }
            any = true;
        }
        // Deferred probes leave their gone sites (unpublished below) to wait for the module
        // again.
        let reg = &mut *reg;
        let going = |s: &&mut super::Site| s.gone && (start..end).contains(&s.addr());
        for site in reg.sites.iter_mut().filter(going) {
            site.probes.retain(|&mut p| {
                // SAFETY: As above.
                let probe = unsafe { &*p };
                if probe.flags.load(Relaxed) & FLAG_DEFERRED == 0 {
                    return true;
                }
                if reg.deferred.push(p, GFP_KERNEL).is_err() {
                    pr_err!("no memory to keep a deferred probe waiting\n");
                    return true;
                }
                probe.resolved.store(0, Relaxed);
                false
            });
        }
        for pool in reg.ftrace_pools() {
            // SAFETY: Registered, hence valid, while we hold the mutex.
            let kp = unsafe { &(*pool.probe()).kp };
            if (start..end).contains(&kp.resolved.load(Relaxed)) {
                kp.flags.store(kp.flags.load(Relaxed) | FLAG_GONE, Relaxed);
                reg.update_ftrace_arming(pool);
            }
        }
        if any {
            // Unpublish the gone sites; after the grace period no CPU uses their slots.
            self.publish_retrying(reg);
            for site in reg.sites.iter_mut().filter(|s| s.gone) {
                Arch::release(&mut site.code.probe, &mut reg.slots);
            }
            // Gone sites that only deferred probes had are of no use any more.
            reg.sites.retain(|s| !(s.gone && s.probes.is_empty()));
        }
    }

    /// The module whose text is `[start, end)` is going away: probes whose handlers are
    /// there are still registered only if it leaked them (`mem::forget` of a registration,
    /// or a C module that forgot to unregister). Unregisters them before the text is freed,
    /// so that no CPU calls into freed text; their memory is never touched again.
    pub(crate) fn handlers_going(&self, start: usize, end: usize) {
        let in_text = |f: Option<usize>| f.is_some_and(|a| (start..end).contains(&a));
        let mut kprobes = KVec::<*mut RawKprobe>::new();
        let mut kretprobes = KVec::<*mut RawKretprobe>::new();
        {
            let reg = self.registry.lock();
            let mut consider = |probe: super::ProbeRef| {
                let (p, rp) = (probe.kp, probe.kp.cast::<RawKretprobe>());
                // SAFETY: Registered, hence valid, while we hold the mutex; a return probe's
                // `kp` is the first field of its `RawKretprobe`.
                let leaked = unsafe {
                    if probe.is_return {
                        in_text((*rp).handler.map(|f| f as usize))
                            || in_text((*rp).entry_handler.map(|f| f as usize))
                    } else {
                        in_text((*p).pre_handler.map(|f| f as usize))
                            || in_text((*p).post_handler.map(|f| f as usize))
                    }
                };
                let pushed = match (leaked, probe.is_return) {
                    (false, _) => Ok(()),
                    (true, true) => kretprobes.push(rp, GFP_KERNEL),
                    (true, false) => kprobes.push(p, GFP_KERNEL),
                };
                if pushed.is_err() {
                    pr_err!("no memory to unregister a probe whose module is going away\n");
                }
            };
            // `for`, not `for_each`: the fold's symbol would be too long for objtool.
            for probe in reg.probes() {
                consider(probe);
            }
            for probe in reg.deferred_probes() {
                consider(probe);
            }
        }
        if kprobes.is_empty() && kretprobes.is_empty() {
            return;
        }
        pr_warn!(
            "a module going away left {} probes registered: unregistering them\n",
            kprobes.len() + kretprobes.len()
        );
        // SAFETY: Registered probes are valid; their module's exit has run, so nothing else
        // unregisters or frees them concurrently.
        unsafe {
            self.unregister(&kprobes);
            self.unregister_kretprobes(&kretprobes);
        }
    }

    /// A module's text at `[start, end)` is live: forget freed text it reuses.
    pub(crate) fn code_coming(&self, start: usize, end: usize) {
        let mut reg = self.registry.lock();
        reg.generation += 1;
        reg.going.retain(|&mut (s, e)| e <= start || s >= end);
    }
}
