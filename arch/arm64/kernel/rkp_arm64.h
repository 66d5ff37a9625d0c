/* SPDX-License-Identifier: GPL-2.0 */
/* The C half of the arm64 backend; the Rust half declares the same functions. */
#ifndef RKP_ARM64_H
#define RKP_ARM64_H

#ifndef __ASSEMBLY__
#include <linux/types.h>

struct perf_event;
struct pt_regs;

int rkp_hwbp_init(void);
void rkp_hwbp_exit(void);
void *rkp_hwbp_register(unsigned long addr, int *err);
void rkp_hwbp_unregister(void *bp);
int rkp_text_write(unsigned long addr, const u8 *src, size_t len);
/* Rust: a hardware breakpoint of rkprobes' hit. */
void rkp_arm64_on_breakpoint(struct pt_regs *regs);
#endif

/*
 * Out-of-line slots (slot_area.S): the copied instruction, then a branch to the step
 * landing; RKP_SLOT_SIZE bytes each.
 */
#define RKP_SLOT_SIZE		8
#define RKP_SLOT_AREA_SIZE	8192

#endif
