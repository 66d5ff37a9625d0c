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
extern int rkp_register_kprobe_abi(struct rkp_kprobe *p, unsigned int abi);
extern int rkp_register_kprobes_abi(struct rkp_kprobe **ps, int num, unsigned int abi);
extern int rkp_register_kretprobe_abi(struct rkp_kretprobe *rp, unsigned int abi);
extern int rkp_register_kretprobes_abi(struct rkp_kretprobe **rps, int num, unsigned int abi);

EXPORT_SYMBOL_GPL(rkp_register_kprobe);
EXPORT_SYMBOL_GPL(rkp_register_kprobes);
EXPORT_SYMBOL_GPL(rkp_unregister_kprobe);
EXPORT_SYMBOL_GPL(rkp_unregister_kprobes);
EXPORT_SYMBOL_GPL(rkp_enable_kprobe);
EXPORT_SYMBOL_GPL(rkp_disable_kprobe);
EXPORT_SYMBOL_GPL(rkp_register_kretprobe);
EXPORT_SYMBOL_GPL(rkp_register_kretprobes);
EXPORT_SYMBOL_GPL(rkp_unregister_kretprobes);
/* For C modules (include/rkprobes.h): registration checks their ABI version. */
EXPORT_SYMBOL_GPL(rkp_register_kprobe_abi);
EXPORT_SYMBOL_GPL(rkp_register_kprobes_abi);
EXPORT_SYMBOL_GPL(rkp_register_kretprobe_abi);
EXPORT_SYMBOL_GPL(rkp_register_kretprobes_abi);
