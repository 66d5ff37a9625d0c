// SPDX-License-Identifier: GPL-2.0
/*
 * Writing kernel and module text from a module, which cannot call text_poke(): the byte goes
 * through a temporary writable alias of the page (vmap() maps it NX and RW), and every CPU is
 * then serialised with sync_core(). The IPI also waits for any CPU that is inside the int3
 * handler or single-stepping out of line with interrupts off.
 */
#include <linux/mm.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/kdebug.h>
#include <asm/sync_core.h>

#include "rkp_x86.h"

static void rkp_do_sync_core(void *info)
{
	sync_core();
}

void rkp_sync_all_cpus(void)
{
	on_each_cpu(rkp_do_sync_core, NULL, 1);
}

static struct page *rkp_text_page(unsigned long addr)
{
	if ((addr >= MODULES_VADDR && addr < MODULES_END) || is_vmalloc_addr((void *)addr))
		return vmalloc_to_page((void *)addr);
	/* Kernel image text: __pa() handles the high kernel mapping. */
	return virt_to_page((void *)addr);
}

int rkp_text_write(unsigned long addr, const u8 *src, size_t len)
{
	struct page *page;
	u8 *map;

	if (!len || offset_in_page(addr) + len > PAGE_SIZE)
		return -EINVAL;
	page = rkp_text_page(addr);
	if (!page)
		return -EFAULT;
	map = vmap(&page, 1, VM_MAP, PAGE_KERNEL);
	if (!map)
		return -ENOMEM;
	memcpy(map + offset_in_page(addr), src, len);
	vunmap(map);
	return 0;
}

struct pt_regs *rkp_die_int3_regs(unsigned long val, void *data)
{
	struct die_args *args = data;

	if (val != DIE_INT3 || user_mode(args->regs))
		return NULL;
	return args->regs;
}
