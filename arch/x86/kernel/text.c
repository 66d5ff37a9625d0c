// SPDX-License-Identifier: GPL-2.0
/*
 * Writing kernel and module text from a module, which cannot call text_poke(): the byte goes
 * through a temporary writable alias of the page (vmap() maps it NX and RW), and every CPU is
 * then serialised with sync_core(). The IPI also waits for any CPU that is inside the int3
 * handler or single-stepping out of line with interrupts off.
 */
#include <linux/mm.h>
#include <linux/printk.h>
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

/*
 * The page that backs text at @addr. Module text is found by vmalloc_to_page(), which walks
 * the page tables without init_mm's mmap lock (a module cannot take it): when a CPA collapses
 * the 4K mappings of module memory into a large page (after module memory changed
 * permissions), a walk that saw the page table can read the new large page's first bytes as
 * its entry, and return a page that does not exist or is somebody else's. The caller checks
 * the page before writing.
 */
static struct page *rkp_text_page(unsigned long addr)
{
	struct page *page;

	if ((addr >= MODULES_VADDR && addr < MODULES_END) || is_vmalloc_addr((void *)addr)) {
		page = vmalloc_to_page((void *)addr);
		return page && pfn_valid(page_to_pfn(page)) ? page : NULL;
	}
	/* Kernel image text: __pa() handles the high kernel mapping. */
	return virt_to_page((void *)addr);
}

/* Walks that can meet a collapse before rkp_text_write() gives up. */
#define RKP_TEXT_WALKS 16

int rkp_text_write(unsigned long addr, const u8 *src, size_t len)
{
	/* The 64-byte lines the write touches: what is compared. */
	size_t from = offset_in_page(addr) & ~63UL;
	size_t to = ALIGN(offset_in_page(addr) + len, 64);
	const u8 *text = (const u8 *)(addr & PAGE_MASK);
	struct page *page, *prev = NULL;
	int walk;
	u8 *map;

	if (!len || offset_in_page(addr) + len > PAGE_SIZE)
		return -EINVAL;
	for (walk = 0; walk < RKP_TEXT_WALKS; walk++) {
		/* A collapse changes one walk's result: two in a row must agree. */
		page = rkp_text_page(addr);
		if (!page || page != prev) {
			prev = page;
			continue;
		}
		map = vmap(&page, 1, VM_MAP, PAGE_KERNEL);
		if (!map)
			return -ENOMEM;
		/*
		 * And it must read as the text does where the write goes (a wrong page almost
		 * never does; a concurrent write to those lines can also differ).
		 */
		if (!memcmp(map + from, text + from, to - from)) {
			memcpy(map + offset_in_page(addr), src, len);
			vunmap(map);
			return 0;
		}
		vunmap(map);
		prev = NULL;
	}
	pr_warn("rkprobes: no stable mapping of the text page at %#lx\n", addr);
	return -EBUSY;
}

struct pt_regs *rkp_die_int3_regs(unsigned long val, void *data)
{
	struct die_args *args = data;

	if (val != DIE_INT3 || user_mode(args->regs))
		return NULL;
	return args->regs;
}
