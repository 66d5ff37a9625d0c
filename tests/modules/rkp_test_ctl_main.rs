// SPDX-License-Identifier: GPL-2.0

//! A client of rkprobes driven from the shell, for the guest suites. It uses only the safe
//! API. Commands written to `/sys/kernel/debug/rkp_test/ctl` (a failed command fails the
//! write with the registration's errno):
//!
//! ```text
//! add ID SYMBOL[+OFFSET] [disabled] [deferred]
//!                                     register probe ID (0-7); `deferred`: MOD:SYM may wait
//!                                     for MOD to load
//! del ID | enable ID | disable ID
//! sweep SYMBOL [disabled]   register a probe at every byte offset of SYMBOL, keeping those
//!                  that register (instruction boundaries); count the EILSEQ refusals
//! sweepnext N      disable the sweep's enabled probes and enable the next N (for
//!                  backends with few breakpoints); fails with ENOENT after the last
//! unsweep          unregister them (one batch, one grace period per probe)
//! churn SYMBOL N   register and unregister a probe on SYMBOL N times
//! kret ID SYMBOL MAXACTIVE   register return probe ID (0-7) on SYMBOL
//! kdel ID          unregister it (calls still pending return without the handler)
//! kenable ID | kdisable ID
//! ```
//!
//! `/sys/kernel/debug/rkp_test/probes` reads back `ID ADDRESS SYMBOL+OFFSET HITS MISSED
//! DISABLED` per probe, then `sweep SYMBOL registered=R eilseq=E einval=I eopnotsupp=U
//! other=O fired=F`, then `kret ID ADDRESS ENTRIES RETURNS MISSED` per return probe.

#[path = "../../rust/client/kprobes.rs"]
pub mod kprobes;

#[allow(dead_code, unreachable_pub)]
#[path = "../../rust/logic/src/symbol.rs"]
mod symbol;

use core::fmt::Write;

use kernel::{
    bindings,
    debugfs::Scope,
    fmt, new_mutex,
    prelude::*,
    str::CString,
    sync::{
        atomic::{Atomic, Relaxed},
        Mutex,
    },
    uaccess::UserSliceReader,
};

use kprobes::{
    Handler, HitContext, Instance, KretprobeRegistration, PreAction, PtRegs, Registration,
    RetHandler, Target,
};

module! {
    type: RkpTestCtl,
    name: "rkp_test_ctl",
    authors: ["The rkprobes developers"],
    description: "rkprobes test client driven through debugfs",
    license: "GPL",
}

/// Counts hits.
struct Counter {
    hits: Atomic<usize>,
}

#[vtable]
impl Handler for Counter {
    fn pre_handler(&self, _ctx: &HitContext<'_>, _regs: &mut PtRegs) -> PreAction {
        self.hits.add(1, Relaxed);
        PreAction::Continue
    }
}

type Probe = Pin<KBox<Registration<Counter>>>;

/// Counts returns.
struct ReturnCounter {
    returns: Atomic<usize>,
}

#[vtable]
impl RetHandler for ReturnCounter {
    type Data = ();

    fn handler(&self, _ctx: &HitContext<'_>, _ri: &mut Instance<'_, ()>, _regs: &mut PtRegs) {
        self.returns.add(1, Relaxed);
    }
}

type ReturnProbe = Pin<KBox<KretprobeRegistration<ReturnCounter>>>;

fn probe(target: Target<'_>) -> Result<Probe> {
    KBox::pin_init(
        Registration::new(
            target,
            Counter {
                hits: Atomic::new(0),
            },
        ),
        GFP_KERNEL,
    )
}

/// The probes of a `sweep`, and how the other offsets were refused.
struct Sweep {
    name: CString,
    probes: KVec<Probe>,
    /// Not an instruction boundary, or a trap instruction.
    eilseq: usize,
    /// Refused instructions (another breakpoint, such as int3 padding; blacklisted).
    einval: usize,
    /// Instructions that cannot be emulated.
    eopnotsupp: usize,
    /// Anything else: a bug.
    other: usize,
    /// Registered disabled: `sweepnext` enables them in turn from here.
    next: usize,
}

const IDS: usize = 8;

struct Inner {
    probes: [Option<Probe>; IDS],
    returns: [Option<ReturnProbe>; IDS],
    sweep: Option<Sweep>,
}

#[pin_data]
struct State {
    #[pin]
    inner: Mutex<Inner>,
}

/// `name+0xoff/0xsize` of `addr`, parsed.
fn describe(
    addr: usize,
    f: impl FnOnce(Option<symbol::Described<'_>>) -> fmt::Result,
) -> fmt::Result {
    let mut buf = [0u8; 1024];
    // SAFETY: `buf` is larger than `KSYM_SYMBOL_LEN`.
    let len = unsafe { bindings::sprint_symbol(buf.as_mut_ptr().cast(), addr) };
    f(symbol::parse(&buf[..len.max(0) as usize]))
}

fn parse_num(s: &str) -> Result<usize> {
    let r = match s.strip_prefix("0x") {
        Some(hex) => usize::from_str_radix(hex, 16),
        None => s.parse(),
    };
    r.map_err(|_| EINVAL)
}

fn parse_id(s: Option<&str>) -> Result<usize> {
    let id = parse_num(s.ok_or(EINVAL)?)?;
    if id < IDS {
        Ok(id)
    } else {
        Err(EINVAL)
    }
}

fn cstring(s: &str) -> Result<CString> {
    CString::try_from_fmt(fmt!("{s}"))
}

fn sweep(name: &str, disabled: bool) -> Result<Sweep> {
    let cname = cstring(name)?;
    // The first probe tells where the function is; its size comes from kallsyms.
    let first = probe(Target::symbol(&cname))?;
    let mut extent = None;
    let _ = describe(first.address(), |d| {
        extent = d.map(|d| (first.address() - d.offset, d.size));
        Ok(())
    });
    drop(first);
    let (start, size) = extent.ok_or(ENOENT)?;
    let mut s = Sweep {
        name: cname,
        probes: KVec::new(),
        eilseq: 0,
        einval: 0,
        eopnotsupp: 0,
        other: 0,
        next: 0,
    };
    for off in 0..size {
        let mut target = Target::address(start).offset(off as u32);
        if disabled {
            target = target.disabled();
        }
        match probe(target) {
            Ok(p) => s.probes.push(p, GFP_KERNEL)?,
            Err(e) if e == EILSEQ => s.eilseq += 1,
            Err(e) if e == EINVAL => s.einval += 1,
            Err(e) if e == EOPNOTSUPP => s.eopnotsupp += 1,
            Err(e) => {
                pr_warn!("sweep: +{off:#x}: {e:?}\n");
                s.other += 1;
            }
        }
    }
    Ok(s)
}

fn ctl(state: &State, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 256];
    let n = reader.len().min(buf.len());
    reader.read_slice(&mut buf[..n])?;
    let line = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?.trim();
    let mut words = line.split_whitespace();
    // Without the state's lock, so that churns run concurrently with other commands.
    if line.starts_with("churn ") {
        words.next();
        let name = cstring(words.next().ok_or(EINVAL)?)?;
        let times = parse_num(words.next().ok_or(EINVAL)?)?;
        for _ in 0..times {
            drop(probe(Target::symbol(&name))?);
        }
        return Ok(());
    }
    let mut inner = state.inner.lock();
    match words.next().ok_or(EINVAL)? {
        "add" => {
            let id = parse_id(words.next())?;
            let spec = words.next().ok_or(EINVAL)?;
            let (name, off) = match spec.split_once('+') {
                Some((n, o)) => (n, parse_num(o)?),
                None => (spec, 0),
            };
            let name = cstring(name)?;
            let mut target = Target::symbol(&name).offset(off as u32);
            for option in words {
                target = match option {
                    "disabled" => target.disabled(),
                    "deferred" => target.deferred(),
                    _ => return Err(EINVAL),
                };
            }
            // Drop the old probe first (unregistering it) if the ID is reused.
            inner.probes[id] = None;
            inner.probes[id] = Some(probe(target)?);
        }
        "del" => inner.probes[parse_id(words.next())?] = None,
        "enable" => inner.probes[parse_id(words.next())?]
            .as_mut()
            .ok_or(ENOENT)?
            .as_mut()
            .enable()?,
        "disable" => inner.probes[parse_id(words.next())?]
            .as_mut()
            .ok_or(ENOENT)?
            .as_mut()
            .disable()?,
        "sweep" => {
            inner.sweep = None;
            let name = words.next().ok_or(EINVAL)?;
            inner.sweep = Some(sweep(name, words.next() == Some("disabled"))?);
        }
        "sweepnext" => {
            let n = parse_num(words.next().ok_or(EINVAL)?)?;
            let s = inner.sweep.as_mut().ok_or(ENOENT)?;
            let start = s.next;
            if start >= s.probes.len() {
                return Err(ENOENT);
            }
            for p in &mut s.probes[start.saturating_sub(n)..start] {
                p.as_mut().disable()?;
            }
            let end = (start + n).min(s.probes.len());
            for p in &mut s.probes[start..end] {
                p.as_mut().enable()?;
            }
            s.next = end;
        }
        "unsweep" => inner.sweep = None,
        "kret" => {
            let id = parse_id(words.next())?;
            let name = cstring(words.next().ok_or(EINVAL)?)?;
            let maxactive = parse_num(words.next().ok_or(EINVAL)?)? as u32;
            inner.returns[id] = None;
            let counter = ReturnCounter {
                returns: Atomic::new(0),
            };
            let rp = KretprobeRegistration::new(Target::symbol(&name), maxactive, counter);
            inner.returns[id] = Some(KBox::pin_init(rp, GFP_KERNEL)?);
        }
        "kdel" => inner.returns[parse_id(words.next())?] = None,
        "kenable" => inner.returns[parse_id(words.next())?]
            .as_mut()
            .ok_or(ENOENT)?
            .as_mut()
            .enable()?,
        "kdisable" => inner.returns[parse_id(words.next())?]
            .as_mut()
            .ok_or(ENOENT)?
            .as_mut()
            .disable()?,
        _ => return Err(EINVAL),
    }
    Ok(())
}

fn show(state: &State, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let inner = state.inner.lock();
    for (id, p) in inner.probes.iter().enumerate() {
        let Some(p) = p else { continue };
        write!(f, "{id} {:016x} ", p.address())?;
        describe(p.address(), |d| match d {
            Some(d) => {
                d.name
                    .iter()
                    .try_for_each(|&c| f.write_char(char::from(c)))?;
                write!(f, "+0x{:x}", d.offset)
            }
            None => f.write_str("?"),
        })?;
        writeln!(
            f,
            " {} {} {}",
            p.nhit(),
            p.nmissed(),
            u8::from(p.is_disabled())
        )?;
    }
    for (id, rp) in inner.returns.iter().enumerate() {
        let Some(rp) = rp else { continue };
        let returns = rp.handler().returns.load(Relaxed);
        writeln!(
            f,
            "kret {id} {:016x} {} {returns} {}",
            rp.address(),
            rp.nhit(),
            rp.nmissed()
        )?;
    }
    if let Some(s) = &inner.sweep {
        let fired = s.probes.iter().filter(|p| p.nhit() > 0).count();
        writeln!(
            f,
            "sweep {} registered={} eilseq={} einval={} eopnotsupp={} other={} fired={fired}",
            s.name.to_str().unwrap_or("?"),
            s.probes.len(),
            s.eilseq,
            s.einval,
            s.eopnotsupp,
            s.other
        )?;
    }
    Ok(())
}

struct RkpTestCtl {
    _dir: Pin<KBox<Scope<State>>>,
}

impl kernel::Module for RkpTestCtl {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let state = try_pin_init!(State {
            inner <- new_mutex!(Inner { probes: Default::default(), returns: Default::default(), sweep: None }),
        }? Error);
        let dir = Scope::dir(state, c"rkp_test", |state, dir| {
            dir.write_only_callback_file(c"ctl", state, &ctl);
            dir.read_callback_file(c"probes", state, &show);
        });
        Ok(Self {
            _dir: KBox::pin_init(dir, GFP_KERNEL)?,
        })
    }
}
