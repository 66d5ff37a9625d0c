// SPDX-License-Identifier: GPL-2.0

//! What the in-kernel selftests of every architecture share: results, helpers to register
//! probes, and the KTAP runner.

use kernel::{bindings, prelude::*, str::CString};

use crate::kprobes::{Handler, Registration, Target};
use crate::symbol;

/// A test's outcome: `Err` says why it failed (or, starting with [`SKIP`], why it does not
/// apply here).
pub(crate) type TestResult = core::result::Result<(), CString>;

/// A named test.
pub(crate) type Test = (&'static str, fn() -> TestResult);

/// Fails the test with a formatted reason unless `$cond` holds.
macro_rules! ensure {
    ($cond:expr, $($fmt:tt)*) => {
        if !$cond {
            return Err($crate::selftest::fail(fmt!($($fmt)*)));
        }
    };
}
pub(crate) use ensure;

/// The reason a test that does not apply here gives (reported `# SKIP`).
pub(crate) const SKIP: &str = "SKIP ";

/// A failure reason.
pub(crate) fn fail(args: core::fmt::Arguments<'_>) -> CString {
    CString::try_from_fmt(args).unwrap_or_else(|_| CString::try_from_fmt(fmt!("?")).unwrap())
}

/// Registers a probe; an error fails the test.
pub(crate) fn register<T: Handler>(
    target: Target<'_>,
    handler: T,
) -> core::result::Result<Pin<KBox<Registration<T>>>, CString> {
    KBox::pin_init(Registration::new(target, handler), GFP_KERNEL)
        .map_err(|e| fail(fmt!("register: {e:?}")))
}

/// Prepares a probe for a batch; an error fails the test.
pub(crate) fn unregistered<T: Handler>(
    target: Target<'_>,
    handler: T,
) -> core::result::Result<Pin<KBox<Registration<T>>>, CString> {
    KBox::pin_init(Registration::new_unregistered(target, handler), GFP_KERNEL)
        .map_err(|e| fail(fmt!("{e:?}")))
}

/// The errno of a result, 0 for success.
pub(crate) fn errno_of(r: Result) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The address of a test target.
pub(crate) fn addr_of(f: unsafe extern "C" fn(i64) -> i64) -> usize {
    f as usize
}

/// The start and size of the function at `addr`, from `sprint_symbol()`.
pub(crate) fn function_extent(addr: usize) -> Option<(usize, usize)> {
    let mut buf = [0u8; 1024];
    // SAFETY: `buf` is larger than `KSYM_SYMBOL_LEN`.
    let len = unsafe { bindings::sprint_symbol(buf.as_mut_ptr().cast(), addr) };
    let d = symbol::parse(&buf[..len.max(0) as usize])?;
    Some((addr - d.offset, d.size))
}

/// Runs `tests`, printing them as the KTAP suite "selftest".
pub(crate) fn run(tests: &[Test]) {
    pr_info!("# Subtest: selftest\n");
    pr_info!("1..{}\n", tests.len());
    for (i, (name, test)) in tests.iter().enumerate() {
        match test() {
            Ok(()) => pr_info!("ok {} {name}\n", i + 1),
            Err(why) => match why.to_str().unwrap_or("?") {
                why if why.starts_with(SKIP) => pr_info!("ok {} {name} # {why}\n", i + 1),
                why => pr_info!("not ok {} {name} # {why}\n", i + 1),
            },
        }
    }
}
