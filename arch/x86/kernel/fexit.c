// SPDX-License-Identifier: GPL-2.0
/*
 * Return probes through ftrace: an fprobe on a function's ftrace site calls back at the entry
 * and, through the function-graph tracer's return hook, at the return. The unwinders recover
 * that hook's return addresses (unlike those of rkprobes' own trampoline), so stack traces
 * taken below a hooked call stay whole.
 *
 * ftrace saves only some registers (the arguments, rax, rbp, rsp and the instruction
 * pointer at the entry; rax, rdx, rbp and rsp at the return). Handlers get a pt_regs with
 * those and zeros elsewhere; changes to the argument and return-value registers are kept,
 * others are ignored.
 */
#include <linux/fprobe.h>
#include <linux/ftrace.h>
#include <linux/irqflags.h>
#include <linux/slab.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>

#ifndef CONFIG_HAVE_FTRACE_REGS_HAVING_PT_REGS
#error "ftrace_regs is expected to hold a pt_regs on x86-64"
#endif

struct rkp_fexit {
	struct fprobe fp;
	void *ctx;
};

/*
 * rust/fexit.rs: the pool's entry and return, with interrupts off (as handlers run in the
 * breakpoint trap); @data is this call's two words.
 */
int rkp_fexit_on_entry(void *ctx, struct pt_regs *regs, unsigned long *data);
void rkp_fexit_on_return(void *ctx, struct pt_regs *regs, unsigned long *data,
			 unsigned long ret);

struct rkp_fexit *rkp_fexit_register(unsigned long func, void *ctx, int *err);
void rkp_fexit_unregister(struct rkp_fexit *f);

static void rkp_fexit_regs_init(struct pt_regs *regs, unsigned long ip, unsigned long sp)
{
	regs->ip = ip;
	regs->sp = sp;
	regs->flags = X86_EFLAGS_FIXED;
	regs->cs = __KERNEL_CS;
	regs->ss = __KERNEL_DS;
}

static int rkp_fexit_entry(struct fprobe *fp, unsigned long entry_ip, unsigned long ret_ip,
			   struct ftrace_regs *fregs, void *data)
{
	struct rkp_fexit *f = container_of(fp, struct rkp_fexit, fp);
	struct pt_regs *saved = &arch_ftrace_regs(fregs)->regs;
	struct pt_regs regs = {};
	unsigned long flags;
	int ret;

	rkp_fexit_regs_init(&regs, saved->ip, saved->sp);
	regs.di = saved->di;
	regs.si = saved->si;
	regs.dx = saved->dx;
	regs.cx = saved->cx;
	regs.r8 = saved->r8;
	regs.r9 = saved->r9;
	regs.ax = saved->ax;
	regs.bp = saved->bp;
	local_irq_save(flags);
	ret = rkp_fexit_on_entry(f->ctx, &regs, data);
	local_irq_restore(flags);
	saved->di = regs.di;
	saved->si = regs.si;
	saved->dx = regs.dx;
	saved->cx = regs.cx;
	saved->r8 = regs.r8;
	saved->r9 = regs.r9;
	saved->ax = regs.ax;
	return ret;
}

static void rkp_fexit_return(struct fprobe *fp, unsigned long entry_ip, unsigned long ret_ip,
			     struct ftrace_regs *fregs, void *data)
{
	struct rkp_fexit *f = container_of(fp, struct rkp_fexit, fp);
	struct pt_regs *saved = &arch_ftrace_regs(fregs)->regs;
	struct pt_regs regs = {};
	unsigned long flags;

	rkp_fexit_regs_init(&regs, ret_ip, saved->sp);
	regs.ax = saved->ax;
	regs.dx = saved->dx;
	regs.bp = saved->bp;
	local_irq_save(flags);
	rkp_fexit_on_return(f->ctx, &regs, data, ret_ip);
	local_irq_restore(flags);
	saved->ax = regs.ax;
	saved->dx = regs.dx;
}

/* Hooks the function whose ftrace site is @func. Process context. */
struct rkp_fexit *rkp_fexit_register(unsigned long func, void *ctx, int *err)
{
	struct rkp_fexit *f = kzalloc_obj(*f);

	if (!f) {
		*err = -ENOMEM;
		return NULL;
	}
	f->ctx = ctx;
	f->fp.entry_handler = rkp_fexit_entry;
	f->fp.exit_handler = rkp_fexit_return;
	f->fp.entry_data_size = 2 * sizeof(unsigned long);
	*err = register_fprobe_ips(&f->fp, &func, 1);
	if (*err) {
		kfree(f);
		return NULL;
	}
	return f;
}

/*
 * Waits for a grace period: no entry or return calls back once this returns. Pending calls
 * return without one (fprobe finds @f unregistered).
 */
void rkp_fexit_unregister(struct rkp_fexit *f)
{
	unregister_fprobe(&f->fp);
	kfree(f);
}
