// SPDX-License-Identifier: GPL-2.0

//! A notifier block registered on a kernel notifier chain until dropped (the die chain for
//! breakpoints, the module chain for unloads).

use kernel::{
    bindings,
    error::to_result,
    ffi::{c_int, c_ulong, c_void},
    prelude::*,
    types::Opaque,
};

/// A notifier callback.
pub(crate) type Callback = unsafe extern "C" fn(
    nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int;

/// `register_*_notifier()` / `unregister_*_notifier()`.
pub(crate) type Chain = unsafe extern "C" fn(nb: *mut bindings::notifier_block) -> c_int;

/// A registered notifier block.
///
/// # Invariants
///
/// `nb` is registered with `register` from initialisation until drop, where `unregister`
/// (which waits for running callbacks) removes it.
#[pin_data(PinnedDrop)]
pub(crate) struct Notifier {
    #[pin]
    nb: Opaque<bindings::notifier_block>,
    unregister: Chain,
}

// SAFETY: The notifier block is only touched by its chain, which has its own locking.
unsafe impl Send for Notifier {}
// SAFETY: As above.
unsafe impl Sync for Notifier {}

impl Notifier {
    /// Registers `callback` with `priority` through `register`; `unregister` removes it.
    ///
    /// # Safety
    ///
    /// `register` and `unregister` must be a notifier chain's pair, and `callback` must be
    /// sound to call with that chain's arguments until `unregister` returns.
    pub(crate) unsafe fn new(
        callback: Callback,
        priority: i32,
        register: Chain,
        unregister: Chain,
    ) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            nb <- Opaque::try_ffi_init(move |slot: *mut bindings::notifier_block| {
                // SAFETY: `slot` is valid for writes; a zeroed notifier block is valid.
                unsafe {
                    slot.write(core::mem::zeroed());
                    (*slot).notifier_call = Some(callback);
                    (*slot).priority = priority;
                }
                // SAFETY: `slot` is a pinned, initialised notifier block; the caller vouches for
                // `register` and `callback`.
                to_result(unsafe { register(slot) })
            }),
            unregister,
        }? Error)
    }
}

#[pinned_drop]
impl PinnedDrop for Notifier {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Registered since initialisation (invariant).
        unsafe { (self.unregister)(self.nb.get()) };
    }
}
