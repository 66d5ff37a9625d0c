// SPDX-License-Identifier: GPL-2.0

//! The blacklist: text that probes may not use, because probing it would recurse into the
//! trap path or break code that must not be instrumented. Built once at load time:
//!
//! - the entry, `noinstr` (with `cpuidle`) and `__kprobes` text areas;
//! - every function the kernel marks `NOKPROBE_SYMBOL()`: a kernel without `CONFIG_KPROBES`
//!   compiles those markers away, so the names come from its source tree at build time
//!   (`scripts/gen-nokprobe-list.sh`), with compiler clones (`foo.cold`) included;
//! - the trap path of this architecture and the C helpers the hit path calls (`rust_helper_*`);
//! - rkprobes' own text.
//!
//! Registration fails with `EINVAL` anywhere in it (Linux: `within_kprobe_blacklist()`).

use kernel::{bindings, prelude::*};

use crate::arch::{Arch, Trap};
use crate::kallsyms;
use crate::logic::blacklist::{contains, has_prefix, listed, names, AREAS, PREFIXES};

extern "C" {
    /// `nokprobe_list.c` (generated): the sorted `NOKPROBE_SYMBOL()` names.
    static rkp_nokprobe_blob: [u8; 0];
    static rkp_nokprobe_blob_len: u32;
}

fn nokprobe_blob() -> &'static [u8] {
    // SAFETY: The generated C file defines the blob with `rkp_nokprobe_blob_len` bytes (plus
    // a terminating NUL), immutable for the module's lifetime.
    unsafe {
        core::slice::from_raw_parts(
            (&raw const rkp_nokprobe_blob).cast(),
            rkp_nokprobe_blob_len as usize,
        )
    }
}

/// Blacklisted address ranges (`[start, end)`), with the name of each area (functions are
/// named by their symbol when shown).
pub(crate) struct Blacklist {
    ranges: KVec<(usize, usize)>,
    areas: KVec<(usize, &'static [u8])>,
}

impl Blacklist {
    /// Builds the blacklist; `module` is rkprobes itself.
    pub(crate) fn build(module: &ThisModule) -> Result<Self> {
        let mut sorted = KVec::<&'static [u8]>::new();
        for n in names(nokprobe_blob()) {
            sorted.push(n, GFP_KERNEL)?;
        }
        let mut starts = KVec::<usize>::new();
        let mut areas = [(0usize, 0usize); AREAS.len()];
        let mut failed = false;
        kallsyms::scan(|e| {
            if e.module.is_some() || !e.is_text() || e.addr == 0 {
                return None;
            }
            for (i, (start, end)) in AREAS.iter().enumerate() {
                if e.name == *start {
                    areas[i].0 = e.addr;
                } else if e.name == *end {
                    areas[i].1 = e.addr;
                }
            }
            let base = e.name.split(|&c| c == b'.').next().unwrap_or(e.name);
            if listed(&sorted, e.name)
                || has_prefix(PREFIXES, e.name)
                || Arch::TRAP_PATH.contains(&base)
            {
                failed |= starts.push(e.addr, GFP_KERNEL).is_err();
            }
            None::<()>
        })?;
        if failed {
            return Err(ENOMEM);
        }
        let mut ranges = KVec::with_capacity(starts.len() + AREAS.len() + 1, GFP_KERNEL)?;
        for &start in starts.iter() {
            if let Some(d) = kallsyms::Description::of(start)
                .as_ref()
                .and_then(|d| d.parsed())
            {
                ranges.push((start, start + d.size.max(1)), GFP_KERNEL)?;
            }
        }
        let mut names = KVec::new();
        for (&(start, end), (name, _)) in areas
            .iter()
            .zip(AREAS)
            .filter(|((s, e), _)| *s != 0 && e > s)
        {
            ranges.push((start, end), GFP_KERNEL)?;
            names.push((start, *name), GFP_KERNEL)?;
        }
        // SAFETY: `module` is this live module; its text does not move while it is loaded.
        let text = unsafe { &(*module.as_ptr()).mem[bindings::mod_mem_type_MOD_TEXT as usize] };
        let base = text.base as usize;
        ranges.push((base, base + text.size as usize), GFP_KERNEL)?;
        ranges.sort_unstable();
        Ok(Self {
            ranges,
            areas: names,
        })
    }

    /// Whether `addr` may not be probed.
    pub(crate) fn contains(&self, addr: usize) -> bool {
        contains(&self.ranges, addr)
    }

    /// The ranges, sorted by start.
    pub(crate) fn ranges(&self) -> &[(usize, usize)] {
        &self.ranges
    }

    /// The name of the area starting at `start`, if one does.
    pub(crate) fn area_name(&self, start: usize) -> Option<&'static [u8]> {
        self.areas
            .iter()
            .find(|(s, _)| *s == start)
            .map(|(_, n)| *n)
    }
}
