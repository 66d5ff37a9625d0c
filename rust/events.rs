// SPDX-License-Identifier: GPL-2.0

//! Probe events: `kprobe_events` and `kprobe_profile` in rkprobes' debugfs directory, with
//! Linux's syntax and semantics (kernel/trace/trace_kprobe.c). Each definition is a probe
//! registered through the same calls as client modules' ([`crate::exports`]) and a trace event
//! (`events/<GRP>/<EVENT>/` in tracefs: `enable`, `filter`, `trigger`, `format`, records in
//! `trace`) whose records hold the fetch arguments.
//!
//! The trace event side is C (`events/trace_event.c`), as are the files (`events/control.c`)
//! and what fetching needs of C (`events/fetch.c`); parsing, record layout and formats are
//! host-tested logic (`logic/src/probe_event.rs`, `event_format.rs`).
//!
//! Each event holds a reference on this module, as a client module does: rkprobes is unloaded
//! only once `kprobe_events` is empty.

#[path = "events/fetch.rs"]
mod fetch;

use core::{
    ffi::c_void,
    marker::PhantomPinned,
    sync::atomic::{AtomicPtr, AtomicUsize, Ordering},
};

use kernel::{
    bindings,
    ffi::{c_char, c_int},
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    str::CString,
    sync::{atomic::Relaxed, Mutex},
};

use crate::abi::{RawInstance, RawKprobe, RawKretprobe, FLAG_DEFERRED, FLAG_DISABLED};
use crate::exports;
use crate::kallsyms;
use crate::logic::{
    event_format::{fields, fixed_size, write_print_fmt, write_profile_line},
    probe_event::{
        parse, Command, Definition, Error as SyntaxError, ErrorKind, Target, MAX_TRACE_ARGS,
    },
};
use fetch::Program;

/// `struct rkp_event_field` (events.h).
#[repr(C)]
struct RawField {
    name: *const c_char,
    ty: *const c_char,
    offset: u16,
    size: u8,
    is_signed: u8,
    print: u8,
}

extern "C" {
    fn rkp_trace_event_head_size(is_return: bool) -> usize;
    fn rkp_trace_event_new(
        group: *const c_char,
        name: *const c_char,
        is_return: bool,
        fields: *const RawField,
        nr_fields: u32,
        print_fmt: *const c_char,
        owner: *const c_void,
    ) -> *mut c_void;
    fn rkp_trace_event_add(ev: *mut c_void, event_mutex: *mut bindings::mutex) -> c_int;
    fn rkp_trace_event_remove(ev: *mut c_void, event_mutex: *mut bindings::mutex) -> c_int;
    fn rkp_trace_event_free(ev: *mut c_void);
    fn rkp_trace_event_in_use(ev: *mut c_void) -> bool;
    fn rkp_trace_event_emit(
        ev: *mut c_void,
        regs: *mut bindings::pt_regs,
        ip: usize,
        ret_ip: usize,
        args: *const u8,
        len: usize,
    );
    fn rkp_event_scratch_init() -> c_int;
    fn rkp_event_scratch_exit();
    fn rkp_event_scratch_get() -> *mut u8;
    fn rkp_event_scratch_put();
    fn rkp_event_files_create(dir: *const c_char) -> c_int;
    fn rkp_event_files_remove();
}

/// `RKP_EVENT_SCRATCH`: the most bytes of arguments a record holds.
const SCRATCH: usize = 4000;
// The fixed part of the largest record fits, with room for strings.
const _: () = assert!(MAX_TRACE_ARGS * 8 < SCRATCH / 2);

// `%REG` reads words of `pt_regs` by `Arch::register_index`.
const _: () = {
    #[cfg(CONFIG_X86_64)]
    assert!(core::mem::offset_of!(bindings::pt_regs, di) == 14 * 8);
    #[cfg(CONFIG_X86_64)]
    assert!(core::mem::offset_of!(bindings::pt_regs, sp) == 19 * 8);
    assert!(core::mem::size_of::<bindings::pt_regs>() >= 34 * 8 || cfg!(CONFIG_X86_64));
};

/// One definition.
#[repr(C)]
struct Event {
    /// First, so that the handlers find the event from the probe. A kprobe event uses `kp`.
    rp: RawKretprobe,
    /// The C trace event (`struct rkp_trace_event`).
    trace: *mut c_void,
    is_return: bool,
    /// As `kprobe_events` lists it.
    text: CString,
    group: CString,
    name: CString,
    /// The probe's target (`[MOD:]SYM`), if not an address.
    symbol: Option<CString>,
    print_fmt: CString,
    /// The fields' names and types, which `fields` points to.
    strings: KVec<CString>,
    fields: KVec<RawField>,
    args: KVec<Program>,
    /// Bytes before the arguments in a record (where a string's offset counts from).
    head: usize,
    fixed: usize,
    /// Arguments a return event's entry saves for its `$argN`.
    entry_args: usize,
    nhit: AtomicUsize,
    /// Hits that found this CPU's scratch record in use.
    dropped: AtomicUsize,
    _pin: PhantomPinned,
}

// SAFETY: After construction the event is only read (its counters are atomic); the raw
// pointers are to memory it owns.
unsafe impl Send for Event {}
// SAFETY: As above.
unsafe impl Sync for Event {}

fn cstring(args: core::fmt::Arguments<'_>) -> Result<CString> {
    CString::try_from_fmt(args)
}

/// A `Write` into a growing `KVec` (a failed allocation is a `fmt::Error`).
struct Text(KVec<u8>);

impl core::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| core::fmt::Error)
    }
}

impl Text {
    fn written(f: impl FnOnce(&mut Text) -> core::fmt::Result) -> Result<CString> {
        let mut t = Text(KVec::new());
        f(&mut t).map_err(|_| ENOMEM)?;
        let s = core::str::from_utf8(&t.0).map_err(|_| EINVAL)?;
        cstring(fmt!("{s}"))
    }
}

impl Event {
    /// Everything but the registration, from a parsed definition.
    fn new(def: &Definition<'_>) -> Result<Pin<KBox<Self>>> {
        let is_return = def.is_return;
        let mut strings = KVec::new();
        let mut args = KVec::new();
        let mut entry_args = 0;
        for (a, offset) in fields(def) {
            let name = Text::written(|t| a.write_name(t))?;
            strings.push(name, GFP_KERNEL)?;
            strings.push(cstring(fmt!("{}", a.ty.field_type()))?, GFP_KERNEL)?;
            let p = Program::new(&a, offset, is_return)?;
            entry_args = entry_args.max(p.entry_args());
            args.push(p, GFP_KERNEL)?;
        }
        let mut fields_c = KVec::with_capacity(args.len(), GFP_KERNEL)?;
        for ((a, offset), pair) in fields(def).zip(strings.chunks(2)) {
            fields_c.push(
                RawField {
                    name: pair[0].as_char_ptr(),
                    ty: pair[1].as_char_ptr(),
                    offset: offset as u16,
                    size: a.ty.size() as u8,
                    is_signed: a.ty.is_signed().into(),
                    print: a.ty.print() as u8,
                },
                GFP_KERNEL,
            )?;
        }
        let fixed = fixed_size(def);
        let symbol = match def.target {
            Target::Symbol {
                module: Some(m),
                name,
                ..
            } => Some(cstring(fmt!("{m}:{name}"))?),
            Target::Symbol { name, .. } => Some(cstring(fmt!("{name}"))?),
            Target::Address(_) => None,
        };
        let mut rp = RawKretprobe::zeroed();
        match def.target {
            Target::Symbol { module, offset, .. } => {
                rp.kp.offset = offset;
                // A probe on a module waits for it, as Linux's do.
                let deferred = if module.is_some() { FLAG_DEFERRED } else { 0 };
                rp.kp.flags.store(FLAG_DISABLED | deferred, Relaxed);
            }
            Target::Address(a) => {
                rp.kp.addr = a as usize;
                rp.kp.flags.store(FLAG_DISABLED, Relaxed);
            }
        }
        if is_return {
            rp.handler = Some(on_return);
            rp.entry_handler = (entry_args > 0).then_some(on_call as crate::abi::RetHandler);
            rp.maxactive.store(def.maxactive as i32, Relaxed);
            rp.data_size = entry_args * core::mem::size_of::<usize>();
        } else {
            rp.kp.pre_handler = Some(on_hit);
        }
        let mut ev = KBox::new(
            Self {
                rp,
                trace: core::ptr::null_mut(),
                is_return,
                text: Text::written(|t| core::fmt::write(t, format_args!("{def}")))?,
                group: cstring(fmt!("{}", def.group()))?,
                name: Text::written(|t| def.write_event(t))?,
                symbol,
                print_fmt: Text::written(|t| write_print_fmt(def, t))?,
                strings,
                fields: fields_c,
                args,
                // SAFETY: No preconditions.
                head: unsafe { rkp_trace_event_head_size(is_return) },
                fixed,
                entry_args,
                nhit: AtomicUsize::new(0),
                dropped: AtomicUsize::new(0),
                _pin: PhantomPinned,
            },
            GFP_KERNEL,
        )?;
        if let Some(s) = &ev.symbol {
            ev.rp.kp.symbol_name = s.as_char_ptr().cast();
        }
        // SAFETY: The strings and fields live in the event, whose drop frees the C event
        // before they go; `owner` is the event, which does not move (pinned).
        ev.trace = unsafe {
            rkp_trace_event_new(
                ev.group.as_char_ptr(),
                ev.name.as_char_ptr(),
                is_return,
                ev.fields.as_ptr(),
                ev.fields.len() as u32,
                ev.print_fmt.as_char_ptr(),
                (&raw const *ev).cast(),
            )
        };
        if ev.trace.is_null() {
            return Err(ENOMEM);
        }
        Ok(KBox::into_pin(ev))
    }

    fn kp(&self) -> *mut RawKprobe {
        (&raw const self.rp.kp).cast_mut()
    }

    /// Registers its probe (disabled: enabling the trace event enables it).
    fn register(&self) -> Result {
        // SAFETY: The event is pinned and unregisters its probe before it is freed
        // (`Events::destroy`); the handlers only read it.
        let ret = unsafe {
            if self.is_return {
                exports::rkp_register_kretprobe((&raw const self.rp).cast_mut())
            } else {
                exports::rkp_register_kprobe(self.kp())
            }
        };
        kernel::error::to_result(ret)
    }

    fn unregister(&self) {
        // SAFETY: Registered by `register`.
        unsafe {
            if self.is_return {
                exports::rkp_unregister_kretprobes(&(&raw const self.rp).cast_mut(), 1)
            } else {
                exports::rkp_unregister_kprobe(self.kp())
            }
        }
    }

    /// Records a hit at `ip` (and, for a return, `ret_ip`), with the entry's saved
    /// arguments.
    fn record(&self, regs: *mut bindings::pt_regs, ip: usize, ret_ip: usize, entry: &[usize]) {
        self.nhit.fetch_add(1, Ordering::Relaxed);
        // SAFETY: No preconditions; the hit path runs with preemption off.
        let scratch = unsafe { rkp_event_scratch_get() };
        if scratch.is_null() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // SAFETY: This CPU's scratch is `SCRATCH` bytes, ours until `rkp_event_scratch_put`.
        let buf = unsafe { core::slice::from_raw_parts_mut(scratch, SCRATCH) };
        buf[..self.fixed].fill(0);
        let mut dynamic = self.fixed;
        for a in self.args.iter() {
            a.store(regs, entry, buf, &mut dynamic, self.head);
        }
        // SAFETY: `trace` is live while the probe is registered; `buf` holds `dynamic`
        // bytes.
        unsafe {
            rkp_trace_event_emit(self.trace, regs, ip, ret_ip, buf.as_ptr(), dynamic);
            rkp_event_scratch_put();
        }
    }

    fn misses(&self) -> usize {
        let kp = self.rp.kp.nmissed.load(Relaxed);
        let rp = if self.is_return {
            self.rp.nmissed.load(Relaxed)
        } else {
            0
        };
        kp + rp + self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: Out of tracefs (or never in it) and its probe unregistered (or never
        // registered): nothing uses the trace event any more.
        unsafe { rkp_trace_event_free(self.trace) };
    }
}

/// # Safety
///
/// `p` is the `kp` of a registered [`Event`]; `regs` the hit's.
unsafe extern "C" fn on_hit(p: *mut RawKprobe, regs: *mut bindings::pt_regs) -> c_int {
    // SAFETY: `kp` is at the start of the event (`repr(C)`), which outlives its probe.
    let ev = unsafe { &*p.cast::<Event>() };
    let ip = ev.rp.kp.resolved.load(Relaxed);
    ev.record(regs, ip, 0, &[]);
    0
}

/// The entry of a return event with `$argN`s: saves the arguments in the call's data.
///
/// # Safety
///
/// `rp` is the probe of a registered [`Event`]; `ri` and `regs` the hit's.
unsafe extern "C" fn on_call(
    rp: *mut RawKretprobe,
    ri: *mut RawInstance,
    regs: *mut bindings::pt_regs,
) -> c_int {
    // SAFETY: As in `on_hit`; `ri.data` holds `data_size` bytes, `entry_args` words.
    let (ev, data) = unsafe { (&*rp.cast::<Event>(), (*ri).data.cast::<usize>()) };
    for i in 0..ev.entry_args {
        // SAFETY: `i` is within the call's data; `regs` is the hit's.
        unsafe { data.add(i).write(fetch::entry_arg(regs, i)) };
    }
    0
}

/// # Safety
///
/// As [`on_call`].
unsafe extern "C" fn on_return(
    rp: *mut RawKretprobe,
    ri: *mut RawInstance,
    regs: *mut bindings::pt_regs,
) -> c_int {
    // SAFETY: As in `on_call`.
    let (ev, ri) = unsafe { (&*rp.cast::<Event>(), &*ri) };
    let entry = if ev.entry_args > 0 {
        // SAFETY: The entry handler filled `entry_args` words of the call's data.
        unsafe { core::slice::from_raw_parts(ri.data.cast::<usize>(), ev.entry_args) }
    } else {
        &[]
    };
    let func = ev.rp.kp.resolved.load(Relaxed);
    ev.record(regs, func, ri.ret_addr, entry);
    0
}

/// The definitions.
#[pin_data(PinnedDrop)]
pub(crate) struct Events {
    #[pin]
    list: Mutex<KVec<Pin<KBox<Event>>>>,
    /// Linux's `event_mutex`, found in kallsyms at the first definition.
    event_mutex: AtomicPtr<bindings::mutex>,
    /// This module, which each event holds a reference on.
    module: *mut bindings::module,
}

// SAFETY: `module` is only passed to the module reference counting functions.
unsafe impl Send for Events {}
// SAFETY: As above; the rest is a mutex and an atomic.
unsafe impl Sync for Events {}

static CURRENT: AtomicPtr<Events> = AtomicPtr::new(core::ptr::null_mut());

fn current() -> Result<&'static Events> {
    // SAFETY: `CURRENT` points to the module's `Events` from `make_current` until its drop
    // clears it, after removing the files (which waits for their callers).
    unsafe { CURRENT.load(Ordering::Acquire).as_ref() }.ok_or(ENODEV)
}

/// Prints a refused definition as Linux's `error_log` shows it.
fn log_syntax_error(line: &str, e: SyntaxError) {
    pr_info!("error: {}\n", e.kind.message());
    pr_info!("  Command: {line}\n");
    pr_info!("{}^\n", Pad("  Command: ".len() + e.pos));
}

/// `n` spaces.
struct Pad(usize);

impl kernel::fmt::Display for Pad {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        (0..self.0).try_for_each(|_| f.write_str(" "))
    }
}

impl Events {
    pub(crate) fn new(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            list <- kernel::new_mutex!(KVec::new()),
            event_mutex: AtomicPtr::new(core::ptr::null_mut()),
            module: module.as_ptr(),
        })
    }

    /// Makes the files live; `dir` is the debugfs directory.
    pub(crate) fn make_current(self: Pin<&Self>, dir: &CStr) -> Result {
        // SAFETY: No preconditions.
        kernel::error::to_result(unsafe { rkp_event_scratch_init() })?;
        CURRENT.store((&raw const *self).cast_mut(), Ordering::Release);
        // SAFETY: `dir` is a NUL-terminated string.
        let ret = unsafe { rkp_event_files_create(dir.as_char_ptr()) };
        if ret != 0 {
            pr_warn!("no kprobe_events file: the debugfs directory is missing\n");
        }
        Ok(())
    }

    /// `event_mutex`, which `trace_add_event_call()` needs held and which is not exported:
    /// the core kernel's global data symbol of that name.
    fn event_mutex(&self) -> Result<*mut bindings::mutex> {
        let m = self.event_mutex.load(Ordering::Acquire);
        if !m.is_null() {
            return Ok(m);
        }
        let found = kallsyms::scan(|e| {
            let global_data = matches!(e.kind, b'B' | b'D');
            (e.name == b"event_mutex" && e.module.is_none() && global_data).then_some(e.addr)
        })?;
        let m = found.filter(|&a| a != 0).ok_or_else(|| {
            pr_warn!(
                "probe events need tracing and event_mutex in kallsyms (CONFIG_KALLSYMS_ALL)\n"
            );
            EOPNOTSUPP
        })? as *mut bindings::mutex;
        self.event_mutex.store(m, Ordering::Release);
        Ok(m)
    }

    fn run(&self, line: &str) -> Result {
        let cmd = parse(line, fetch::ARCH).map_err(|e| {
            log_syntax_error(line, e);
            Error::from_errno(-e.kind.errno())
        })?;
        match cmd {
            None => Ok(()),
            Some(Command::Remove { group, event }) => self.remove(group, event),
            Some(Command::Define(def)) => self.define(&def, line),
        }
    }

    fn define(&self, def: &Definition<'_>, line: &str) -> Result {
        let event_mutex = self.event_mutex()?;
        let mut list = self.list.lock();
        list.reserve(1, GFP_KERNEL)?;
        let ev = Event::new(def)?;
        if list.iter().any(|e| {
            e.name.to_bytes() == ev.name.to_bytes() && e.group.to_bytes() == ev.group.to_bytes()
        }) {
            let e = SyntaxError {
                kind: ErrorKind::EventExist,
                pos: 0,
            };
            log_syntax_error(line, e);
            return Err(EEXIST);
        }
        ev.register().inspect_err(|e| {
            pr_info!("cannot register the probe of {line}: {e:?}\n");
        })?;
        // SAFETY: `trace` is the event's; `event_mutex` is Linux's.
        let ret = unsafe { rkp_trace_event_add(ev.trace, event_mutex) };
        if ret != 0 {
            if ret == EEXIST.to_errno() {
                let e = SyntaxError {
                    kind: ErrorKind::EventExist,
                    pos: 0,
                };
                log_syntax_error(line, e);
            }
            ev.unregister();
            return Err(Error::from_errno(ret));
        }
        // Cannot fail: the room is reserved.
        let _ = list.push_within_capacity(ev);
        // SAFETY: The module is live (this runs from its file).
        unsafe { bindings::__module_get(self.module) };
        Ok(())
    }

    /// Takes `ev` out of tracefs and unregisters its probe; `EBUSY` if it is enabled or in
    /// use. The caller then drops it (which frees its trace event).
    fn destroy(&self, ev: &Event) -> Result {
        let event_mutex = self.event_mutex()?;
        // SAFETY: `trace` is the event's, added by `define`.
        kernel::error::to_result(unsafe { rkp_trace_event_remove(ev.trace, event_mutex) })?;
        ev.unregister();
        // SAFETY: The event's reference, taken in `define`.
        unsafe { bindings::module_put(self.module) };
        Ok(())
    }

    fn remove(&self, group: Option<&str>, event: &str) -> Result {
        let mut list = self.list.lock();
        let i = list
            .iter()
            .position(|e| {
                e.name.to_bytes() == event.as_bytes()
                    && group.is_none_or(|g| e.group.to_bytes() == g.as_bytes())
            })
            .ok_or(ENOENT)?;
        self.destroy(&list[i])?;
        list.remove(i).map_err(|_| EINVAL)?;
        Ok(())
    }

    /// Removes every definition (an `O_TRUNC` open), as `dyn_events_release_all()`: `EBUSY`,
    /// removing none, if one is in use.
    fn clear(&self) -> Result {
        let mut list = self.list.lock();
        for e in list.iter() {
            // SAFETY: Each listed event's `trace` is live.
            if unsafe { rkp_trace_event_in_use(e.trace) } {
                return Err(EBUSY);
            }
        }
        while let Some(ev) = list.last() {
            self.destroy(ev)?;
            list.pop();
        }
        Ok(())
    }

    fn show(&self, m: &SeqFile) {
        for e in self.list.lock().iter() {
            seq_print!(m, "{}\n", e.text.to_str().unwrap_or("?"));
        }
    }

    fn profile(&self, m: &SeqFile) {
        let mut line = Text(KVec::new());
        for e in self.list.lock().iter() {
            line.0.clear();
            let name = e.name.to_str().unwrap_or("?");
            let hits = e.nhit.load(Ordering::Relaxed) as u64;
            if write_profile_line(&mut line, name, hits, e.misses() as u64).is_ok() {
                seq_print!(m, "{}", core::str::from_utf8(&line.0).unwrap_or(""));
            }
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Events {
    fn drop(self: Pin<&mut Self>) {
        if CURRENT.load(Ordering::Relaxed).is_null() {
            return;
        }
        // SAFETY: No preconditions; afterwards no file callback runs, and no event is left
        // (each holds a module reference), so no hit uses the scratch records.
        unsafe { rkp_event_files_remove() };
        CURRENT.store(core::ptr::null_mut(), Ordering::Release);
        // SAFETY: As above.
        unsafe { rkp_event_scratch_exit() };
    }
}

/// Called by `rkp_event_reg()` (under `event_mutex`) when the event is enabled in its first
/// trace instance, or disabled in its last.
///
/// # Safety
///
/// `owner` is a live [`Event`].
#[no_mangle]
unsafe extern "C" fn rkp_event_set_enabled(owner: *const c_void, enable: bool) -> c_int {
    // SAFETY: Per the function's safety requirement.
    let kp = unsafe { (*owner.cast::<Event>()).kp() };
    // SAFETY: The event's probe is registered while it is in tracefs.
    unsafe {
        if enable {
            exports::rkp_enable_kprobe(kp)
        } else {
            exports::rkp_disable_kprobe(kp)
        }
    }
}

/// One line written to `kprobe_events` (NUL-terminated, without its comment).
///
/// # Safety
///
/// `line` is a NUL-terminated string.
#[no_mangle]
unsafe extern "C" fn rkp_events_run(line: *const c_char) -> c_int {
    // SAFETY: Per the function's safety requirement.
    let line = unsafe { CStr::from_char_ptr(line) };
    let r = line
        .to_str()
        .map_err(|_| EINVAL)
        .and_then(|l| current()?.run(l));
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// An `O_TRUNC` open of `kprobe_events`.
#[no_mangle]
extern "C" fn rkp_events_clear() -> c_int {
    match current().and_then(|e| e.clear()) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Reads `kprobe_events`.
///
/// # Safety
///
/// `m` is the reader's `seq_file`.
#[no_mangle]
unsafe extern "C" fn rkp_events_show(m: *mut bindings::seq_file) {
    if let Ok(e) = current() {
        // SAFETY: Per the function's safety requirement.
        e.show(unsafe { SeqFile::from_raw(m) });
    }
}

/// Reads `kprobe_profile`.
///
/// # Safety
///
/// `m` is the reader's `seq_file`.
#[no_mangle]
unsafe extern "C" fn rkp_events_profile(m: *mut bindings::seq_file) {
    if let Ok(e) = current() {
        // SAFETY: Per the function's safety requirement.
        e.profile(unsafe { SeqFile::from_raw(m) });
    }
}
