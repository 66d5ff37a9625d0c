/* SPDX-License-Identifier: GPL-2.0 */
/* The C half of the x86 backend; the Rust half declares the same functions. */
#ifndef RKP_X86_H
#define RKP_X86_H

#ifndef __ASSEMBLY__
#include <linux/types.h>

struct pt_regs;

void rkp_sync_all_cpus(void);
int rkp_text_write(unsigned long addr, const u8 *src, size_t len);
struct pt_regs *rkp_die_int3_regs(unsigned long val, void *data);
#endif

/* Out-of-line slots: RKP_SLOT_SIZE bytes each, in the module's own text (slots.S). */
#define RKP_SLOT_SIZE		64
#define RKP_SLOT_AREA_SIZE	65536

#endif
