// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 backend's traps and text writes. Linux 7.3 lets no module take a BRK exception,
 * so a probe is an execute hardware breakpoint on every CPU (register_wide_hw_breakpoint()),
 * whose perf overflow handler gets the trapped pt_regs. With our own handler the
 * hw_breakpoint code does not step over the instruction: rkprobes moves the PC itself (to
 * the instruction's copy in a slot, or past a simulated one).
 */
#include <linux/err.h>
#include <linux/hw_breakpoint.h>
#include <linux/mm.h>
#include <linux/perf_event.h>
#include <linux/vmalloc.h>
#include <asm/cacheflush.h>

#include "rkp_arm64.h"

static void rkp_hwbp_triggered(struct perf_event *bp, struct perf_sample_data *data,
			       struct pt_regs *regs)
{
	/*
	 * do_breakpoint() calls every breakpoint that matched the address it trapped at, with
	 * the same regs: once one has moved the PC on (someone else's breakpoint at the same
	 * address, or ours), the trap is handled.
	 */
	if (instruction_pointer(regs) != bp->attr.bp_addr)
		return;
	rkp_arm64_on_breakpoint(regs);
}

void *rkp_hwbp_register(unsigned long addr, int *err)
{
	struct perf_event_attr attr;
	struct perf_event * __percpu *bp;

	hw_breakpoint_init(&attr);
	attr.bp_addr = addr;
	attr.bp_len = HW_BREAKPOINT_LEN_4;
	attr.bp_type = HW_BREAKPOINT_X;
	bp = register_wide_hw_breakpoint(&attr, rkp_hwbp_triggered, NULL);
	if (IS_ERR_PCPU(bp)) {
		*err = PTR_ERR_PCPU(bp);
		return NULL;
	}
	return (void __force *)bp;
}

void rkp_hwbp_unregister(void *bp)
{
	unregister_wide_hw_breakpoint((struct perf_event * __percpu *)(void __percpu __force *)bp);
}

/*
 * Writes len bytes of this module's text (a slot nobody runs) through a writable alias of
 * its page, then makes the instruction cache see them.
 */
int rkp_text_write(unsigned long addr, const u8 *src, size_t len)
{
	struct page *page;
	u8 *map;

	if (!len || offset_in_page(addr) + len > PAGE_SIZE || !is_vmalloc_or_module_addr((void *)addr))
		return -EINVAL;
	page = vmalloc_to_page((void *)addr);
	if (!page)
		return -EFAULT;
	map = vmap(&page, 1, VM_MAP, PAGE_KERNEL);
	if (!map)
		return -ENOMEM;
	memcpy(map + offset_in_page(addr), src, len);
	vunmap(map);
	caches_clean_inval_pou(addr, addr + len);
	return 0;
}
