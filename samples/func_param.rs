// SPDX-License-Identifier: GPL-2.0

//! The samples' `func=` parameter. Rust's `module!` takes integers and booleans only, so a C
//! part of each sample declares it (`func_param.h`) with an accessor; this reads it.

use kernel::prelude::*;

/// An accessor made by `RKP_SAMPLE_FUNC_PARAM()` in `func_param.h`.
pub(crate) type Accessor = unsafe extern "C" fn() -> *const u8;

/// The value of the `func=` parameter.
pub(crate) fn func(accessor: Accessor) -> &'static CStr {
    // SAFETY: `RKP_SAMPLE_FUNC_PARAM()` accessors return the parameter's buffer: static,
    // NUL-terminated (module_param_string() keeps it so), and only written while the module
    // loads, before init runs (the parameter is read-only in sysfs).
    unsafe { CStr::from_char_ptr(accessor()) }
}
