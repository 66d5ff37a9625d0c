/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions for rkp_selftest (arm64) to probe at every instruction: one of each class the
 * backend simulates (ADR, ADRP, LDR and LDRSW literal, B.cond, CBZ, CBNZ, TBZ, TBNZ, B, BL,
 * BR, BLR, RET) among instructions it runs out of line; and instructions probes must refuse.
 */
#include <linux/linkage.h>
#include <asm/assembler.h>

	.text
	.balign 8
/* Literals, within LDR's +-1 MiB. */
rkp_a64_lit:
	.quad	0x0000000100000002
rkp_a64_lit_w:
	.word	0xfffffffb
	.word	0

/* x0 *= 2 */
SYM_FUNC_START(rkp_a64_double)
	add	x0, x0, x0
	ret
SYM_FUNC_END(rkp_a64_double)

/* x0 + 1: where a pre-handler may send rkp_a64_mix's callers instead. */
SYM_FUNC_START(rkp_a64_alt)
	add	x0, x0, #1
	ret
SYM_FUNC_END(rkp_a64_alt)

/*
 * long rkp_a64_mix(long x): x - 4, + 100 if x >= 10, + 1 if x != 0, + 7 if x == 0, then
 * doubled if x is odd and again if bit 1 of x is clear. Inputs 0, 1, 2 and 10 run every
 * instruction.
 */
SYM_FUNC_START(rkp_a64_mix)
	stp	x29, x30, [sp, #-32]!
	mov	x29, sp
	str	x19, [sp, #16]
	mov	x19, x0
	adr	x1, rkp_a64_lit
	ldr	x2, [x1]
	adrp	x3, rkp_a64_lit
	add	x3, x3, :lo12:rkp_a64_lit
	ldr	x4, [x3]
	sub	x2, x2, x4
	ldr	x5, rkp_a64_lit
	ldr	w6, rkp_a64_lit_w
	ldrsw	x7, rkp_a64_lit_w
	add	x0, x19, x2
	add	x0, x0, x5, lsr #32
	add	x0, x0, x6
	add	x0, x0, x7
	sub	x0, x0, x6
	cmp	x19, #10
	b.lt	1f
	add	x0, x0, #100
1:	cbz	x19, 2f
	add	x0, x0, #1
2:	cbnz	x19, 3f
	add	x0, x0, #7
3:	tbz	x19, #0, 4f
	bl	rkp_a64_double
4:	tbnz	x19, #1, 5f
	adr	x8, rkp_a64_double
	blr	x8
5:	b	6f
6:	adr	x9, 7f
	br	x9
7:	ldr	x19, [sp, #16]
	ldp	x29, x30, [sp], #32
	ret
SYM_FUNC_END(rkp_a64_mix)

/* Never called: instructions a probe must refuse, as Linux does. */
SYM_FUNC_START(rkp_a64_refused)
	ldxr	x1, [x0]
	add	x1, x1, #1
	stxr	w2, x1, [x0]
	msr	daifset, #2
	mrs	x3, daif
	hint	#29
	brk	#0x100
	ret
SYM_FUNC_END(rkp_a64_refused)
