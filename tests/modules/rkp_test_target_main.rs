// SPDX-License-Identifier: GPL-2.0

//! A module with a function to probe and then unload (its probes must become `[GONE]`).
//! Writing anything to `/sys/kernel/debug/rkp_test_target/call` calls the function; writing
//! `N` to `.../sleep` calls a function that sleeps N milliseconds, and to `.../nap` a C one
//! (which has an ftrace site on ftrace kernels).

use kernel::{debugfs::Scope, prelude::*, uaccess::UserSliceReader};

module! {
    type: RkpTestTarget,
    name: "rkp_test_target",
    authors: ["The rkprobes developers"],
    description: "rkprobes test target module",
    license: "GPL",
}

/// The function the guest suite probes.
#[no_mangle]
#[inline(never)]
pub extern "C" fn rkp_test_target_fn(x: u64) -> u64 {
    core::hint::black_box(x).wrapping_mul(3)
}

/// Sleeps `ms` milliseconds: callers pile up inside it.
#[no_mangle]
#[inline(never)]
pub extern "C" fn rkp_test_target_sleep(ms: u64) -> u64 {
    kernel::time::delay::fsleep(kernel::time::Delta::from_millis(
        core::hint::black_box(ms) as i64
    ));
    ms
}

extern "C" {
    /// `rkp_test_target_nap.c`.
    fn rkp_test_target_nap(ms: u64) -> u64;
}

fn read_ms(reader: &mut UserSliceReader) -> Result<u64> {
    let mut buf = [0u8; 16];
    let n = reader.len().min(buf.len());
    reader.read_slice(&mut buf[..n])?;
    core::str::from_utf8(&buf[..n])
        .map_err(|_| EINVAL)?
        .trim()
        .parse()
        .map_err(|_| EINVAL)
}

fn sleep(_data: &(), reader: &mut UserSliceReader) -> Result {
    rkp_test_target_sleep(read_ms(reader)?);
    Ok(())
}

fn nap(_data: &(), reader: &mut UserSliceReader) -> Result {
    let ms = read_ms(reader)?;
    // SAFETY: A plain C function.
    unsafe { rkp_test_target_nap(ms) };
    Ok(())
}

fn call(_data: &(), _reader: &mut UserSliceReader) -> Result {
    rkp_test_target_fn(core::hint::black_box(2));
    Ok(())
}

struct RkpTestTarget {
    _dir: Pin<KBox<Scope<()>>>,
}

impl kernel::Module for RkpTestTarget {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let dir = Scope::dir(Ok::<_, Error>(()), c"rkp_test_target", |data, dir| {
            dir.write_only_callback_file(c"call", data, &call);
            dir.write_only_callback_file(c"sleep", data, &sleep);
            dir.write_only_callback_file(c"nap", data, &nap);
        });
        Ok(Self {
            _dir: KBox::pin_init(dir, GFP_KERNEL)?,
        })
    }
}
