// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 backend's traps and text writes. Linux 7.3 lets no module take a BRK exception,
 * so a probe is an execute hardware breakpoint on every CPU, whose perf overflow handler gets
 * the trapped pt_regs. With our own handler the hw_breakpoint code does not step over the
 * instruction: rkprobes moves the PC itself (to the instruction's copy in a slot, or past a
 * simulated one).
 *
 * register_wide_hw_breakpoint() covers the CPUs online at the time, and perf drops a CPU's
 * events when it goes offline; so the breakpoints are kept here, one perf event per CPU, and
 * a CPU hotplug state gives a CPU that comes online every breakpoint (and takes them from
 * one that goes). Lock order: the CPU hotplug lock, then rkp_hwbp_lock.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/err.h>
#include <linux/hw_breakpoint.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/perf_event.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/cacheflush.h>

#include "rkp_arm64.h"

/* An execute breakpoint at addr on every online CPU. */
struct rkp_hwbp {
	struct list_head node;
	unsigned long addr;
	struct perf_event * __percpu *events;
};

static LIST_HEAD(rkp_hwbps);
static DEFINE_MUTEX(rkp_hwbp_lock);
static int rkp_hwbp_cpuhp = -1;

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

static struct perf_event *rkp_hwbp_create(unsigned long addr, int cpu)
{
	struct perf_event_attr attr;

	hw_breakpoint_init(&attr);
	attr.bp_addr = addr;
	attr.bp_len = HW_BREAKPOINT_LEN_4;
	attr.bp_type = HW_BREAKPOINT_X;
	return perf_event_create_kernel_counter(&attr, cpu, NULL, rkp_hwbp_triggered, NULL);
}

/* Releases bp's event on cpu, if it has one. Called with rkp_hwbp_lock held. */
static void rkp_hwbp_release_on(struct rkp_hwbp *bp, int cpu)
{
	struct perf_event **ev = per_cpu_ptr(bp->events, cpu);

	if (*ev) {
		perf_event_release_kernel(*ev);
		*ev = NULL;
	}
}

static void rkp_hwbp_free(struct rkp_hwbp *bp)
{
	int cpu;

	for_each_possible_cpu(cpu)
		rkp_hwbp_release_on(bp, cpu);
	free_percpu(bp->events);
	kfree(bp);
}

void *rkp_hwbp_register(unsigned long addr, int *err)
{
	struct rkp_hwbp *bp;
	struct perf_event *ev;
	int cpu;

	bp = kzalloc(sizeof(*bp), GFP_KERNEL);
	if (!bp)
		goto nomem;
	bp->addr = addr;
	bp->events = alloc_percpu(struct perf_event *);
	if (!bp->events) {
		kfree(bp);
		goto nomem;
	}
	cpus_read_lock();
	mutex_lock(&rkp_hwbp_lock);
	for_each_online_cpu(cpu) {
		ev = rkp_hwbp_create(addr, cpu);
		if (IS_ERR(ev)) {
			*err = PTR_ERR(ev);
			rkp_hwbp_free(bp);
			bp = NULL;
			break;
		}
		*per_cpu_ptr(bp->events, cpu) = ev;
	}
	if (bp)
		list_add(&bp->node, &rkp_hwbps);
	mutex_unlock(&rkp_hwbp_lock);
	cpus_read_unlock();
	return bp;
nomem:
	*err = -ENOMEM;
	return NULL;
}

/*
 * Removes the breakpoint from every CPU: releasing a CPU's event is a cross-call to it, which
 * waits for a CPU that is in the handler or in a slot (both run with interrupts masked).
 */
void rkp_hwbp_unregister(void *handle)
{
	struct rkp_hwbp *bp = handle;

	cpus_read_lock();
	mutex_lock(&rkp_hwbp_lock);
	list_del(&bp->node);
	rkp_hwbp_free(bp);
	mutex_unlock(&rkp_hwbp_lock);
	cpus_read_unlock();
}

static int rkp_hwbp_online(unsigned int cpu)
{
	struct perf_event *ev;
	struct rkp_hwbp *bp;

	mutex_lock(&rkp_hwbp_lock);
	list_for_each_entry(bp, &rkp_hwbps, node) {
		ev = rkp_hwbp_create(bp->addr, cpu);
		if (IS_ERR(ev)) {
			/* Failing would keep the CPU offline; its probes miss there instead. */
			pr_warn("rkprobes: CPU %u came online without the breakpoint at %#lx (errno %ld): probes there do not fire on it\n",
				cpu, bp->addr, -PTR_ERR(ev));
			continue;
		}
		*per_cpu_ptr(bp->events, cpu) = ev;
	}
	mutex_unlock(&rkp_hwbp_lock);
	return 0;
}

static int rkp_hwbp_offline(unsigned int cpu)
{
	struct rkp_hwbp *bp;

	mutex_lock(&rkp_hwbp_lock);
	list_for_each_entry(bp, &rkp_hwbps, node)
		rkp_hwbp_release_on(bp, cpu);
	mutex_unlock(&rkp_hwbp_lock);
	return 0;
}

int rkp_hwbp_init(void)
{
	int ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "rkprobes:hwbp",
					    rkp_hwbp_online, rkp_hwbp_offline);

	if (ret < 0)
		return ret;
	rkp_hwbp_cpuhp = ret;
	return 0;
}

void rkp_hwbp_exit(void)
{
	cpuhp_remove_state_nocalls(rkp_hwbp_cpuhp);
}

/*
 * Writes len bytes of this module's text (a slot nobody runs) through a writable alias of
 * its page, then makes the instruction cache see them.
 */
int rkp_text_write(unsigned long addr, const u8 *src, size_t len)
{
	struct page *page;
	u8 *map;

	if (!len || offset_in_page(addr) + len > PAGE_SIZE ||
	    !is_vmalloc_or_module_addr((void *)addr))
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
