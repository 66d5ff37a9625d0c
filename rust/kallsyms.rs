// SPDX-License-Identifier: GPL-2.0

//! Symbols, without `kallsyms_lookup_name()` (not exported to modules).
//!
//! - Name to address: read `/proc/kallsyms` from the kernel (`filp_open`, then
//!   `seq_read_iter()`, as `kernel_read()` refuses procfs files without `read_iter`) and take
//!   the first symbol of that name, as `kallsyms_lookup_name()` does; `module:name`
//!   selects a module's symbol. The reader's credentials decide whether addresses are
//!   visible, so this works for callers that may see kernel addresses (root: `insmod`).
//! - Address to symbol: `sprint_symbol()` (exported), parsed.
//!
//! Both run in process context only; a name lookup reads the whole file (`rust/symbols.rs`
//! caches what it can).

use kernel::{bindings, ffi::c_void, prelude::*};

use crate::logic::{kallsyms as lines, symbol};

extern "C" {
    /// `rust/seq_read.c`: reads a seq_file from the kernel.
    fn rkp_seq_file_read(
        file: *mut c_void,
        buf: *mut u8,
        len: usize,
        pos: *mut bindings::loff_t,
    ) -> isize;
}

/// Room for the longest string `sprint_symbol()` writes: `KSYM_SYMBOL_LEN`
/// (include/linux/kallsyms.h) is a macro bindgen cannot evaluate; this bounds it from above
/// (format, name, two 64-bit hex numbers, module name, build ID).
const SYMBOL_LEN: usize =
    32 + bindings::KSYM_NAME_LEN as usize + 2 * 19 + 64 + 2 * bindings::BUILD_ID_SIZE_MAX as usize;

/// Calls `f` for each line of `/proc/kallsyms` until it returns `Some`.
pub(crate) fn scan<T>(mut f: impl FnMut(lines::Entry<'_>) -> Option<T>) -> Result<Option<T>> {
    // SAFETY: The path is a NUL-terminated string; `filp_open` returns a file or an error
    // pointer.
    let file = unsafe {
        bindings::filp_open(
            c"/proc/kallsyms".as_char_ptr(),
            bindings::O_RDONLY as i32,
            0,
        )
    };
    let file = kernel::error::from_err_ptr(file)?;
    let mut buf = KVec::<u8>::with_capacity(8192, GFP_KERNEL)?;
    buf.resize(8192, 0, GFP_KERNEL)?;
    let mut pos: bindings::loff_t = 0;
    let mut kept = 0;
    let result = loop {
        // SAFETY: `file` is an open seq_file; `buf[kept..]` is valid for writes of its length.
        let n = unsafe {
            rkp_seq_file_read(
                file.cast(),
                buf[kept..].as_mut_ptr(),
                buf.len() - kept,
                &mut pos,
            )
        };
        if n < 0 {
            break Err(Error::from_errno(n as i32));
        }
        if n == 0 {
            break Ok(None);
        }
        let filled = kept + n as usize;
        let (found, used) = lines::scan(&buf[..filled], &mut f);
        if found.is_some() {
            break Ok(found);
        }
        // Keep the incomplete last line for the next read.
        buf.copy_within(used..filled, 0);
        kept = filled - used;
        if kept == buf.len() {
            break Err(EINVAL);
        }
    };
    // SAFETY: `file` was opened above and is closed once.
    unsafe { bindings::filp_close(file, core::ptr::null_mut()) };
    result
}

/// Finds the address of the first symbol called `name` (or `module:name`).
///
/// `ENOENT` if there is none, or if this context may not see kernel addresses.
pub(crate) fn lookup(name: &[u8]) -> Result<usize> {
    match scan(|e| e.matches(name).then_some(e.addr))? {
        Some(addr) if addr != 0 => Ok(addr),
        Some(_) => {
            pr_warn!("cannot see kernel addresses in /proc/kallsyms (kptr_restrict)\n");
            Err(ENOENT)
        }
        None => Err(ENOENT),
    }
}

/// An address described by `sprint_symbol()`.
pub(crate) struct Description {
    buf: [u8; SYMBOL_LEN],
    len: usize,
}

impl Description {
    /// Describes `addr`; `None` when it is in no symbol.
    pub(crate) fn of(addr: usize) -> Option<Self> {
        let mut buf = [0u8; SYMBOL_LEN];
        // SAFETY: `buf` has room for `KSYM_SYMBOL_LEN` bytes, as `sprint_symbol` requires.
        let len = unsafe { bindings::sprint_symbol(buf.as_mut_ptr().cast(), addr) };
        let d = Self {
            buf,
            len: len.max(0) as usize,
        };
        if d.parsed().is_some() {
            Some(d)
        } else {
            None
        }
    }

    /// The parsed description.
    pub(crate) fn parsed(&self) -> Option<symbol::Described<'_>> {
        symbol::parse(&self.buf[..self.len])
    }
}

/// Where the core kernel's text is.
#[derive(Default)]
pub(crate) struct KernelText {
    /// `[_stext, _etext)`.
    text: (usize, usize),
    /// `[_sinittext, _einittext)`: freed after boot.
    init: (usize, usize),
}

impl KernelText {
    /// Takes the bounds from the symbol `e` if it is one of them.
    pub(crate) fn note(&mut self, e: &lines::Entry<'_>) {
        match e.name {
            b"_stext" => self.text.0 = e.addr,
            b"_etext" => self.text.1 = e.addr,
            b"_sinittext" => self.init.0 = e.addr,
            b"_einittext" => self.init.1 = e.addr,
            _ => {}
        }
    }

    /// The bounds, once [`Self::note`] has seen all of them.
    pub(crate) fn found(self) -> Result<Self> {
        if [self.text.0, self.text.1, self.init.0, self.init.1].contains(&0) {
            pr_err!("cannot find the kernel's text in /proc/kallsyms\n");
            return Err(ENOENT);
        }
        Ok(self)
    }

    /// Whether `addr` is core kernel text (init text excluded: it is freed after boot).
    pub(crate) fn contains(&self, addr: usize) -> bool {
        (self.text.0..self.text.1).contains(&addr)
    }

    /// Whether `addr` is the core kernel's init text.
    pub(crate) fn is_init(&self, addr: usize) -> bool {
        (self.init.0..self.init.1).contains(&addr)
    }
}
