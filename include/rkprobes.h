/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rkprobes for C modules: the structures and calls of <linux/kprobes.h> under rkprobes'
 * names, for kernels without CONFIG_KPROBES (Documentation/c-api.rst). A port of a Linux
 * kprobes module renames struct kprobe to struct rkp_kprobe, register_kprobe() to
 * rkp_register_kprobe(), and so on; the semantics and errnos are Linux's.
 *
 * The layouts below are rust/abi.rs's. Registration passes RKP_ABI_VERSION, and rkprobes
 * refuses a module built against another version (EPROTO, and a log line) instead of
 * reading its structures wrong.
 */
#ifndef _RKPROBES_H
#define _RKPROBES_H

#include <linux/build_bug.h>
#include <linux/kallsyms.h>	/* KSYM_NAME_LEN, as <linux/kprobes.h> gives it */
#include <linux/stddef.h>
#include <linux/types.h>

struct pt_regs;
struct task_struct;

/* Bumped whenever a structure below or a call's meaning changes. */
#define RKP_ABI_VERSION 1

struct rkp_kprobe;
struct rkp_kretprobe;
struct rkp_kretprobe_instance;

/* Non-zero: the handler changed the instruction pointer; the probed instruction is skipped. */
typedef int (*rkp_pre_handler_t)(struct rkp_kprobe *p, struct pt_regs *regs);
/* After the probed instruction; flags is 0. */
typedef void (*rkp_post_handler_t)(struct rkp_kprobe *p, struct pt_regs *regs,
				   unsigned long flags);
/* Entry handler: non-zero leaves this call's return alone. Return handler: value ignored. */
typedef int (*rkp_kretprobe_handler_t)(struct rkp_kretprobe *rp,
				       struct rkp_kretprobe_instance *ri, struct pt_regs *regs);

/* flags */
#define RKP_FLAG_GONE		1	/* the probed code went away (its module unloaded) */
#define RKP_FLAG_DISABLED	2	/* registered, not firing; set before registering */
#define RKP_FLAG_DEFERRED	4	/* MOD:SYM waits for MOD to load; set before registering */

struct rkp_kprobe {
	const char *symbol_name;	/* in: symbol, or NULL with addr */
	void *addr;			/* in: address, or NULL with symbol_name */
	unsigned int offset;		/* in: added to either */
	void *resolved;			/* out: where the probe sits (Linux: addr) */
	u32 flags;			/* in: RKP_FLAG_DISABLED, _DEFERRED; then rkprobes' */
	rkp_pre_handler_t pre_handler;
	rkp_post_handler_t post_handler;
	unsigned long nmissed;		/* out: hits while another probe ran on the CPU */
	unsigned long nhit;		/* out: hits whose handlers ran */
	bool registered;		/* private */
};

struct rkp_kretprobe_instance {
	unsigned long ret_addr;		/* where the function returns to */
	struct task_struct *task;
	unsigned long frame;		/* the stack slot of the return address */
	void *data;			/* data_size bytes, zeroed at the entry */
};

struct rkp_kretprobe {
	struct rkp_kprobe kp;		/* the function: symbol_name or addr (+offset 0) */
	rkp_kretprobe_handler_t handler;
	rkp_kretprobe_handler_t entry_handler;
	int maxactive;			/* in: <= 0 for Linux's default; out: the number used */
	size_t data_size;		/* in: at most 4096 */
	unsigned long nmissed;		/* out: calls not hooked, all instances in use */
	void *pool;			/* private */
};

/* What rust/abi.rs has: a mismatch here is a build error, not a wrong read at run time. */
static_assert(offsetof(struct rkp_kprobe, resolved) == 3 * sizeof(long));
static_assert(offsetof(struct rkp_kprobe, pre_handler) == 5 * sizeof(long));
static_assert(offsetof(struct rkp_kprobe, registered) == 9 * sizeof(long));
static_assert(sizeof(struct rkp_kprobe) == 10 * sizeof(long));
static_assert(offsetof(struct rkp_kretprobe, maxactive) == 12 * sizeof(long));
static_assert(sizeof(struct rkp_kretprobe) == 16 * sizeof(long));
static_assert(sizeof(struct rkp_kretprobe_instance) == 4 * sizeof(long));

int rkp_register_kprobe_abi(struct rkp_kprobe *p, unsigned int abi);
int rkp_register_kprobes_abi(struct rkp_kprobe **ps, int num, unsigned int abi);
int rkp_register_kretprobe_abi(struct rkp_kretprobe *rp, unsigned int abi);
int rkp_register_kretprobes_abi(struct rkp_kretprobe **rps, int num, unsigned int abi);
void rkp_unregister_kprobes(struct rkp_kprobe **ps, int num);
int rkp_enable_kprobe(struct rkp_kprobe *p);
int rkp_disable_kprobe(struct rkp_kprobe *p);
void rkp_unregister_kretprobes(struct rkp_kretprobe **rps, int num);

static inline int rkp_register_kprobe(struct rkp_kprobe *p)
{
	return rkp_register_kprobe_abi(p, RKP_ABI_VERSION);
}

static inline int rkp_register_kprobes(struct rkp_kprobe **ps, int num)
{
	return rkp_register_kprobes_abi(ps, num, RKP_ABI_VERSION);
}

static inline void rkp_unregister_kprobe(struct rkp_kprobe *p)
{
	rkp_unregister_kprobes(&p, 1);
}

static inline int rkp_register_kretprobe(struct rkp_kretprobe *rp)
{
	return rkp_register_kretprobe_abi(rp, RKP_ABI_VERSION);
}

static inline int rkp_register_kretprobes(struct rkp_kretprobe **rps, int num)
{
	return rkp_register_kretprobes_abi(rps, num, RKP_ABI_VERSION);
}

static inline void rkp_unregister_kretprobe(struct rkp_kretprobe *rp)
{
	rkp_unregister_kretprobes(&rp, 1);
}

static inline int rkp_enable_kretprobe(struct rkp_kretprobe *rp)
{
	return rkp_enable_kprobe(&rp->kp);
}

static inline int rkp_disable_kretprobe(struct rkp_kretprobe *rp)
{
	return rkp_disable_kprobe(&rp->kp);
}

#endif /* _RKPROBES_H */
