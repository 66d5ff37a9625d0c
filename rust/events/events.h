/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C side of probe events (trace_event.c, fetch.c, control.c) and the Rust functions it
 * calls (rust/events.rs, which declares the C ones with the same layouts).
 */
#ifndef RKP_EVENTS_H
#define RKP_EVENTS_H

#include <linux/types.h>

struct mutex;
struct pt_regs;
struct seq_file;
struct rkp_trace_event;

/* How the output prints a field (rust/logic/src/event_format.rs, `Print`). */
enum rkp_print {
	RKP_PRINT_UNSIGNED,
	RKP_PRINT_SIGNED,
	RKP_PRINT_HEX,
	RKP_PRINT_CHAR,
	RKP_PRINT_SYMBOL,
	RKP_PRINT_STRING,
};

/* One argument's field; the strings live as long as the event. */
struct rkp_event_field {
	const char *name;
	const char *type;
	u16 offset;	/* from the end of the record's head */
	u8 size;
	u8 is_signed;
	u8 print;	/* enum rkp_print */
};

/* trace_event.c */
size_t rkp_trace_event_head_size(bool is_return);
struct rkp_trace_event *rkp_trace_event_new(const char *group, const char *name,
					    bool is_return,
					    const struct rkp_event_field *fields,
					    unsigned int nr_fields, char *print_fmt, void *owner);
int rkp_trace_event_add(struct rkp_trace_event *ev, struct mutex *event_mutex);
int rkp_trace_event_remove(struct rkp_trace_event *ev, struct mutex *event_mutex);
void rkp_trace_event_free(struct rkp_trace_event *ev);
bool rkp_trace_event_in_use(struct rkp_trace_event *ev);
void rkp_trace_event_emit(struct rkp_trace_event *ev, struct pt_regs *regs, unsigned long ip,
			  unsigned long ret_ip, const void *args, size_t len);

/* fetch.c: what the Rust side cannot reach (inline functions, per-CPU memory). */
enum rkp_fetch_var {
	RKP_VAR_STACK_NTH,
	RKP_VAR_STACK,
	RKP_VAR_ARG,
	RKP_VAR_RETVAL,
	RKP_VAR_COMM,
	RKP_VAR_CURRENT,
};
unsigned long rkp_fetch_var(struct pt_regs *regs, int var, unsigned int n);
int rkp_fetch_mem(void *dst, unsigned long src, size_t size, bool user);
long rkp_fetch_string(char *dst, unsigned long src, size_t max, bool user);
int rkp_event_scratch_init(void);
void rkp_event_scratch_exit(void);
void *rkp_event_scratch_get(void);
void rkp_event_scratch_put(void);
#define RKP_EVENT_SCRATCH 4000

/* control.c */
int rkp_event_files_create(const char *dir);
void rkp_event_files_remove(void);

/* rust/events.rs */
int rkp_event_set_enabled(void *owner, bool enable);
int rkp_events_run(const char *line);
int rkp_events_clear(void);
void rkp_events_show(struct seq_file *m);
void rkp_events_profile(struct seq_file *m);

#endif
