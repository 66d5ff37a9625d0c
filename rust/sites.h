/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by sites.c and its Rust caller (rust/sites.rs): keep both in sync. */
#ifndef RKP_SITES_H
#define RKP_SITES_H

#define RKP_SITE_NONE 0
/* A jump label (static key) site: rewritten when the key flips. */
#define RKP_SITE_JUMP_LABEL 1
/* An inline static call site: rewritten when the call's target changes. */
#define RKP_SITE_STATIC_CALL 2
/* An instruction with an exception-table entry: its fault fixup is keyed on its address. */
#define RKP_SITE_EXTABLE 3
/* A module's noinstr or kprobes text, or a function it marks NOKPROBE_SYMBOL(). */
#define RKP_SITE_NOINSTR 4

/* The core kernel's tables (from kallsyms) and the module list head; 0 where absent. */
struct rkp_core_sites {
	unsigned long jump_start, jump_stop;
	unsigned long static_call_start, static_call_stop;
	unsigned long extable_start, extable_stop;
	unsigned long modules;
};

/*
 * Called for each blacklisted area of a loaded module: [start, end) named @what, or (end 0,
 * @what NULL) the function at start, which the module marks NOKPROBE_SYMBOL(). Under RCU:
 * must not sleep. Non-zero stops the walk and is returned.
 */
typedef int (*rkp_area_fn)(void *ctx, unsigned long start, unsigned long end, const char *what,
			   const char *mod);
int rkp_for_each_module_area(const struct rkp_core_sites *core, rkp_area_fn fn, void *ctx);
int rkp_site_kind(unsigned long addr, unsigned long func, const struct rkp_core_sites *core);
/*
 * Why a jump over [lo, hi) in the function [func, func_end) is unsafe: a jump-label or
 * static-call site in it, a jump-label target inside it, or any exception-table entry in the
 * function (its fixup could land anywhere). RKP_SITE_NONE if none.
 */
int rkp_jump_site_kind(unsigned long lo, unsigned long hi, unsigned long func,
		       unsigned long func_end, const struct rkp_core_sites *core);
bool rkp_is_ftrace_site(unsigned long addr);
void rkp_ftrace_query_release(void);

#endif
