// SPDX-License-Identifier: GPL-2.0

//! Module awareness: probes in a module's text become `[GONE]` when the module goes away
//! (and in its init text once init is over), as Linux's `kprobes_module_callback()` does.
//! Their text is never written again; their owners can still unregister them. Probes whose
//! handlers are in a going module's text (leaked by it) are unregistered.

use kernel::{
    bindings,
    ffi::{c_int, c_ulong, c_void},
    prelude::*,
};

use crate::engine;
use crate::notifier::Notifier;

/// `[start, end)` of one kind of a module's memory.
fn range(module: &bindings::module, kind: bindings::mod_mem_type) -> Option<(usize, usize)> {
    let m = &module.mem[kind as usize];
    let start = m.base as usize;
    (start != 0 && m.size != 0).then(|| (start, start + m.size as usize))
}

/// The module notifier callback.
///
/// # Safety
///
/// Called by the module notifier chain: `data` is the `struct module` changing state.
unsafe extern "C" fn notify(
    _nb: *mut bindings::notifier_block,
    state: c_ulong,
    data: *mut c_void,
) -> c_int {
    let Some(engine) = engine::current() else {
        return bindings::NOTIFY_DONE as c_int;
    };
    // SAFETY: The chain passes the module, valid for the duration of the call.
    let module = unsafe { &*data.cast::<bindings::module>() };
    let text = range(module, bindings::mod_mem_type_MOD_TEXT);
    let init = range(module, bindings::mod_mem_type_MOD_INIT_TEXT);
    match state as bindings::module_state {
        bindings::module_state_MODULE_STATE_COMING => {
            Iterator::chain(text.into_iter(), init).for_each(|(s, e)| engine.code_coming(s, e));
            // SAFETY: `name` is the module's NUL-terminated name.
            let name = unsafe { CStr::from_char_ptr(module.name.as_ptr()) };
            engine.module_coming(name.to_bytes());
        }
        // Init is over: its text is freed next.
        bindings::module_state_MODULE_STATE_LIVE => {
            init.into_iter().for_each(|(s, e)| engine.code_going(s, e))
        }
        bindings::module_state_MODULE_STATE_GOING => {
            Iterator::chain(text.into_iter(), init).for_each(|(s, e)| {
                engine.handlers_going(s, e);
                engine.code_going(s, e);
            });
        }
        _ => {}
    }
    bindings::NOTIFY_DONE as c_int
}

/// Watches module loads and unloads: a module notifier, registered until dropped.
pub(crate) fn watch() -> impl PinInit<Notifier, Error> {
    // SAFETY: The module chain's register/unregister pair; `notify` handles its arguments.
    unsafe {
        Notifier::new(
            notify,
            0,
            bindings::register_module_notifier,
            bindings::unregister_module_notifier,
        )
    }
}
