// SPDX-License-Identifier: GPL-2.0
/*
 * Module symbols and module text, looked up from a module. module_kallsyms_lookup_name(),
 * find_module() and is_module_text_address() are not exported, so these walk the module list
 * (its head's address comes from kallsyms) under RCU, as those functions do.
 */
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/string.h>

unsigned long rkp_module_symbol(unsigned long modules, const char *mod, size_t mod_len,
				const char *name);
bool rkp_module_text(unsigned long modules, unsigned long addr);
bool rkp_module_loaded(unsigned long modules, const char *mod, size_t mod_len);

/* The first defined symbol called @name in @m, or 0 (__find_kallsyms_symbol_value()). */
static unsigned long rkp_symbol_in(struct module *m, const char *name)
{
	struct mod_kallsyms *ks = rcu_dereference(m->kallsyms);

	for (unsigned int i = 0; i < ks->num_symtab; i++) {
		const Elf_Sym *sym = &ks->symtab[i];

		if (sym->st_shndx != SHN_UNDEF && !strcmp(ks->strtab + sym->st_name, name))
			return kallsyms_symbol_value(sym);
	}
	return 0;
}

/*
 * The address of @name in module @mod (@mod_len bytes, not NUL-terminated) or, with @mod NULL,
 * in the first module on the list that has it; 0 if none (__module_kallsyms_lookup_name()).
 */
unsigned long rkp_module_symbol(unsigned long modules, const char *mod, size_t mod_len,
				const char *name)
{
	struct list_head *head = (struct list_head *)modules;
	struct module *m;
	unsigned long addr = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(m, head, list) {
		if (m->state == MODULE_STATE_UNFORMED)
			continue;
		if (mod && (strlen(m->name) != mod_len || memcmp(m->name, mod, mod_len)))
			continue;
		addr = rkp_symbol_in(m, name);
		if (addr || mod)
			break;
	}
	rcu_read_unlock();
	return addr;
}

/* Whether @addr is in the text (or init text) of a module that is not being formed. */
bool rkp_module_text(unsigned long modules, unsigned long addr)
{
	struct list_head *head = (struct list_head *)modules;
	struct module *m;
	bool found = false;

	rcu_read_lock();
	list_for_each_entry_rcu(m, head, list) {
		if (m->state == MODULE_STATE_UNFORMED)
			continue;
		if (within_module_mem_type(addr, m, MOD_TEXT) ||
		    within_module_mem_type(addr, m, MOD_INIT_TEXT)) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* Whether module @mod (@mod_len bytes) is on the list and formed (find_module()). */
bool rkp_module_loaded(unsigned long modules, const char *mod, size_t mod_len)
{
	struct list_head *head = (struct list_head *)modules;
	struct module *m;
	bool found = false;

	rcu_read_lock();
	list_for_each_entry_rcu(m, head, list) {
		if (m->state != MODULE_STATE_UNFORMED && strlen(m->name) == mod_len &&
		    !memcmp(m->name, mod, mod_len)) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}
