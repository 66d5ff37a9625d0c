// SPDX-License-Identifier: GPL-2.0
/*
 * A probe event as a trace event: its trace_event_call, fields, output and records, built as
 * kernel/trace/trace_kprobe.c and trace_probe.c build Linux's kprobe events. The definition,
 * the probe and the arguments' values come from rust/events.rs.
 *
 * trace_add_event_call() and trace_remove_event_call() must be called with event_mutex held,
 * and event_mutex is not exported: the caller finds it through kallsyms (rust/events.rs).
 */
#include <linux/kallsyms.h>
#include <linux/module.h>
#include <linux/perf_event.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/trace_events.h>
#include <linux/unaligned.h>

#include "events.h"

/* A trace instance (trace_event_file) in which the event is enabled. */
struct rkp_event_link {
	struct list_head list;
	struct trace_event_file *file;
};

struct rkp_trace_event {
	struct trace_event_call call;
	struct trace_event_class class;
	/* rkp_event_link, added and removed under event_mutex, read under RCU by hits. */
	struct list_head links;
	const struct rkp_event_field *fields;
	unsigned int nr_fields;
	bool is_return;
	/* perf has the event open (TRACE_REG_PERF_REGISTER until _UNREGISTER). */
	bool perf;
	/* Whether the probe is enabled: enabled somewhere, or open in perf. */
	bool probe_enabled;
	void *owner;
};

#define to_event(c) container_of(c, struct rkp_trace_event, call)

size_t rkp_trace_event_head_size(bool is_return)
{
	return sizeof(struct trace_entry) + (is_return ? 2 : 1) * sizeof(unsigned long);
}

static int rkp_event_define_fields(struct trace_event_call *call)
{
	struct rkp_trace_event *ev = to_event(call);
	size_t at = sizeof(struct trace_entry);
	const size_t word = sizeof(unsigned long);
	unsigned int i;
	int ret;

	if (ev->is_return) {
		ret = trace_define_field(call, "unsigned long", "__probe_func", at, word, 0,
					 FILTER_OTHER);
		ret = ret ?: trace_define_field(call, "unsigned long", "__probe_ret_ip", at + word,
						word, 0, FILTER_OTHER);
	} else {
		ret = trace_define_field(call, "unsigned long", "__probe_ip", at, word, 0,
					 FILTER_OTHER);
	}
	at = rkp_trace_event_head_size(ev->is_return);
	for (i = 0; !ret && i < ev->nr_fields; i++) {
		const struct rkp_event_field *f = &ev->fields[i];

		ret = trace_define_field(call, f->type, f->name, at + f->offset, f->size,
					 f->is_signed, FILTER_OTHER);
	}
	return ret;
}

static struct trace_event_fields rkp_event_fields_array[] = {
	{ .type = TRACE_FUNCTION_TYPE, .define_fields = rkp_event_define_fields },
	{}
};

static void rkp_print_field(struct trace_seq *s, const struct rkp_event_field *f,
			    const u8 *data, const void *entry)
{
	u64 v;

	trace_seq_printf(s, " %s=", f->name);
	switch (f->size) {
	case 1: v = *data; break;
	case 2: v = get_unaligned((const u16 *)data); break;
	case 4: v = get_unaligned((const u32 *)data); break;
	default: v = get_unaligned((const u64 *)data); break;
	}
	switch (f->print) {
	case RKP_PRINT_STRING:
		if (!(v >> 16))
			trace_seq_puts(s, "(fault)");
		else
			trace_seq_printf(s, "\"%s\"", (const char *)entry + (v & 0xffff));
		break;
	case RKP_PRINT_SYMBOL:
		trace_seq_printf(s, "%pS", (void *)(unsigned long)v);
		break;
	case RKP_PRINT_CHAR:
		trace_seq_printf(s, "'%c'", (char)v);
		break;
	case RKP_PRINT_HEX:
		trace_seq_printf(s, "0x%llx", v);
		break;
	case RKP_PRINT_SIGNED:
		/* Sign-extend from the field's width. */
		trace_seq_printf(s, "%lld", (s64)(v << (64 - 8 * f->size)) >> (64 - 8 * f->size));
		break;
	default:
		trace_seq_printf(s, "%llu", v);
	}
}

/*
 * seq_print_ip_sym_offset() and _no_offset() (not exported): "sym+off/size [mod]", or the
 * bare name as kallsyms_lookup() gives it; "0" for no address.
 */
static void rkp_print_ip(struct trace_seq *s, unsigned long ip, bool offset)
{
	char name[KSYM_SYMBOL_LEN];

	if (!ip) {
		trace_seq_putc(s, '0');
	} else if (offset) {
		trace_seq_printf(s, "%pS", (void *)ip);
	} else {
		snprintf(name, sizeof(name), "%ps", (void *)ip);
		trace_seq_puts(s, strsep(&(char *){ name }, " "));
	}
}

/* One record in Linux's kprobe event format (print_kprobe_event(), print_kretprobe_event()). */
static enum print_line_t rkp_event_print(struct trace_iterator *iter, int flags,
					 struct trace_event *event)
{
	struct rkp_trace_event *ev = container_of(event, struct rkp_trace_event, call.event);
	const unsigned long *head = (const unsigned long *)(iter->ent + 1);
	const u8 *data = (const u8 *)iter->ent + rkp_trace_event_head_size(ev->is_return);
	struct trace_seq *s = &iter->seq;
	unsigned int i;

	trace_seq_printf(s, "%s: (", trace_event_name(&ev->call));
	if (ev->is_return) {
		rkp_print_ip(s, head[1], true);
		trace_seq_puts(s, " <- ");
		rkp_print_ip(s, head[0], false);
	} else {
		rkp_print_ip(s, head[0], true);
	}
	trace_seq_putc(s, ')');
	for (i = 0; i < ev->nr_fields; i++)
		rkp_print_field(s, &ev->fields[i], data + ev->fields[i].offset, iter->ent);
	trace_seq_putc(s, '\n');
	return trace_handle_return(s);
}

static struct trace_event_functions rkp_event_funcs = {
	.trace = rkp_event_print,
};

static struct rkp_event_link *rkp_find_link(struct rkp_trace_event *ev,
					    struct trace_event_file *file)
{
	struct rkp_event_link *link;

	list_for_each_entry(link, &ev->links, list)
		if (link->file == file)
			return link;
	return NULL;
}

/* Enables or disables the probe as the users need it. Under event_mutex. */
static int rkp_event_update(struct rkp_trace_event *ev)
{
	bool want = !list_empty(&ev->links) || ev->perf;
	int ret = 0;

	if (want != ev->probe_enabled) {
		ret = rkp_event_set_enabled(ev->owner, want);
		if (!ret)
			ev->probe_enabled = want;
	}
	return ret;
}

/*
 * Enabled in a trace instance (@file) or for perf (NULL), as kprobe_register() and
 * enable_trace_kprobe() do. Under event_mutex.
 */
static int rkp_event_enable(struct rkp_trace_event *ev, struct trace_event_file *file)
{
	struct rkp_event_link *link = NULL;
	int ret;

	if (file) {
		link = kmalloc(sizeof(*link), GFP_KERNEL);
		if (!link)
			return -ENOMEM;
		link->file = file;
		list_add_tail_rcu(&link->list, &ev->links);
	} else {
		ev->perf = true;
	}
	ret = rkp_event_update(ev);
	if (!ret)
		return 0;
	if (link) {
		list_del_rcu(&link->list);
		synchronize_rcu();
		kfree(link);
	} else {
		ev->perf = false;
	}
	return ret;
}

static int rkp_event_disable(struct rkp_trace_event *ev, struct trace_event_file *file)
{
	struct rkp_event_link *link = NULL;

	if (file) {
		link = rkp_find_link(ev, file);
		if (!link)
			return -ENOENT;
		list_del_rcu(&link->list);
	} else {
		ev->perf = false;
	}
	rkp_event_update(ev);
	/* A hit may still be writing to the instance through the link. */
	synchronize_rcu();
	kfree(link);
	return 0;
}

static int rkp_event_reg(struct trace_event_call *call, enum trace_reg type, void *data)
{
	switch (type) {
	case TRACE_REG_REGISTER:
		return rkp_event_enable(to_event(call), data);
	case TRACE_REG_UNREGISTER:
		return rkp_event_disable(to_event(call), data);
#ifdef CONFIG_PERF_EVENTS
	case TRACE_REG_PERF_REGISTER:
		return rkp_event_enable(to_event(call), NULL);
	case TRACE_REG_PERF_UNREGISTER:
		return rkp_event_disable(to_event(call), NULL);
	case TRACE_REG_PERF_OPEN:
	case TRACE_REG_PERF_CLOSE:
	case TRACE_REG_PERF_ADD:
	case TRACE_REG_PERF_DEL:
		return 0;
#endif
	}
	return 0;
}

struct rkp_trace_event *rkp_trace_event_new(const char *group, const char *name,
					    bool is_return,
					    const struct rkp_event_field *fields,
					    unsigned int nr_fields, char *print_fmt, void *owner)
{
	struct rkp_trace_event *ev = kzalloc(sizeof(*ev), GFP_KERNEL);

	if (!ev)
		return NULL;
	INIT_LIST_HEAD(&ev->links);
	INIT_LIST_HEAD(&ev->class.fields);
	ev->class.system = group;
	ev->class.fields_array = rkp_event_fields_array;
	ev->class.reg = rkp_event_reg;
	ev->call.class = &ev->class;
	ev->call.name = (char *)name;
	ev->call.event.funcs = &rkp_event_funcs;
	ev->call.print_fmt = print_fmt;
#ifdef CONFIG_DYNAMIC_EVENTS
	/* Users hold call->refcnt (checked before removal), not a module reference. */
	ev->call.flags = TRACE_EVENT_FL_DYNAMIC;
#endif
	ev->fields = fields;
	ev->nr_fields = nr_fields;
	ev->is_return = is_return;
	ev->owner = owner;
	return ev;
}

int rkp_trace_event_add(struct rkp_trace_event *ev, struct mutex *event_mutex)
{
	struct trace_event_file *file;
	int ret;

	/* Linux's find_trace_event_call(); its list is not exported, but its files are. */
	file = trace_get_event_file(NULL, ev->class.system, ev->call.name);
	if (!IS_ERR(file)) {
		trace_put_event_file(file);
		return -EEXIST;
	}
	if (!register_trace_event(&ev->call.event))
		return -ENODEV;
	mutex_lock(event_mutex);
	ret = trace_add_event_call(&ev->call);
	mutex_unlock(event_mutex);
	if (ret)
		unregister_trace_event(&ev->call.event);
	return ret;
}

/* trace_event_dyn_busy(), not exported. */
static bool rkp_trace_event_busy(struct rkp_trace_event *ev)
{
#ifdef CONFIG_DYNAMIC_EVENTS
	return atomic_read(&ev->call.refcnt) != 0;
#else
	return false;
#endif
}

/* Whether removing it would fail (enabled somewhere, open in perf, or held). */
bool rkp_trace_event_in_use(struct rkp_trace_event *ev)
{
	return !list_empty(&ev->links) || READ_ONCE(ev->perf) || rkp_trace_event_busy(ev);
}

int rkp_trace_event_remove(struct rkp_trace_event *ev, struct mutex *event_mutex)
{
	int ret;

	mutex_lock(event_mutex);
	/* Held by perf or a trigger of another event (unregister_trace_kprobe() checks too). */
	ret = rkp_trace_event_busy(ev) ? -EBUSY : trace_remove_event_call(&ev->call);
	mutex_unlock(event_mutex);
	return ret;
}

void rkp_trace_event_free(struct rkp_trace_event *ev)
{
	kfree(ev);
}

static void rkp_event_fill(struct rkp_trace_event *ev, u8 *entry, unsigned long ip,
			   unsigned long ret_ip, const void *args, size_t len)
{
	unsigned long *w = (unsigned long *)(entry + sizeof(struct trace_entry));

	w[0] = ip;
	if (ev->is_return)
		w[1] = ret_ip;
	memcpy(entry + rkp_trace_event_head_size(ev->is_return), args, len);
}

#ifdef CONFIG_PERF_EVENTS
/*
 * The record to perf, as kprobe_perf_func() sends it. BPF programs cannot attach: the kernel
 * takes them only on tracepoints and on events it knows to be its own kprobes.
 */
static void rkp_event_perf(struct rkp_trace_event *ev, struct pt_regs *regs, unsigned long ip,
			   unsigned long ret_ip, const void *args, size_t len)
{
	struct hlist_head *head = this_cpu_ptr(ev->call.perf_events);
	int size, rctx;
	u8 *entry;

	if (hlist_empty(head))
		return;
	/* perf adds a u32 size before the record and keeps the whole u64-aligned. */
	size = ALIGN(rkp_trace_event_head_size(ev->is_return) + len + sizeof(u32), sizeof(u64));
	size -= sizeof(u32);
	entry = perf_trace_buf_alloc(size, NULL, &rctx);
	if (!entry)
		return;
	rkp_event_fill(ev, entry, ip, ret_ip, args, len);
	perf_trace_buf_submit(entry, size, rctx, ev->call.event.type, 1, regs, head, NULL);
}
#endif

/* A record of one hit to every instance the event is enabled in (__kprobe_trace_func()). */
void rkp_trace_event_emit(struct rkp_trace_event *ev, struct pt_regs *regs, unsigned long ip,
			  unsigned long ret_ip, const void *args, size_t len)
{
	size_t head = rkp_trace_event_head_size(ev->is_return);
	struct rkp_event_link *link;

	list_for_each_entry_rcu(link, &ev->links, list) {
		struct trace_event_buffer fbuffer;
		u8 *entry;

		if (trace_trigger_soft_disabled(link->file))
			continue;
		entry = trace_event_buffer_reserve(&fbuffer, link->file, head + len);
		if (!entry)
			continue;
		rkp_event_fill(ev, entry, ip, ret_ip, args, len);
		trace_event_buffer_commit(&fbuffer);
	}
#ifdef CONFIG_PERF_EVENTS
	if (READ_ONCE(ev->perf))
		rkp_event_perf(ev, regs, ip, ret_ip, args, len);
#endif
}
