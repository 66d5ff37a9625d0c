// SPDX-License-Identifier: GPL-2.0

//! The arch-neutral probe engine: which addresses are probed, by whom, and whether their
//! breakpoints are in place.
//!
//! Process context changes the [`Registry`] under a mutex. The hit path never takes that
//! mutex: it reads an immutable [`Snapshot`] (a sorted table of probed addresses and their
//! probes) published through an atomic pointer and freed only after an RCU grace period.
//!
//! Ordering, as in Linux: a new address is published before its breakpoint is written; a
//! breakpoint is removed (and every CPU serialised, which waits for CPUs in the trap handler
//! or in a slot) before the address is unpublished; memory is freed only after a grace period
//! that follows the unpublish.
//!
//! This file holds the registry and kprobe registration; `engine/` the rest: resolving
//! targets (`resolve.rs`), publishing snapshots (`publish.rs`), return probes
//! (`returns.rs`, and `via_ftrace.rs` for those hooked through ftrace), and module text that
//! goes or comes (`going.rs`).

use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::{
    bindings,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        rcu, Mutex,
    },
};

use crate::abi::{RawKprobe, FLAG_DEFERRED, FLAG_DISABLED, FLAG_GONE};
use crate::arch::{self, Arch, Arming, Insns, Optimize};
use crate::blacklist::Blacklist;
use crate::kretprobes::Pool;
use crate::percpu::CpuStates;
use crate::sites::Sites;
use crate::slots::Slots;
use crate::snapshot::{Code, Snapshot};
use crate::symbols::Symbols;
use publish::Retired;

mod deferred;
mod going;
mod optimize;
mod publish;
mod resolve;
mod returns;
mod via_ftrace;

/// The engine the trap handler, the exported API and debugfs use; set while the module is live.
/// A `core` atomic, as are the snapshot pointer and the per-CPU state (`rust/percpu.rs`
/// says why): read on every hit.
static CURRENT: AtomicPtr<Engine> = AtomicPtr::new(core::ptr::null_mut());

/// The live engine, if the module is live.
pub(crate) fn current() -> Option<&'static Engine> {
    // SAFETY: `CURRENT` points to the module's engine from `Engine::make_current` until the
    // module's exit clears it; the engine is freed only after the trap hook is unregistered
    // (which waits for running callbacks) and after every client (which holds a module
    // reference) is gone.
    unsafe { CURRENT.load(Ordering::Acquire).as_ref() }
}

/// A probed address.
struct Site {
    code: KBox<Code>,
    /// Registered probes, newest first (the order Linux runs aggregated handlers in).
    probes: KVec<*mut RawKprobe>,
    armed: bool,
    /// The probed code was freed (its module unloaded): never touch it, never publish it.
    gone: bool,
    /// Its probes are gone but its breakpoint could not be removed: it stays published (the
    /// hit path runs the original instruction) and keeps rkprobes loaded until a later
    /// attempt succeeds.
    stuck: bool,
    /// Added by a registration that has not published it yet: nobody may arm it (the hit
    /// path would not know its breakpoint).
    pending: bool,
    /// The optimizer tried to make it a jump (it is one, or could not be); cleared when
    /// something that decided it changes.
    optimize_tried: bool,
}

impl Site {
    fn addr(&self) -> usize {
        Arch::addr(&self.code.probe)
    }

    /// Whether the breakpoint should be in place.
    fn wants_armed(&self, all_disarmed: bool) -> bool {
        // SAFETY: Registered probes stay valid until they are unregistered, which needs the
        // registry mutex that our caller holds.
        !all_disarmed
            && self
                .probes
                .iter()
                .any(|&p| unsafe { (*p).flags.load(Relaxed) } & (FLAG_DISABLED | FLAG_GONE) == 0)
    }
}

/// The indices of the sites at `addr` in `sites`, which is sorted by address (a gone site and
/// a live one may share an address).
fn sites_at(sites: &[Site], addr: usize) -> core::ops::Range<usize> {
    let start = sites.partition_point(|s| s.addr() < addr);
    let len = sites[start..]
        .iter()
        .take_while(|s| s.addr() == addr)
        .count();
    start..start + len
}

/// The name of the errnos registration returns, for log lines (`CONFIG_SYMBOLIC_ERRNAME`
/// is not in every kernel).
fn errno_name(e: Error) -> &'static str {
    [
        (EINVAL, "EINVAL"),
        (ENOENT, "ENOENT"),
        (EILSEQ, "EILSEQ"),
        (ENOMEM, "ENOMEM"),
        (E2BIG, "E2BIG"),
        (EOPNOTSUPP, "EOPNOTSUPP"),
    ]
    .iter()
    .find(|(known, _)| *known == e)
    .map_or("error", |(_, name)| name)
}

/// The right to register one probe: its `registered` flag, set from the start of a
/// registration so that two registrations of one probe cannot race (the second fails with
/// `EINVAL`, as registering a registered probe does). Released on drop unless kept.
struct Claim<'a>(&'a Atomic<bool>);

impl<'a> Claim<'a> {
    fn take(flag: &'a Atomic<bool>) -> Result<Self> {
        flag.cmpxchg(false, true, Acquire).map_err(|_| {
            pr_info!("cannot register a probe that is registered: EINVAL\n");
            EINVAL
        })?;
        Ok(Self(flag))
    }

    /// The registration succeeded: the flag stays set until unregistration.
    fn keep(self) {
        core::mem::forget(self);
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.0.store(false, Release);
    }
}

/// State only process context touches, under the mutex.
pub(crate) struct Registry {
    /// Sorted by address.
    sites: KVec<Site>,
    slots: Slots,
    all_disarmed: bool,
    /// Pools of return probes: registered, or unregistered with calls still pending.
    pools: KVec<KBox<Pool>>,
    /// Text of modules that are being unloaded (`[start, end)`), until a new module reuses
    /// the memory: registering there fails with `ENOENT`, as in Linux.
    going: KVec<(usize, usize)>,
    /// Bumped whenever module text comes or goes: a target resolved without the mutex is
    /// still valid if this did not change meanwhile.
    generation: u64,
    /// Snapshots that registrations replaced, until their grace period is over.
    retired: Retired,
    /// Registered probes that wait for their module to load (`engine/deferred.rs`).
    deferred: KVec<*mut RawKprobe>,
}

/// A registered probe, as [`Registry::probes`] lists it.
struct ProbeRef {
    addr: usize,
    kp: *mut RawKprobe,
    is_return: bool,
    optimized: bool,
    via_ftrace: bool,
    /// It waits for its module to load (it has no address).
    deferred: bool,
}

impl Registry {
    /// Every registered probe but those that wait for their module: those at breakpoints
    /// (kprobes and return probes' entries), then return probes hooked through ftrace.
    fn probes(&self) -> impl Iterator<Item = ProbeRef> + '_ {
        let at_breakpoints = self.sites.iter().flat_map(move |s| {
            s.probes.iter().map(move |&kp| ProbeRef {
                addr: s.addr(),
                kp,
                // CAST: a return probe's `kp` is the first field of its `RawKretprobe`.
                is_return: self.pools.iter().any(|pool| pool.probe() == kp.cast()),
                optimized: Arch::is_optimized(&s.code.probe),
                via_ftrace: false,
                deferred: false,
            })
        });
        let via_ftrace = self.ftrace_pools().map(|pool| {
            // SAFETY: Registered, hence valid, while the registry is locked.
            let kp = unsafe { &raw mut (*pool.probe()).kp };
            ProbeRef {
                // SAFETY: As above.
                addr: unsafe { (*kp).resolved.load(Relaxed) },
                kp,
                is_return: true,
                optimized: false,
                via_ftrace: true,
                deferred: false,
            }
        });
        Iterator::chain(at_breakpoints, via_ftrace)
    }

    /// The probes that wait for their module (a separate iterator: chained to the others,
    /// its type's symbol is too long for objtool).
    fn deferred_probes(&self) -> impl Iterator<Item = ProbeRef> + '_ {
        self.deferred.iter().map(|&kp| ProbeRef {
            addr: 0,
            kp,
            // CAST: a return probe's `kp` is the first field of its `RawKretprobe`.
            is_return: self.pools.iter().any(|pool| pool.probe() == kp.cast()),
            optimized: false,
            via_ftrace: false,
            deferred: true,
        })
    }
}

/// The engine.
#[pin_data(PinnedDrop)]
pub(crate) struct Engine {
    #[pin]
    registry: Mutex<Registry>,
    /// Held while deferred probes are armed for a module that comes, and taken before the
    /// registry by unregistration: a probe being armed cannot be unregistered (and freed by
    /// its client) meanwhile (`engine/deferred.rs`).
    #[pin]
    deferred_lock: Mutex<()>,
    snapshot: AtomicPtr<Snapshot>,
    pub(crate) cpus: CpuStates,
    pub(crate) blacklist: Blacklist,
    module: &'static ThisModule,
    symbols: Symbols,
    pub(crate) sites: Sites,
}

// SAFETY: The raw pointers the engine holds are to registered probes (valid and `Sync` by the
// ABI contract while registered) and to its own snapshot and code, published with release
// ordering and freed only after RCU grace periods.
unsafe impl Send for Engine {}
// SAFETY: As above; all mutation goes through the mutex or atomics.
unsafe impl Sync for Engine {}

impl Engine {
    /// A new engine with nothing registered.
    pub(crate) fn new(module: &'static ThisModule) -> Result<impl PinInit<Self, Error>> {
        let cpus = CpuStates::new()?;
        let blacklist = Blacklist::build(module)?;
        let symbols = Symbols::build()?;
        let sites = Sites::find()?;
        Ok(try_pin_init!(Self {
            registry <- kernel::new_mutex!(Registry { sites: KVec::new(), slots: Slots::new(), all_disarmed: false, pools: KVec::new(), going: KVec::new(), generation: 0, retired: Retired::default(), deferred: KVec::new() }),
            deferred_lock <- kernel::new_mutex!(()),
            snapshot: AtomicPtr::new(core::ptr::null_mut()),
            cpus,
            blacklist,
            symbols,
            sites,
            module,
        }? Error))
    }

    /// Makes `engine` the one [`current`] returns (`None` to clear it).
    pub(crate) fn make_current(engine: Option<&Self>) {
        CURRENT.store(
            engine.map_or(core::ptr::null_mut(), |e| core::ptr::from_ref(e).cast_mut()),
            Ordering::Release,
        );
    }

    /// Puts the breakpoint of `site` in place or takes it out (a jump first becomes a
    /// breakpoint again), as its probes and the global switch say.
    fn update_arming(site: &mut Site, all_disarmed: bool, slots: &mut Slots) -> Result {
        if site.gone {
            site.armed = false;
            return Ok(());
        }
        if site.pending {
            return Ok(());
        }
        let want = site.wants_armed(all_disarmed);
        if want != site.armed {
            if want {
                Arch::arm(&site.code.probe)?;
                optimize::kick();
            } else {
                site.unoptimize(slots)?;
                Arch::disarm(&site.code.probe)?;
            }
            site.armed = want;
        }
        Ok(())
    }

    /// The probe whose breakpoint is at `addr`, if rkprobes has one there.
    fn recover(sites: &[Site], addr: usize) -> Option<&arch::Probe> {
        sites[sites_at(sites, addr)]
            .iter()
            .find(|s| s.armed)
            .map(|s| &s.code.probe)
    }

    /// `register_kprobe()`.
    ///
    /// # Safety
    ///
    /// `p` must be valid, pinned, and stay valid until it is unregistered; its handlers must
    /// be callable from any CPU in NMI-like context until then.
    pub(crate) unsafe fn register(&self, p: *mut RawKprobe) -> Result {
        // SAFETY: Valid per the function's safety requirement.
        let claim = Claim::take(unsafe { &(*p).registered })?;
        // SAFETY: Per the function's safety requirement; claimed.
        loop {
            // SAFETY: Per the function's safety requirement; claimed.
            match unsafe { self.register_claimed(p) } {
                Err(e) if e == EAGAIN => {
                    // SAFETY: As above. `false`: the module came meanwhile; register again.
                    if unsafe { self.defer(p) }? {
                        break;
                    }
                }
                r => break r?,
            }
        }
        claim.keep();
        Ok(())
    }

    /// `register_kprobes()`: registers `probes` in order, publishing and arming them
    /// together (one snapshot for the batch); on the first failure none stays registered.
    ///
    /// # Safety
    ///
    /// As [`Engine::register`], for each of `probes`.
    pub(crate) unsafe fn register_batch(&self, probes: &[*mut RawKprobe]) -> Result {
        let mut claims = KVec::with_capacity(probes.len(), GFP_KERNEL)?;
        let added = (|| {
            for &p in probes {
                // SAFETY: Valid per the function's safety requirement.
                let claim = Claim::take(unsafe { &(*p).registered })?;
                // SAFETY: As above.
                let (addr, func, mut reg) = self.resolve_locked(unsafe { &*p }).map_err(|e| {
                    if e == EAGAIN {
                        pr_info!("a batch cannot hold a probe that waits for its module: EINVAL\n");
                        EINVAL
                    } else {
                        e
                    }
                })?;
                // SAFETY: Per the function's safety requirement; claimed.
                unsafe { self.add(&mut reg, p, addr, &func) }?;
                claims.push_within_capacity(claim).map_err(|_| ENOMEM)?;
            }
            Ok(())
        })();
        let mut reg = self.registry.lock();
        let added_ones = &probes[..claims.len()];
        match added.and_then(|()| self.commit(&mut reg, added_ones)) {
            Ok(()) => {
                claims.into_iter().for_each(Claim::keep);
                Ok(())
            }
            Err(e) => {
                self.undo(&mut reg, added_ones);
                Err(e)
            }
        }
    }

    /// Registers `p`, which the caller claimed.
    ///
    /// # Safety
    ///
    /// As [`Engine::register`]; the caller holds `p`'s [`Claim`].
    unsafe fn register_claimed(&self, p: *mut RawKprobe) -> Result {
        // SAFETY: Valid per the function's safety requirement. Only shared references: the
        // client may read the probe's atomics meanwhile.
        let (addr, func, mut reg) = self.resolve_locked(unsafe { &*p })?;
        // SAFETY: Per the function's safety requirement.
        unsafe { self.add(&mut reg, p, addr, &func) }?;
        self.commit(&mut reg, &[p])
            .inspect_err(|_| self.undo(&mut reg, &[p]))
    }

    /// Takes out probes that [`Engine::add`] put in but that could not be registered.
    fn undo(&self, reg: &mut Registry, added: &[*mut RawKprobe]) {
        if added.is_empty() {
            return;
        }
        self.remove(reg, added);
        for &p in added {
            // SAFETY: The caller's probes are valid.
            unsafe { (*p).resolved.store(0, Relaxed) };
        }
    }

    /// Puts `p` (resolved to `addr` in `func`) in the registry, with its site prepared; it
    /// is not published or armed yet ([`Engine::commit`]).
    ///
    /// # Safety
    ///
    /// As [`Engine::register_claimed`].
    unsafe fn add(
        &self,
        reg: &mut Registry,
        p: *mut RawKprobe,
        addr: usize,
        func: &arch::Function,
    ) -> Result {
        // SAFETY: Valid per the function's safety requirement.
        let probe = unsafe { &*p };
        // The mutex is held from the resolution on, so that a module cannot start going away
        // between the check below and the breakpoint write (the module notifier takes it too).
        if reg
            .going
            .iter()
            .any(|&(start, end)| (start..end).contains(&addr))
        {
            return Err(ENOENT);
        }
        probe.flags.store(
            probe.flags.load(Relaxed) & (FLAG_DISABLED | FLAG_DEFERRED),
            Relaxed,
        );
        probe.nmissed.store(0, Relaxed);
        probe.nhit.store(0, Relaxed);
        // A gone site at the same address belongs to freed code (new code may be there now):
        // it is never reused.
        let at = sites_at(&reg.sites, addr);
        let index = match at.clone().find(|&i| !reg.sites[i].gone) {
            Some(i) => {
                reg.sites[i].probes.reserve(1, GFP_KERNEL)?;
                if probe.post_handler.is_some() {
                    // Jumps run no post-handler.
                    reg.sites[i].unoptimize(&mut reg.slots)?;
                }
                i
            }
            None => {
                reg.sites.reserve(1, GFP_KERNEL)?;
                reg.unoptimize_over(addr)?;
                let probes = KVec::with_capacity(1, GFP_KERNEL)?;
                let code = KBox::<Code>::new_uninit(GFP_KERNEL)?;
                let prepared =
                    Arch::prepare(addr, func, &mut reg.slots, |a| Self::recover(&reg.sites, a))?;
                let site = Site {
                    code: code.write(Code { probe: prepared }),
                    probes,
                    armed: false,
                    gone: false,
                    stuck: false,
                    pending: true,
                    optimize_tried: false,
                };
                reg.sites
                    .insert_within_capacity(at.end, site)
                    .map_err(|_| ENOMEM)?;
                at.end
            }
        };
        reg.sites[index]
            .probes
            .insert_within_capacity(0, p)
            .map_err(|_| ENOMEM)?;
        probe.resolved.store(addr, Relaxed);
        Ok(())
    }

    /// Publishes the registry with `added` (put there by [`Engine::add`]), then puts their
    /// breakpoints in place. On failure the caller removes them.
    fn commit(&self, reg: &mut Registry, added: &[*mut RawKprobe]) -> Result {
        self.publish_added(reg)?;
        for &p in added {
            // SAFETY: Added, hence valid, while the registry is locked.
            let addr = unsafe { (*p).resolved.load(Relaxed) };
            let all_disarmed = reg.all_disarmed;
            let at = sites_at(&reg.sites, addr);
            if let Some(site) = reg.sites[at].iter_mut().find(|s| !s.gone) {
                site.pending = false;
                Self::update_arming(site, all_disarmed, &mut reg.slots)?;
            }
        }
        Ok(())
    }

    /// Takes `probes` out of the registry, disarming and freeing sites that become empty.
    /// Returns after one grace period, when no CPU can run the probes' handlers any more.
    fn remove(&self, reg: &mut Registry, probes: &[*mut RawKprobe]) {
        let all_disarmed = reg.all_disarmed;
        // Breakpoints that earlier removals could not take out are tried again first (a
        // failure now is not retried in the same call).
        for site in reg.sites.iter_mut().filter(|s| s.stuck) {
            self.rearm(site, all_disarmed, &mut reg.slots);
        }
        for &p in probes {
            reg.forget_deferred(p);
        }
        for &p in probes {
            // SAFETY: The caller's probes are valid until this returns.
            let addr = unsafe { (*p).resolved.load(Relaxed) };
            let at = sites_at(&reg.sites, addr);
            for site in reg.sites[at].iter_mut() {
                if let Some(i) = site.probes.iter().position(|&q| q == p) {
                    let _ = site.probes.remove(i);
                    // A post-handler may have been what kept it a breakpoint.
                    site.optimize_tried = false;
                    self.rearm(site, all_disarmed, &mut reg.slots);
                }
            }
        }
        self.publish_retrying(reg);
        let slots = &mut reg.slots;
        reg.sites.retain(|site| {
            if !site.probes.is_empty() || site.armed {
                return true;
            }
            Arch::release(&mut site.code.probe, slots);
            false
        });
        for &p in probes {
            // SAFETY: The caller's probes are valid until this returns.
            reg.retry_before(unsafe { (*p).resolved.load(Relaxed) });
        }
        for &p in probes {
            // SAFETY: The caller's probes are valid until this returns.
            unsafe { (*p).registered.store(false, Release) };
        }
    }

    /// Updates the breakpoint of `site`, whose probes changed. An emptied site is disarmed
    /// here; disarming serialises every CPU, so none is left in the trap handler or the slot
    /// for it. A site whose breakpoint cannot be removed stays in the lookup table, stuck.
    fn rearm(&self, site: &mut Site, all_disarmed: bool, slots: &mut Slots) {
        match Self::update_arming(site, all_disarmed, slots) {
            Err(e) => {
                pr_err!(
                    "cannot restore the text at {:#x}: {e:?}; its breakpoint stays handled\n",
                    site.addr()
                );
                self.set_stuck(site, site.armed);
            }
            Ok(()) => self.set_stuck(site, false),
        }
    }

    /// Records whether `site` is stuck (armed without probes); a stuck site holds a reference
    /// on rkprobes, whose unloading would leave a breakpoint nobody handles.
    fn set_stuck(&self, site: &mut Site, stuck: bool) {
        if site.stuck == stuck {
            return;
        }
        site.stuck = stuck;
        // SAFETY: `module` is this live module; the reference is dropped when the site is no
        // longer stuck.
        unsafe {
            if stuck {
                bindings::__module_get(self.module.as_ptr());
            } else {
                bindings::module_put(self.module.as_ptr());
            }
        }
    }

    /// `unregister_kprobes()`: one grace period for the whole batch. Probes that are not
    /// registered are skipped.
    ///
    /// # Safety
    ///
    /// Each pointer must be valid (a probe that was registered with [`Engine::register`] or
    /// never registered).
    pub(crate) unsafe fn unregister(&self, probes: &[*mut RawKprobe]) {
        let _deferred = self.deferred_lock.lock();
        let mut reg = self.registry.lock();
        let registered = |p: &*mut RawKprobe| {
            // SAFETY: Valid per the function's safety requirement.
            unsafe { (**p).registered.load(Relaxed) }
        };
        if probes.iter().any(registered) {
            self.remove(&mut reg, probes);
        }
    }

    /// `enable_kprobe()` / `disable_kprobe()`.
    ///
    /// # Safety
    ///
    /// `p` must be valid.
    pub(crate) unsafe fn set_enabled(&self, p: *mut RawKprobe, enable: bool) -> Result {
        let mut reg = self.registry.lock();
        let all_disarmed = reg.all_disarmed;
        let registered = reg.sites.iter().any(|s| s.probes.contains(&p))
            || reg.ftrace_pool_of(p).is_some()
            || reg.is_deferred(p);
        if !registered {
            pr_info!("cannot enable or disable a probe that is not registered: EINVAL\n");
            return Err(EINVAL);
        }
        // SAFETY: Registered, hence valid.
        let (flags, addr) = unsafe { (&(*p).flags, (*p).resolved.load(Relaxed)) };
        let old = flags.load(Relaxed);
        if enable && old & FLAG_GONE != 0 && !reg.is_deferred(p) {
            pr_info!("cannot enable the probe at {addr:#x}: its code is gone: EINVAL\n");
            return Err(EINVAL);
        }
        let new = if enable {
            old & !FLAG_DISABLED
        } else {
            old | FLAG_DISABLED
        };
        flags.store(new, Relaxed);
        if reg.is_deferred(p) {
            // Armed or not when its module loads.
            return Ok(());
        }
        if let Some(pool) = reg.ftrace_pool_of(p) {
            reg.update_ftrace_arming(pool);
            return Ok(());
        }
        let reg = &mut *reg;
        let Some(site) = reg.sites.iter_mut().find(|s| s.probes.contains(&p)) else {
            return Err(EINVAL);
        };
        Self::update_arming(site, all_disarmed, &mut reg.slots)
            .inspect_err(|_| flags.store(old, Relaxed))
    }

    /// Whether probes are globally armed (`/sys/kernel/debug/kprobes/enabled`).
    pub(crate) fn globally_enabled(&self) -> bool {
        !self.registry.lock().all_disarmed
    }

    /// Arms or disarms every probe; per-probe flags are untouched. Best effort, like Linux:
    /// returns the last error.
    pub(crate) fn set_globally_enabled(&self, enable: bool) -> Result {
        let mut reg = self.registry.lock();
        if reg.all_disarmed != enable {
            return Ok(());
        }
        reg.all_disarmed = !enable;
        for pool in reg.ftrace_pools() {
            reg.update_ftrace_arming(pool);
        }
        let (mut errors, mut result) = (0, Ok(()));
        let total = reg.sites.len();
        let reg = &mut *reg;
        for site in reg.sites.iter_mut() {
            if let Err(e) = Self::update_arming(site, !enable, &mut reg.slots) {
                errors += 1;
                result = Err(e);
            }
        }
        let what = if enable { "enabled" } else { "disabled" };
        if errors > 0 {
            pr_warn!(
                "Kprobes globally {what}, but failed to {} {errors} out of {total} probes\n",
                &what[..what.len() - 1]
            );
        } else {
            pr_info!("Kprobes globally {what}\n");
        }
        result
    }

    /// Calls `f` with each registered probe's address, flags, and whether it is a return
    /// probe, jump-optimized and hooked through ftrace, in address order (the probes that wait
    /// for their module first, at address 0, with their `module:symbol` target).
    pub(crate) fn for_each_probe(
        &self,
        mut f: impl FnMut(usize, u32, bool, bool, bool, Option<(&[u8], u32)>) -> core::fmt::Result,
    ) -> core::fmt::Result {
        let reg = self.registry.lock();
        let mut probes = KVec::new();
        for probe in reg.probes().enumerate() {
            probes
                .push(probe, GFP_KERNEL)
                .map_err(|_| core::fmt::Error)?;
        }
        for probe in reg.deferred_probes() {
            probes
                .push((probes.len(), probe), GFP_KERNEL)
                .map_err(|_| core::fmt::Error)?;
        }
        // Probes at one address stay newest first.
        probes.sort_unstable_by_key(|(i, p)| (p.addr, *i));
        for (_, p) in probes.iter() {
            // SAFETY: Registered, hence valid, while we hold the mutex.
            let flags = unsafe { (*p.kp).flags.load(Relaxed) };
            // SAFETY: As above; a deferred probe has a NUL-terminated `module:symbol` name.
            let waiting = p.deferred.then(|| unsafe {
                (
                    CStr::from_char_ptr((*p.kp).symbol_name).to_bytes(),
                    (*p.kp).offset,
                )
            });
            f(
                p.addr,
                flags,
                p.is_return,
                p.optimized,
                p.via_ftrace,
                waiting,
            )?;
        }
        Ok(())
    }

    /// Slots in use (for the self-tests and the documentation of the capacity).
    pub(crate) fn slots_in_use(&self) -> u32 {
        self.registry.lock().slots.in_use()
    }
}

#[pinned_drop]
impl PinnedDrop for Engine {
    fn drop(self: Pin<&mut Self>) {
        // Clients hold a module reference on rkprobes while they have probes, so none is left.
        let old = self.snapshot.swap(core::ptr::null_mut(), Ordering::Relaxed);
        rcu::synchronize_rcu();
        if self.registry.lock().slots.has_retired() {
            // No task is left in a detour (or the code they call) when the module's text goes.
            crate::slots::synchronize_rcu_tasks();
        }
        // SAFETY: After the grace period no reader holds any snapshot.
        unsafe {
            publish::free(old);
            self.registry.lock().retired.free_all();
        }
    }
}
