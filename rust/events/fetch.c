// SPDX-License-Identifier: GPL-2.0
/*
 * What probe events' argument fetching needs from C (kernel/trace/trace_probe_kernel.h does
 * the same): the arch's inline register accessors, the nofault copies, and a per-CPU buffer
 * in which a hit builds its record's arguments.
 */
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "events.h"

/*
 * Word @n of the stack at the probe. regs_get_kernel_stack_nth() is not exported on arm64:
 * read it nofault (0 if unmapped; Linux also gives 0 past the end of the stack).
 */
static unsigned long rkp_stack_nth(struct pt_regs *regs, unsigned int n)
{
	unsigned long v;
	unsigned long *addr = (unsigned long *)kernel_stack_pointer(regs) + n;

	return copy_from_kernel_nofault(&v, addr, sizeof(v)) ? 0 : v;
}

/* regs_get_kernel_argument(), which needs regs_get_kernel_stack_nth() past the registers. */
static unsigned long rkp_argument(struct pt_regs *regs, unsigned int n)
{
#ifdef CONFIG_X86_64
	static const unsigned int offs[] = {
		offsetof(struct pt_regs, di), offsetof(struct pt_regs, si),
		offsetof(struct pt_regs, dx), offsetof(struct pt_regs, cx),
		offsetof(struct pt_regs, r8), offsetof(struct pt_regs, r9),
	};

	if (n < ARRAY_SIZE(offs))
		return regs_get_register(regs, offs[n]);
	/* Past the return address. */
	return rkp_stack_nth(regs, n - ARRAY_SIZE(offs) + 1);
#else
	if (n < 8)
		return pt_regs_read_reg(regs, n);
	return rkp_stack_nth(regs, n - 8);
#endif
}

unsigned long rkp_fetch_var(struct pt_regs *regs, int var, unsigned int n)
{
	switch (var) {
	case RKP_VAR_STACK_NTH:
		return rkp_stack_nth(regs, n);
	case RKP_VAR_STACK:
		return kernel_stack_pointer(regs);
	case RKP_VAR_ARG:
		return rkp_argument(regs, n);
	case RKP_VAR_RETVAL:
		return regs_return_value(regs);
	case RKP_VAR_COMM:
		return (unsigned long)current->comm;
	case RKP_VAR_CURRENT:
		return (unsigned long)current;
	}
	return 0;
}

/* As Linux's probe_mem_read(): an address below TASK_SIZE is user memory, whatever the type. */
int rkp_fetch_mem(void *dst, unsigned long src, size_t size, bool user)
{
	if (user || src < TASK_SIZE)
		return copy_from_user_nofault(dst, (const void __user *)src, size) ? -EFAULT : 0;
	return copy_from_kernel_nofault(dst, (const void *)src, size) ? -EFAULT : 0;
}

/*
 * Copies the NUL-terminated string at @src, at most @max bytes with the NUL, into @dst and
 * returns its length with the NUL (a longer string is cut), or -EFAULT. strncpy_from_*_nofault()
 * are not exported: copy by pieces that do not cross a page, each copied whole or not at all.
 */
long rkp_fetch_string(char *dst, unsigned long src, size_t max, bool user)
{
	size_t done = 0;

	if (!max)
		return -EFAULT;
	while (done < max - 1) {
		size_t n = min3(max - 1 - done, (size_t)64, PAGE_SIZE - offset_in_page(src + done));
		char *nul;

		if (rkp_fetch_mem(dst + done, src + done, n, user))
			return -EFAULT;
		nul = memchr(dst + done, '\0', n);
		if (nul)
			return nul - dst + 1;
		done += n;
	}
	dst[done] = '\0';
	return done + 1;
}

/* A hit's scratch record; `busy` keeps a nested hit (an NMI, say) from sharing it. */
struct rkp_event_scratch {
	int busy;
	u8 data[RKP_EVENT_SCRATCH];
};

static struct rkp_event_scratch __percpu *rkp_scratch;

int rkp_event_scratch_init(void)
{
	rkp_scratch = alloc_percpu(struct rkp_event_scratch);
	return rkp_scratch ? 0 : -ENOMEM;
}

void rkp_event_scratch_exit(void)
{
	free_percpu(rkp_scratch);
}

/* This CPU's scratch, or NULL if a hit interrupted here is using it. Preemption is off. */
void *rkp_event_scratch_get(void)
{
	struct rkp_event_scratch *s = this_cpu_ptr(rkp_scratch);

	if (this_cpu_inc_return(rkp_scratch->busy) != 1) {
		this_cpu_dec(rkp_scratch->busy);
		return NULL;
	}
	barrier();
	return s->data;
}

void rkp_event_scratch_put(void)
{
	barrier();
	this_cpu_dec(rkp_scratch->busy);
}
