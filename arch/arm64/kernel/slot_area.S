/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The out-of-line slots, in this module's text (a module cannot allocate executable memory):
 * each is the displaced instruction, written at registration, then a branch to the step
 * landing. Entered by exception return from the breakpoint handler with interrupts masked;
 * the landing's own hardware breakpoint brings the CPU back to the handler, which moves it
 * past the probed instruction and unmasks interrupts.
 */
#include <linux/linkage.h>
#include "rkp_arm64.h"

	.pushsection .text.rkp_slots, "ax"
	.balign 4096
SYM_CODE_START(rkp_slot_area)
	.rept RKP_SLOT_AREA_SIZE / RKP_SLOT_SIZE
	udf	#0
	b	rkp_landing
	.endr
SYM_CODE_END(rkp_slot_area)

/*
 * Where slots end and hooked returns go: a hardware breakpoint traps here before the
 * instruction runs, and the handler sends the CPU on.
 */
SYM_CODE_START(rkp_landing)
	udf	#0
SYM_CODE_END(rkp_landing)
	.popsection
