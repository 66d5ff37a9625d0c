// SPDX-License-Identifier: GPL-2.0
/*
 * Text the kernel rewrites at run time, or that must never run out of line, looked up from a
 * module. jump_label_text_reserved(), static_call_text_reserved(), search_exception_tables(),
 * ftrace_location() and __module_address() are not exported, so this reads the same tables
 * they read: the core kernel's (bounds from kallsyms, passed in by the caller) and those of the
 * module that holds the address (found on the module list, under RCU, as find_module() does).
 */
#include <linux/extable.h>
#include <linux/ftrace.h>
#include <linux/jump_label.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/static_call_types.h>

#include "sites.h"

/* Both x86_64 and arm64 have relative exception tables (ARCH_HAS_RELATIVE_EXTABLE). */
static unsigned long rkp_ex_insn(const struct exception_table_entry *e)
{
	return (unsigned long)&e->insn + e->insn;
}

static unsigned long rkp_static_call_site(const struct static_call_site *s)
{
	return (unsigned long)&s->addr + s->addr;
}

/* Whether a jump-label site is in [lo, hi), or (@targets) a jump label's target in (lo, hi). */
static int rkp_in_jump_table(const struct jump_entry *start, const struct jump_entry *stop,
			     unsigned long lo, unsigned long hi, bool targets)
{
	for (; start < stop; start++) {
		unsigned long code = (unsigned long)&start->code + start->code;
		unsigned long target = (unsigned long)&start->target + start->target;

		if (code - lo < hi - lo || (targets && target - lo - 1 < hi - lo - 1))
			return 1;
	}
	return 0;
}

/* Whether a static-call site is in [lo, hi). */
static int rkp_in_static_call_sites(const struct static_call_site *start,
				    const struct static_call_site *stop, unsigned long lo,
				    unsigned long hi)
{
	for (; start < stop; start++)
		if (rkp_static_call_site(start) - lo < hi - lo)
			return 1;
	return 0;
}

/* Whether an instruction in [lo, hi) has an exception-table entry. */
static int rkp_in_extable(const struct exception_table_entry *start,
			  const struct exception_table_entry *stop, unsigned long lo,
			  unsigned long hi)
{
	for (; start < stop; start++)
		if (rkp_ex_insn(start) - lo < hi - lo)
			return 1;
	return 0;
}

static bool rkp_within(unsigned long addr, void *start, unsigned int size)
{
	return start && addr - (unsigned long)start < size;
}

/*
 * What the kernel would find at @span: a jump-label or static-call site in [lo, hi), a
 * jump-label target in (lo, hi) when the span is longer than a byte, an exception-table entry
 * in [func_lo, func_hi).
 */
struct rkp_span {
	unsigned long lo, hi, func_lo, func_hi;
};

/*
 * The site kind of @span, in the function starting at @func, in @mod's tables (RCU read side
 * held).
 */
static int rkp_module_site(const struct module *mod, const struct rkp_span *span,
			   unsigned long func)
{
	if (rkp_within(span->lo, mod->noinstr_text_start, mod->noinstr_text_size))
		return RKP_SITE_NOINSTR;
#ifdef CONFIG_KPROBES
	/* The module's NOKPROBE_SYMBOL()s (only kept on kernels with kprobes of their own). */
	for (unsigned int i = 0; i < mod->num_kprobe_blacklist; i++)
		if (mod->kprobe_blacklist[i] == func)
			return RKP_SITE_NOINSTR;
	if (rkp_within(span->lo, mod->kprobes_text_start, mod->kprobes_text_size))
		return RKP_SITE_NOINSTR;
#endif
#ifdef CONFIG_JUMP_LABEL
	if (rkp_in_jump_table(mod->jump_entries, mod->jump_entries + mod->num_jump_entries,
			      span->lo, span->hi, span->hi - span->lo > 1))
		return RKP_SITE_JUMP_LABEL;
#endif
#ifdef CONFIG_HAVE_STATIC_CALL_INLINE
	if (rkp_in_static_call_sites(mod->static_call_sites,
				     mod->static_call_sites + mod->num_static_call_sites, span->lo,
				     span->hi))
		return RKP_SITE_STATIC_CALL;
#endif
	if (rkp_in_extable(mod->extable, mod->extable + mod->num_exentries, span->func_lo,
			   span->func_hi))
		return RKP_SITE_EXTABLE;
	return RKP_SITE_NONE;
}

/* As rkp_module_site(), in the core kernel's tables or those of the module @span is in. */
static int rkp_span_kind(const struct rkp_span *span, unsigned long func,
			 const struct rkp_core_sites *core)
{
	struct module *mod;
	int kind = RKP_SITE_NONE;

	if (rkp_in_jump_table((void *)core->jump_start, (void *)core->jump_stop, span->lo,
			      span->hi, span->hi - span->lo > 1))
		return RKP_SITE_JUMP_LABEL;
	if (rkp_in_static_call_sites((void *)core->static_call_start,
				     (void *)core->static_call_stop, span->lo, span->hi))
		return RKP_SITE_STATIC_CALL;
	if (rkp_in_extable((void *)core->extable_start, (void *)core->extable_stop, span->func_lo,
			   span->func_hi))
		return RKP_SITE_EXTABLE;
	if (!core->modules)
		return RKP_SITE_NONE;

	/*
	 * The module list is circular through the kernel's `modules` head, and this module is
	 * on it: walk from here and skip the head.
	 */
	rcu_read_lock();
	list_for_each_entry_rcu(mod, &THIS_MODULE->list, list) {
		if ((unsigned long)&mod->list == core->modules ||
		    mod->state == MODULE_STATE_UNFORMED || !within_module(span->lo, mod))
			continue;
		kind = rkp_module_site(mod, span, func);
		break;
	}
	if (kind == RKP_SITE_NONE && within_module(span->lo, THIS_MODULE))
		kind = rkp_module_site(THIS_MODULE, span, func);
	rcu_read_unlock();
	return kind;
}

int rkp_site_kind(unsigned long addr, unsigned long func, const struct rkp_core_sites *core)
{
	return rkp_span_kind(&(struct rkp_span){ addr, addr + 1, addr, addr + 1 }, func, core);
}

int rkp_jump_site_kind(unsigned long lo, unsigned long hi, unsigned long func,
		       unsigned long func_end, const struct rkp_core_sites *core)
{
	return rkp_span_kind(&(struct rkp_span){ lo, hi, func, func_end }, func, core);
}

int rkp_for_each_module_area(const struct rkp_core_sites *core, rkp_area_fn fn, void *ctx)
{
	struct module *mod;
	int ret = 0;

	if (!core->modules)
		return 0;
	/* rkprobes' own text is in the blacklist whole; the others' areas come from here. */
	rcu_read_lock();
	list_for_each_entry_rcu(mod, &THIS_MODULE->list, list) {
		unsigned long start = (unsigned long)mod->noinstr_text_start;

		if ((unsigned long)&mod->list == core->modules || mod->state == MODULE_STATE_UNFORMED)
			continue;
		if (start && mod->noinstr_text_size)
			ret = fn(ctx, start, start + mod->noinstr_text_size, ".noinstr.text", mod->name);
#ifdef CONFIG_KPROBES
		start = (unsigned long)mod->kprobes_text_start;
		if (!ret && start && mod->kprobes_text_size)
			ret = fn(ctx, start, start + mod->kprobes_text_size, ".kprobes.text", mod->name);
		for (unsigned int i = 0; !ret && i < mod->num_kprobe_blacklist; i++)
			ret = fn(ctx, mod->kprobe_blacklist[i], 0, NULL, mod->name);
#endif
		if (ret)
			break;
	}
	rcu_read_unlock();
	return ret;
}

#ifdef CONFIG_DYNAMIC_FTRACE
/* Never registered: only its filter is used, to ask ftrace about an address. */
static struct ftrace_ops rkp_ftrace_query_ops;

bool rkp_is_ftrace_site(unsigned long addr)
{
	/*
	 * ftrace_location() is not exported; adding @addr to a filter succeeds exactly when it
	 * is (or, at a symbol's start, leads to) an ftrace site. The caller asks for sym+0 only
	 * through the site itself, so success means @addr is one.
	 */
	if (ftrace_set_filter_ip(&rkp_ftrace_query_ops, addr, 0, 0))
		return false;
	ftrace_set_filter_ip(&rkp_ftrace_query_ops, addr, 1, 0);
	return true;
}

void rkp_ftrace_query_release(void)
{
	ftrace_free_filter(&rkp_ftrace_query_ops);
}
#else
bool rkp_is_ftrace_site(unsigned long addr)
{
	return false;
}

void rkp_ftrace_query_release(void)
{
}
#endif
