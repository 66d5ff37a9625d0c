// SPDX-License-Identifier: GPL-2.0

//! Which symbols cannot be probed, by name: the functions the kernel marks `NOKPROBE_SYMBOL()`
//! (a sorted list taken from the source tree at build time), the trap path, and prefixes of
//! whole families (the C helpers the Rust hit path calls).

/// Symbol name prefixes that are never probed: `rust_helper_*` are the C functions behind
/// kernel Rust atomics, `CpuId::current()` and the like, which the hit path itself calls (a
/// probe there would recurse); the x86 retpoline, return, call-depth and ITS thunks and the
/// SRSO/retbleed untraining sequences run on every path, rkprobes' own included (and the
/// kernel patches their call sites at boot); static-call trampolines (`__SCT__*`) are
/// rewritten whenever their target changes.
pub const PREFIXES: &[&[u8]] = &[
    b"rust_helper_",
    b"__x86_indirect_",
    b"__x86_return_",
    b"its_return_thunk",
    b"call_depth_return_thunk",
    b"srso_",
    b"retbleed_",
    b"entry_untrain_ret",
    b"entry_ibpb",
    b"__SCT__",
];

/// Pairs of symbols that delimit text areas that are never probed: entry code, `noinstr` (and
/// `cpuidle`) text, `__kprobes` text (empty without `CONFIG_KPROBES`), and the static-call
/// trampolines, which the kernel rewrites.
pub const AREAS: &[(&[u8], &[u8])] = &[
    (b"__entry_text_start", b"__entry_text_end"),
    (b"__noinstr_text_start", b"__noinstr_text_end"),
    (b"__kprobes_text_start", b"__kprobes_text_end"),
    (b"__static_call_text_start", b"__static_call_text_end"),
];

/// The names in a NUL-separated blob.
pub fn names(blob: &[u8]) -> impl Iterator<Item = &[u8]> {
    blob.split(|&c| c == 0).filter(|n| !n.is_empty())
}

/// Whether `name` is listed in `sorted`, itself or through its base name: compiler clones
/// such as `foo.cold` or `foo.isra.0` are `foo`'s code (Linux checks them the same way).
pub fn listed(sorted: &[&[u8]], name: &[u8]) -> bool {
    let base = name.split(|&c| c == b'.').next().unwrap_or(name);
    sorted.binary_search(&name).is_ok() || sorted.binary_search(&base).is_ok()
}

/// Whether `name` is blacklisted by one of `prefixes`.
pub fn has_prefix(prefixes: &[&[u8]], name: &[u8]) -> bool {
    prefixes.iter().any(|p| name.starts_with(p))
}

/// Whether `addr` is in one of `ranges` (`[start, end)`).
pub fn contains(ranges: &[(usize, usize)], addr: usize) -> bool {
    ranges
        .iter()
        .any(|&(start, end)| (start..end).contains(&addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_clones() {
        let blob = b"do_int3\0notify_die\0oops_begin\0";
        let sorted: [&[u8]; 3] = [b"do_int3", b"notify_die", b"oops_begin"];
        assert!(names(blob).eq(sorted.iter().copied()));
        assert!(listed(&sorted, b"notify_die"));
        assert!(listed(&sorted, b"do_int3.cold"));
        assert!(listed(&sorted, b"oops_begin.isra.0"));
        assert!(!listed(&sorted, b"kernel_clone"));
        assert!(has_prefix(PREFIXES, b"rust_helper_atomic_read"));
        assert!(has_prefix(PREFIXES, b"__x86_indirect_its_thunk_rax"));
        assert!(has_prefix(PREFIXES, b"__SCT__preempt_schedule"));
        assert!(!has_prefix(PREFIXES, b"rusty"));
        assert!(contains(&[(0x100, 0x200)], 0x1ff) && !contains(&[(0x100, 0x200)], 0x200));
    }
}
