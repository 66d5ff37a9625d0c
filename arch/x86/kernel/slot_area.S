/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The out-of-line execution slots: a page-aligned area of this module's text, filled with
 * int3. A module cannot allocate executable memory, so the displaced instructions run here;
 * module text is within +-2 GiB of all kernel and module text, as RIP-relative operands
 * need. Control enters a slot by IRET from the int3 handler, never by an indirect branch,
 * so the slots need no ENDBR.
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/unwind_hints.h>
#include "rkp_x86.h"

	.pushsection .text.rkp_slots, "ax"
	.balign 4096
SYM_CODE_START_NOALIGN(rkp_slot_area)
	ANNOTATE_NOENDBR
	UNWIND_HINT_UNDEFINED
	.skip RKP_SLOT_AREA_SIZE, 0xcc
SYM_CODE_END(rkp_slot_area)
	.popsection

