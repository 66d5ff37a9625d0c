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

use kernel::{
    bindings,
    prelude::*,
    sync::{
        atomic::{Acquire, Atomic, Relaxed, Release},
        rcu, Mutex, MutexGuard,
    },
};

use crate::abi::{RawKprobe, RawKretprobe, FLAG_DISABLED, FLAG_GONE};
use crate::arch;
use crate::blacklist::Blacklist;
use crate::fexit;
use crate::kallsyms;
use crate::kretprobes::{self, Pool};
use crate::percpu::CpuStates;
use crate::sites::Sites;
use crate::slots::Slots;

mod via_ftrace;

/// The engine the trap handler, the exported API and debugfs use; set while the module is live.
static CURRENT: Atomic<*const Engine> = Atomic::new(core::ptr::null());

/// The live engine, if the module is live.
pub(crate) fn current() -> Option<&'static Engine> {
    // SAFETY: `CURRENT` points to the module's engine from `Engine::make_current` until the
    // module's exit clears it; the engine is freed only after the trap hook is unregistered
    // (which waits for running callbacks) and after every client (which holds a module
    // reference) is gone.
    unsafe { CURRENT.load(Acquire).as_ref() }
}

/// The code under one probed address: shared by every probe there, never changed after
/// creation (the hit path reads it without locks).
pub(crate) struct Code {
    pub(crate) probe: arch::Probe,
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
}

impl Site {
    fn addr(&self) -> usize {
        self.code.probe.addr
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

/// One probed address as the hit path sees it.
pub(crate) struct Entry {
    pub(crate) addr: usize,
    pub(crate) code: *const Code,
    /// The probes at `addr`, newest first.
    pub(crate) probes: KVec<*mut RawKprobe>,
}

/// What the hit path reads: every probed address, sorted, and every return probe's pool.
pub(crate) struct Snapshot {
    entries: KVec<Entry>,
    pools: KVec<*const Pool>,
}

impl Snapshot {
    /// The pools of the return probes, including those still draining.
    pub(crate) fn pools(&self) -> &[*const Pool] {
        &self.pools
    }

    /// The entry for `addr`, if it is probed.
    pub(crate) fn find(&self, addr: usize) -> Option<&Entry> {
        self.entries
            .binary_search_by_key(&addr, |e| e.addr)
            .ok()
            .map(|i| &self.entries[i])
    }
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
}

/// A registered probe, as [`Registry::probes`] lists it.
struct ProbeRef {
    addr: usize,
    kp: *mut RawKprobe,
    is_return: bool,
    via_ftrace: bool,
}

impl Registry {
    /// Every registered probe: those at breakpoints (kprobes and return probes' entries),
    /// then return probes hooked through ftrace.
    fn probes(&self) -> impl Iterator<Item = ProbeRef> + '_ {
        let at_breakpoints = self.sites.iter().flat_map(move |s| {
            s.probes.iter().map(move |&kp| ProbeRef {
                addr: s.addr(),
                kp,
                // CAST: a return probe's `kp` is the first field of its `RawKretprobe`.
                is_return: self.pools.iter().any(|pool| pool.probe() == kp.cast()),
                via_ftrace: false,
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
                via_ftrace: true,
            }
        });
        Iterator::chain(at_breakpoints, via_ftrace)
    }
}

/// The engine.
#[pin_data(PinnedDrop)]
pub(crate) struct Engine {
    #[pin]
    registry: Mutex<Registry>,
    snapshot: Atomic<*mut Snapshot>,
    pub(crate) cpus: CpuStates,
    pub(crate) blacklist: Blacklist,
    module: &'static ThisModule,
    kernel_text: kallsyms::KernelText,
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
        let kernel_text = kallsyms::KernelText::find()?;
        let sites = Sites::find()?;
        Ok(try_pin_init!(Self {
            registry <- kernel::new_mutex!(Registry { sites: KVec::new(), slots: Slots::new(), all_disarmed: false, pools: KVec::new(), going: KVec::new(), generation: 0 }),
            snapshot: Atomic::new(core::ptr::null_mut()),
            cpus,
            blacklist,
            kernel_text,
            sites,
            module,
        }? Error))
    }

    /// Makes `engine` the one [`current`] returns (`None` to clear it).
    pub(crate) fn make_current(engine: Option<&Self>) {
        CURRENT.store(
            engine.map_or(core::ptr::null(), core::ptr::from_ref),
            Release,
        );
    }

    /// The current snapshot. The caller must be in an RCU read-side critical section (which
    /// includes running with interrupts off), and use it only inside it.
    pub(crate) fn snapshot(&self) -> Option<&Snapshot> {
        // SAFETY: Snapshots are freed only after a grace period following their replacement,
        // so one read inside a read-side critical section stays valid through it.
        unsafe { self.snapshot.load(Acquire).as_ref() }
    }

    /// Builds the snapshot of `reg`: every site that still has probes.
    fn build(reg: &Registry) -> Result<KBox<Snapshot>> {
        let mut entries = KVec::with_capacity(reg.sites.len(), GFP_KERNEL)?;
        for site in reg
            .sites
            .iter()
            .filter(|s| (!s.probes.is_empty() || s.armed) && !s.gone)
        {
            let mut probes = KVec::with_capacity(site.probes.len(), GFP_KERNEL)?;
            probes.extend_from_slice(&site.probes, GFP_KERNEL)?;
            entries.push(
                Entry {
                    addr: site.addr(),
                    code: &*site.code,
                    probes,
                },
                GFP_KERNEL,
            )?;
        }
        entries.sort_unstable_by_key(|e| e.addr);
        let mut pools = KVec::with_capacity(reg.pools.len(), GFP_KERNEL)?;
        for pool in reg.pools.iter() {
            pools.push(core::ptr::from_ref::<Pool>(pool), GFP_KERNEL)?;
        }
        Ok(KBox::new(Snapshot { entries, pools }, GFP_KERNEL)?)
    }

    /// Publishes a snapshot of `reg`, then waits for a grace period and frees the previous
    /// one: afterwards no CPU can see what `reg` no longer has.
    fn publish(&self, reg: &Registry) -> Result {
        let new = KBox::into_raw(Self::build(reg)?);
        let old = self.snapshot.xchg(new, Release);
        rcu::synchronize_rcu();
        if !old.is_null() {
            // SAFETY: `old` came from `KBox::into_raw` in an earlier publish; after the grace
            // period no reader can still hold it.
            drop(unsafe { KBox::from_raw(old) });
        }
        Ok(())
    }

    /// [`Self::publish`] for paths that cannot fail (unregistration): retries until memory
    /// for the snapshot is found.
    fn publish_retrying(&self, reg: &Registry) {
        while self.publish(reg).is_err() {
            kernel::time::delay::fsleep(kernel::time::Delta::from_millis(1));
        }
    }

    /// Puts the breakpoint of `site` in place or takes it out, as its probes and the global
    /// switch say.
    fn update_arming(site: &mut Site, all_disarmed: bool) -> Result {
        if site.gone {
            site.armed = false;
            return Ok(());
        }
        let want = site.wants_armed(all_disarmed);
        if want != site.armed {
            if want {
                arch::arm(&site.code.probe)?;
            } else {
                arch::disarm(&site.code.probe)?;
            }
            site.armed = want;
        }
        Ok(())
    }

    /// The probe whose breakpoint is at `addr`, if rkprobes has one there.
    fn recover(sites: &KVec<Site>, addr: usize) -> Option<&arch::Probe> {
        sites
            .iter()
            .find(|s| s.addr() == addr && s.armed)
            .map(|s| &s.code.probe)
    }

    /// Resolves a probe's target and returns it with the registry locked, such that no
    /// module came or went since it was resolved. Symbol look-ups read `/proc/kallsyms`,
    /// which takes a seq_file lock: never under the registry mutex, which clients may call
    /// into while holding locks of their own.
    fn resolve_locked(
        &self,
        p: &RawKprobe,
    ) -> Result<(usize, arch::Function, MutexGuard<'_, Registry>)> {
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

    /// Resolves a probe's target to an address and the function containing it.
    fn resolve(&self, p: &RawKprobe) -> Result<(usize, arch::Function)> {
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
                kallsyms::lookup(name.to_bytes()).map_err(|e| {
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
        let func = arch::Function::new(addr - d.offset, d.size);
        // Core kernel text is known; anything else (module text) is checked in kallsyms.
        let is_text = !self.kernel_text.is_init(addr)
            && (self.kernel_text.contains(addr)
                || kallsyms::is_text(func.start, d.name, d.module)?);
        if !is_text {
            return Err(refuse(EINVAL, format_args!("{addr:#x}: not (live) text")));
        }
        let addr = arch::canonical_addr(addr, &func);
        self.sites.check(addr, func.start)?;
        Ok((addr, func))
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
        unsafe { self.register_claimed(p) }?;
        claim.keep();
        Ok(())
    }

    /// Registers `p`, which the caller claimed.
    ///
    /// # Safety
    ///
    /// As [`Engine::register`]; the caller holds `p`'s [`Claim`].
    unsafe fn register_claimed(&self, p: *mut RawKprobe) -> Result {
        // SAFETY: Valid per the function's safety requirement. Only shared references: the
        // client may read the probe's atomics meanwhile.
        let probe = unsafe { &*p };
        // The mutex is held from the resolution on, so that a module cannot start going away
        // between the check below and the breakpoint write (the module notifier takes it too).
        let (addr, func, mut reg) = self.resolve_locked(probe)?;
        if reg
            .going
            .iter()
            .any(|&(start, end)| (start..end).contains(&addr))
        {
            return Err(ENOENT);
        }
        probe
            .flags
            .store(probe.flags.load(Relaxed) & FLAG_DISABLED, Relaxed);
        probe.nmissed.store(0, Relaxed);
        probe.nhit.store(0, Relaxed);
        let reg = &mut *reg;
        // A gone site at the same address belongs to freed code (new code may be there now):
        // it is never reused.
        let index = match reg.sites.iter().position(|s| s.addr() == addr && !s.gone) {
            Some(i) => {
                reg.sites[i].probes.reserve(1, GFP_KERNEL)?;
                i
            }
            None => {
                reg.sites.reserve(1, GFP_KERNEL)?;
                let probes = KVec::with_capacity(1, GFP_KERNEL)?;
                let code = KBox::<Code>::new_uninit(GFP_KERNEL)?;
                let prepared = arch::Probe::prepare(addr, &func, &mut reg.slots, |a| {
                    Self::recover(&reg.sites, a)
                })?;
                let site = Site {
                    code: code.write(Code { probe: prepared }),
                    probes,
                    armed: false,
                    gone: false,
                    stuck: false,
                };
                reg.sites.push_within_capacity(site).map_err(|_| ENOMEM)?;
                reg.sites.len() - 1
            }
        };
        reg.sites[index]
            .probes
            .insert_within_capacity(0, p)
            .map_err(|_| ENOMEM)?;
        probe.resolved.store(addr, Relaxed);
        if let Err(e) = self
            .publish(reg)
            .and_then(|()| Self::update_arming(&mut reg.sites[index], reg.all_disarmed))
        {
            self.remove(reg, &[p]);
            probe.resolved.store(0, Relaxed);
            return Err(e);
        }
        Ok(())
    }

    /// Takes `probes` out of the registry, disarming and freeing sites that become empty.
    /// Returns after one grace period, when no CPU can run the probes' handlers any more.
    fn remove(&self, reg: &mut Registry, probes: &[*mut RawKprobe]) {
        let all_disarmed = reg.all_disarmed;
        for site in reg.sites.iter_mut() {
            site.probes.retain(|q| !probes.contains(&*q));
            // An emptied site is disarmed here; disarming serialises every CPU, so none is
            // left in the trap handler or the slot for it. A site whose breakpoint cannot be
            // removed stays in the lookup table (and is tried again at every removal).
            match Self::update_arming(site, all_disarmed) {
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
        self.publish_retrying(reg);
        let slots = &mut reg.slots;
        reg.sites.retain(|site| {
            if !site.probes.is_empty() || site.armed {
                return true;
            }
            site.code.probe.release(slots);
            false
        });
        for &p in probes {
            // SAFETY: The caller's probes are valid until this returns.
            unsafe { (*p).registered.store(false, Release) };
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
                arch::forget(&site.code.probe);
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
            self.publish_retrying(&reg);
            let reg = &mut *reg;
            for site in reg.sites.iter_mut().filter(|s| s.gone) {
                site.code.probe.release(&mut reg.slots);
            }
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
            for probe in reg.probes() {
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

    /// `register_kretprobe()`.
    ///
    /// # Safety
    ///
    /// As [`Engine::register`], for `rp` and its handlers.
    pub(crate) unsafe fn register_kretprobe(&self, rp: *mut RawKretprobe) -> Result {
        // SAFETY: Valid per the function's safety requirement.
        let claim = Claim::take(unsafe { &(*rp).kp.registered })?;
        // SAFETY: Per the function's safety requirement; claimed.
        unsafe { self.register_kretprobe_claimed(rp) }?;
        claim.keep();
        Ok(())
    }

    /// Registers `rp`, which the caller claimed.
    ///
    /// # Safety
    ///
    /// As [`Engine::register_kretprobe`]; the caller holds the [`Claim`] of `rp`'s `kp`.
    unsafe fn register_kretprobe_claimed(&self, rp: *mut RawKretprobe) -> Result {
        // SAFETY: Valid per the function's safety requirement; shared, as in `register`.
        let r = unsafe { &*rp };
        if r.data_size > kretprobes::MAX_DATA_SIZE {
            pr_info!(
                "cannot probe returns with {} bytes of data per call (at most {}): E2BIG\n",
                r.data_size,
                kretprobes::MAX_DATA_SIZE
            );
            return Err(E2BIG);
        }
        if r.maxactive.load(Relaxed) <= 0 {
            // SAFETY: A plain read of a variable the kernel sets at boot.
            let cpus = unsafe { kernel::bindings::__num_possible_cpus } as i32;
            r.maxactive.store((2 * cpus).max(10), Relaxed);
        }
        // Only a function's entry (or the instruction after its ENDBR) has the return
        // address at the top of the stack.
        let (addr, func, reg) = self.resolve_locked(&r.kp)?;
        if addr != arch::canonical_addr(func.start, &func) {
            pr_info!("cannot probe returns at {addr:#x}: not a function's entry: EINVAL\n");
            return Err(EINVAL);
        }
        if let Some(site) = fexit::site(&func) {
            // SAFETY: Per the function's safety requirement.
            return unsafe { self.register_via_ftrace(rp, site, reg) };
        }
        drop(reg);
        let maxactive = r.maxactive.load(Relaxed) as usize;
        let pool = Pool::new(rp, maxactive, r.data_size, self.module, false)?;
        r.pool.store(
            core::ptr::from_ref::<Pool>(&pool).cast_mut().cast(),
            Release,
        );
        // SAFETY: Claimed, so nothing else reads or writes the handlers until the probe is
        // published (which orders these writes before the hit path's reads).
        unsafe {
            (*rp).kp.pre_handler = Some(kretprobes::entry_pre_handler);
            (*rp).kp.post_handler = None;
        }
        r.nmissed.store(0, Relaxed);
        let mut reg = self.registry.lock();
        Self::reclaim_dead(&reg);
        reg.pools.push(pool, GFP_KERNEL)?;
        drop(reg);
        // SAFETY: Per the function's safety requirement; the entry handler is rkprobes' own.
        if let Err(e) = unsafe { self.register_claimed(&raw mut (*rp).kp) } {
            self.drop_pools(&[rp]);
            return Err(e);
        }
        Ok(())
    }

    /// `unregister_kretprobes()`: calls still inside the functions return through the
    /// trampoline without a handler; their pools are freed once they all have.
    ///
    /// # Safety
    ///
    /// Each pointer must be valid (registered with [`Engine::register_kretprobe`], or never).
    pub(crate) unsafe fn unregister_kretprobes(&self, rps: &[*mut RawKretprobe]) {
        // First no new entries: the entry probes go (disarmed, then a grace period). Calls
        // that entered before still get their return handler.
        // CAST: `kp` is the first field of the `repr(C)` `RawKretprobe`.
        let kp = |rp: &*mut RawKretprobe| rp.cast::<RawKprobe>();
        if let Ok(mut kps) = KVec::with_capacity(rps.len(), GFP_KERNEL) {
            rps.iter()
                .for_each(|rp| kps.push_within_capacity(kp(rp)).unwrap_or(()));
            // SAFETY: Per the function's safety requirement.
            unsafe { self.unregister(&kps) };
        } else {
            // Without memory for the batch, one grace period each.
            // SAFETY: Per the function's safety requirement.
            rps.iter()
                .for_each(|rp| unsafe { self.unregister(&[kp(rp)]) });
        }
        // Then no more return handlers: detach the pools, and wait for the handlers that saw
        // them attached.
        let mut reg = self.registry.lock();
        let mine = |p: &&KBox<Pool>| rps.contains(&p.probe());
        for pool in reg.pools.iter().filter(mine) {
            pool.unhook_ftrace();
            pool.detach();
        }
        rcu::synchronize_rcu();
        Self::reclaim_dead(&reg);
        // Calls pending through ftrace never come back to rkprobes now: free them.
        let released: usize = reg
            .pools
            .iter()
            .filter(|p| p.via_ftrace() && p.probe().is_null())
            .map(|p| p.release_all())
            .sum();
        if released > 0 {
            pr_info!("{released} calls still pending will return without their handler\n");
        }
        let pending: usize = reg.pools.iter().map(|p| p.pending()).sum();
        if pending > 0 {
            pr_info!("{pending} calls still pending: rkprobes stays loaded until they return\n");
        }
        self.reap_pools(&mut reg);
    }

    /// Frees the instances that tasks which died inside hooked calls left behind.
    fn reclaim_dead(reg: &Registry) {
        let freed: usize = reg.pools.iter().map(|p| p.reclaim_dead()).sum();
        if freed > 0 {
            pr_info!("reclaimed {freed} return instances of tasks that exited in probed calls\n");
        }
    }

    /// Detaches the pools of `rps` (never registered) and frees every drained pool.
    fn drop_pools(&self, rps: &[*mut RawKretprobe]) {
        let mut reg = self.registry.lock();
        for pool in reg.pools.iter().filter(|p| rps.contains(&p.probe())) {
            pool.detach();
        }
        self.reap_pools(&mut reg);
    }

    /// Frees the pools of unregistered return probes whose calls have all returned.
    pub(crate) fn reap(&self) {
        let mut reg = self.registry.lock();
        let before = reg.pools.len();
        self.reap_pools(&mut reg);
        let freed = before - reg.pools.len();
        if freed > 0 {
            pr_info!("freed {freed} return-probe pools: their last pending calls returned\n");
        }
    }

    /// Frees the pools no call uses any more (after unpublishing them).
    fn reap_pools(&self, reg: &mut Registry) {
        if !reg.pools.iter().any(|p| p.drained()) {
            return;
        }
        // Room for all of them first: a pool may only be freed after the grace period.
        let Ok(mut drained) = KVec::with_capacity(reg.pools.len(), GFP_KERNEL) else {
            return;
        };
        let mut i = 0;
        while i < reg.pools.len() {
            if !reg.pools[i].drained() {
                i += 1;
                continue;
            }
            if let Ok(pool) = reg.pools.remove(i) {
                let _ = drained.push_within_capacity(pool);
            }
        }
        self.publish_retrying(reg);
        drop(drained);
    }

    /// `unregister_kprobes()`: one grace period for the whole batch. Probes that are not
    /// registered are skipped.
    ///
    /// # Safety
    ///
    /// Each pointer must be valid (a probe that was registered with [`Engine::register`] or
    /// never registered).
    pub(crate) unsafe fn unregister(&self, probes: &[*mut RawKprobe]) {
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
        let registered =
            reg.sites.iter().any(|s| s.probes.contains(&p)) || reg.ftrace_pool_of(p).is_some();
        if !registered {
            pr_info!("cannot enable or disable a probe that is not registered: EINVAL\n");
            return Err(EINVAL);
        }
        // SAFETY: Registered, hence valid.
        let (flags, addr) = unsafe { (&(*p).flags, (*p).resolved.load(Relaxed)) };
        let old = flags.load(Relaxed);
        if enable && old & FLAG_GONE != 0 {
            pr_info!("cannot enable the probe at {addr:#x}: its code is gone: EINVAL\n");
            return Err(EINVAL);
        }
        let new = if enable {
            old & !FLAG_DISABLED
        } else {
            old | FLAG_DISABLED
        };
        flags.store(new, Relaxed);
        if let Some(pool) = reg.ftrace_pool_of(p) {
            reg.update_ftrace_arming(pool);
            return Ok(());
        }
        let Some(site) = reg.sites.iter_mut().find(|s| s.probes.contains(&p)) else {
            return Err(EINVAL);
        };
        Self::update_arming(site, all_disarmed).inspect_err(|_| flags.store(old, Relaxed))
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
        for site in reg.sites.iter_mut() {
            if let Err(e) = Self::update_arming(site, !enable) {
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
    /// probe and hooked through ftrace, in address order.
    pub(crate) fn for_each_probe(
        &self,
        mut f: impl FnMut(usize, u32, bool, bool) -> core::fmt::Result,
    ) -> core::fmt::Result {
        let reg = self.registry.lock();
        let mut probes = KVec::new();
        for probe in reg.probes().enumerate() {
            probes
                .push(probe, GFP_KERNEL)
                .map_err(|_| core::fmt::Error)?;
        }
        // Probes at one address stay newest first.
        probes.sort_unstable_by_key(|(i, p)| (p.addr, *i));
        for (_, p) in probes.iter() {
            // SAFETY: Registered, hence valid, while we hold the mutex.
            let flags = unsafe { (*p.kp).flags.load(Relaxed) };
            f(p.addr, flags, p.is_return, p.via_ftrace)?;
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
        let old = self.snapshot.xchg(core::ptr::null_mut(), Relaxed);
        if !old.is_null() {
            rcu::synchronize_rcu();
            // SAFETY: As in `publish`.
            drop(unsafe { KBox::from_raw(old) });
        }
    }
}
