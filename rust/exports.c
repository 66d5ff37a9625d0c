// SPDX-License-Identifier: GPL-2.0
/* Exports the client API that rust/exports.rs defines. */
#include <linux/export.h>

struct rkp_kprobe;
struct rkp_kretprobe;

extern int rkp_register_kprobe(struct rkp_kprobe *p);
extern int rkp_register_kprobes(struct rkp_kprobe **ps, int num);
extern void rkp_unregister_kprobe(struct rkp_kprobe *p);
extern void rkp_unregister_kprobes(struct rkp_kprobe **ps, int num);
extern int rkp_enable_kprobe(struct rkp_kprobe *p);
extern int rkp_disable_kprobe(struct rkp_kprobe *p);
extern int rkp_register_kretprobe(struct rkp_kretprobe *rp);
extern int rkp_register_kretprobes(struct rkp_kretprobe **rps, int num);
extern void rkp_unregister_kretprobes(struct rkp_kretprobe **rps, int num);

EXPORT_SYMBOL_GPL(rkp_register_kprobe);
EXPORT_SYMBOL_GPL(rkp_register_kprobes);
EXPORT_SYMBOL_GPL(rkp_unregister_kprobe);
EXPORT_SYMBOL_GPL(rkp_unregister_kprobes);
EXPORT_SYMBOL_GPL(rkp_enable_kprobe);
EXPORT_SYMBOL_GPL(rkp_disable_kprobe);
EXPORT_SYMBOL_GPL(rkp_register_kretprobe);
EXPORT_SYMBOL_GPL(rkp_register_kretprobes);
EXPORT_SYMBOL_GPL(rkp_unregister_kretprobes);
