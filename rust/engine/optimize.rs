// SPDX-License-Identifier: GPL-2.0

//! Jump optimization: a background pass that turns armed probes into jumps to detours where
//! the backend finds it safe (`Optimize` in `rust/arch.rs`), as Linux's `kprobe_optimizer`
//! does, and the forced unoptimization that registrations need.
//!
//! A site is optimized only while every probe on it lacks a post-handler (a detour runs the
//! replaced instructions, with no point after them to call one), as in Linux. What makes a
//! site unoptimizable (a probe with a post-handler on it, a new probe on the bytes its jump
//! replaced, disarming) turns its jump back into a breakpoint first.

use kernel::prelude::*;

use super::{sites_at, Engine, Registry, Site};
use crate::arch::{Arch, Optimize};
use crate::slots::{synchronize_rcu_tasks, Slots};

extern "C" {
    /// `rust/optimizer.c`: runs [`rkp_optimize`] in a few ticks. Process context.
    fn rkp_kick_optimizer();
}

/// The optimizer's work item.
#[no_mangle]
extern "C" fn rkp_optimize() {
    if let Some(engine) = super::current() {
        engine.optimize();
    }
}

/// Asks for an optimizer pass soon.
pub(super) fn kick() {
    // SAFETY: No preconditions (process context, which every caller is in).
    unsafe { rkp_kick_optimizer() };
}

/// Whether probes are optimized (`jump_optimization`): by default, not on kernels with
/// kprobes of their own. Their boundary walk would see an optimized probe's `jmp` as an
/// instruction and could put a breakpoint on it (rkprobes' breakpoints it refuses), and
/// taking the jump out would then remove theirs.
fn enabled() -> bool {
    match crate::module_parameters::jump_optimization.value() {
        ..0 => !cfg!(CONFIG_KPROBES),
        0 => false,
        _ => true,
    }
}

/// The most bytes a jump replaces (whole instructions within one instruction's length).
const MAX_JUMP_LEN: usize = 15;

impl Site {
    /// Whether the site may be optimized: armed, alive, and no probe on it has a
    /// post-handler.
    fn optimizable(&self) -> bool {
        // SAFETY: Registered probes stay valid while the registry is locked.
        self.armed
            && !self.gone
            && !self.pending
            && !self.stuck
            && self
                .probes
                .iter()
                .all(|&p| unsafe { (*p).post_handler.is_none() })
    }

    /// Makes the site a breakpoint again, if it is (being) optimized; the optimizer may try it
    /// again later.
    pub(super) fn unoptimize(&mut self, slots: &mut Slots) -> Result {
        self.optimize_tried = false;
        if Arch::jump_len(&self.code.probe) == 0 {
            return Ok(());
        }
        Arch::remove_jump(&self.code.probe, slots)?;
        // Its detour is retired: the next pass frees it after a grace period.
        kick();
        Ok(())
    }
}

impl Registry {
    /// The indices of the sites whose jumps could replace bytes at `addr`.
    fn before(&self, addr: usize) -> core::ops::Range<usize> {
        let from = addr.saturating_sub(MAX_JUMP_LEN);
        self.sites.partition_point(|s| s.addr() < from)
            ..self.sites.partition_point(|s| s.addr() < addr)
    }

    /// Unoptimizes the sites whose jumps replaced bytes at `addr`: a probe is coming there.
    pub(super) fn unoptimize_over(&mut self, addr: usize) -> Result {
        let before = self.before(addr);
        for site in &mut self.sites[before] {
            if site.addr() + Arch::jump_len(&site.code.probe) > addr {
                site.unoptimize(&mut self.slots)?;
            }
        }
        Ok(())
    }

    /// Lets the optimizer try the sites just before `addr` again: the probe going from there
    /// may have been what kept them breakpoints.
    pub(super) fn retry_before(&mut self, addr: usize) {
        let before = self.before(addr);
        for site in &mut self.sites[before] {
            site.optimize_tried = false;
        }
        kick();
    }
}

impl Engine {
    /// One optimizer pass: prepares the detours of the sites that can be optimized, waits for
    /// an RCU-tasks grace period (no task is left preempted in the bytes the jumps replace),
    /// writes the jumps, and frees the detours retired before the wait. Holds the registry
    /// mutex throughout, as Linux's optimizer holds `kprobe_mutex`.
    fn optimize(&self) {
        let mut guard = self.registry.lock();
        let reg = &mut *guard;
        let retired = reg.slots.take_retired();
        let mut prepared = KVec::new();
        let enabled = enabled() && !reg.all_disarmed;
        for i in 0..reg.sites.len() {
            let site = &reg.sites[i];
            if !enabled
                || site.optimize_tried
                || Arch::jump_len(&site.code.probe) > 0
                || !site.optimizable()
            {
                continue;
            }
            let sites = &reg.sites;
            let result = Arch::prepare_jump(
                &sites[i].code.probe,
                &mut reg.slots,
                |a| super::Engine::recover(sites, a),
                |a| sites[sites_at(sites, a)].iter().any(|s| !s.gone),
                |lo, hi, start, end| self.sites.check_jump(lo, hi, start, end),
            );
            reg.sites[i].optimize_tried = true;
            if result.is_ok() && prepared.push(i, GFP_KERNEL).is_err() {
                // No memory to remember it: back to a breakpoint (retired, freed next pass).
                let _ = reg.sites[i].unoptimize(&mut reg.slots);
            }
        }
        if prepared.is_empty() && retired.is_empty() {
            return;
        }
        synchronize_rcu_tasks();
        for &i in prepared.iter() {
            let site = &mut reg.sites[i];
            if let Err(e) = Arch::install_jump(&site.code.probe) {
                pr_warn!("cannot optimize the probe at {:#x}: {e:?}\n", site.addr());
                if site.unoptimize(&mut reg.slots).is_err() {
                    pr_err!("cannot take back the jump at {:#x}\n", site.addr());
                }
            }
        }
        reg.slots.free_retired(retired);
    }
}
