// SPDX-License-Identifier: GPL-2.0

//! Probe event definitions in Linux's `kprobe_events` syntax
//! (Documentation/trace/kprobetrace.rst; parsed as kernel/trace/trace_kprobe.c,
//! `__trace_kprobe_create()`, and trace_probe.c, `traceprobe_parse_probe_arg()`, do):
//!
//! ```text
//! p[:[GRP/][EVENT]] [MOD:]SYM[+offs]|MEMADDR [FETCHARGS]
//! r[MAXACTIVE][:[GRP/][EVENT]] [MOD:]SYM[+0] [FETCHARGS]
//! p[:[GRP/][EVENT]] [MOD:]SYM[+0]%return [FETCHARGS]
//! -:[GRP/]EVENT
//! ```
//!
//! A syntax error has Linux's message and errno, and the byte of the command it is at (what
//! Linux's `error_log` points its caret at).

use core::fmt::{self, Write as _};

/// Linux's `MAX_EVENT_NAME_LEN`.
pub const MAX_EVENT_NAME_LEN: usize = 64;
/// Linux's `MAX_TRACE_ARGS`.
pub const MAX_TRACE_ARGS: usize = 128;
/// Linux's `MAX_ARGSTR_LEN`.
pub const MAX_ARGSTR_LEN: usize = 255;
/// Linux's `MAX_ARG_NAME_LEN`.
pub const MAX_ARG_NAME_LEN: usize = 32;
/// Linux's `KRETPROBE_MAXACTIVE_MAX`.
pub const MAXACTIVE_MAX: u32 = 4096;
/// Linux's `PARAM_MAX_STACK` with 16 KiB kernel stacks: the deepest `$stackN` and `$argN`.
pub const PARAM_MAX_STACK: u64 = 2048;
/// Nested dereferences (Linux's `FETCH_INSN_MAX` leaves room for about this many).
pub const MAX_DEREF: usize = 8;

/// `EINVAL`, `E2BIG`, as positive numbers.
pub mod errno {
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// Argument list too long.
    pub const E2BIG: i32 = 7;
    /// `EEXIST`.
    pub const EEXIST: i32 = 17;
}

/// Why a definition is refused: Linux's `TP_ERR_*` with its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadMaxactType,
    BadMaxact,
    MaxactTooBig,
    BadAddrSuffix,
    BadProbeAddr,
    BadRetprobe,
    NoGroupName,
    GroupTooLong,
    BadGroupName,
    NoEventName,
    EventTooLong,
    BadEventName,
    TooManyArgs,
    ArgTooLong,
    ArgNameTooLong,
    NoArgName,
    BadArgName,
    UsedArgName,
    NoArgBody,
    BadRegName,
    BadMemAddr,
    FileOnKprobe,
    DerefNeedBrace,
    BadDerefOffs,
    DerefOpenBrace,
    CommCantDeref,
    TooManyOps,
    BadVar,
    RetvalOnProbe,
    BadStackNum,
    BadArgNum,
    NofentryArgs,
    BadFetchArg,
    BadType,
    BadString,
    NeedStringType,
    BadImm,
    /// The group and event name belong to an event already.
    EventExist,
    /// Not in Linux's list: a syntax Linux has that rkprobes does not (BTF, arrays, bitfields).
    Unsupported,
}

impl ErrorKind {
    /// Linux's message for it (`trace_probe_err_text`).
    pub fn message(self) -> &'static str {
        use ErrorKind::*;
        match self {
            BadMaxactType => "Maxactive is only for function exit",
            BadMaxact => "Invalid maxactive number",
            MaxactTooBig => "Maxactive is too big",
            BadAddrSuffix => "Invalid probed address suffix",
            BadProbeAddr => "Invalid probed address or symbol",
            BadRetprobe => "Retprobe address must be an function entry",
            NoGroupName => "Group name is not specified",
            GroupTooLong => "Group name is too long",
            BadGroupName => "Group name must follow the same rules as C identifiers",
            NoEventName => "Event name is not specified",
            EventTooLong => "Event name is too long",
            BadEventName => "Event name must follow the same rules as C identifiers",
            TooManyArgs => "Too many arguments are specified",
            ArgTooLong => "Argument expression is too long",
            ArgNameTooLong => "Argument name is too long",
            NoArgName => "Argument name is not specified",
            BadArgName => "Argument name must follow the same rules as C identifiers",
            UsedArgName => "This argument name is already used",
            NoArgBody => "No argument expression",
            BadRegName => "Invalid register name",
            BadMemAddr => "Invalid memory address",
            FileOnKprobe => "File offset is not available for kernel probes",
            DerefNeedBrace => "Dereference needs a brace",
            BadDerefOffs => "Invalid dereference offset",
            DerefOpenBrace => "Dereference brace is not closed",
            CommCantDeref => "$comm can not be dereferenced",
            TooManyOps => "Dereference is too much nested",
            BadVar => "Invalid $-variable specified",
            RetvalOnProbe => "$retval is not available on probe",
            BadStackNum => "Invalid stack number",
            BadArgNum => "Invalid argument number",
            NofentryArgs => "$arg* can be used only on function entry or exit",
            BadFetchArg => "Invalid fetch argument",
            BadType => "Unknown type is specified",
            BadString => "String accepts only memory argument",
            NeedStringType => "$comm and immediate-string only accepts string type",
            BadImm => "Invalid immediate value",
            EventExist => "Given group/event name is already used by another event",
            Unsupported => "Not supported by rkprobes",
        }
    }

    /// The errno Linux returns for it.
    pub fn errno(self) -> i32 {
        match self {
            Self::TooManyArgs => errno::E2BIG,
            Self::EventExist => errno::EEXIST,
            _ => errno::EINVAL,
        }
    }
}

/// A refused definition: why, and the byte of the command it is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub pos: usize,
}

/// Where a probe goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// `[MOD:]SYM[+offs]`.
    Symbol {
        module: Option<&'a str>,
        name: &'a str,
        offset: u32,
    },
    /// `MEMADDR`.
    Address(u64),
}

/// Where a fetch argument's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetch<'a> {
    /// `%REG`: a register, by its name without `%`.
    Reg(&'a str),
    /// `$stackN`.
    Stack(u32),
    /// `$stack`.
    StackPointer,
    /// `$argN` (1-based).
    Arg(u32),
    /// `$retval`.
    Retval,
    /// `$comm`.
    Comm,
    /// `$current`.
    Current,
    /// `@ADDR`.
    Memory(u64),
    /// `@SYM[+|-offs]`.
    Symbol { name: &'a str, offset: i64 },
    /// `\IMM`.
    Immediate(u64),
}

/// A fetch argument's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// `u8`..`u64`, `s8`..`s64`, `x8`..`x64` (bits, signed, hexadecimal).
    Int { bits: u8, signed: bool, hex: bool },
    /// `string`.
    String,
    /// `ustring`.
    UString,
    /// `symbol`: an address printed as `sym+off`.
    Symbol,
    /// `char`.
    Char,
}

impl Type {
    /// The type of an argument without `:TYPE`: Linux's `DEFAULT_FETCH_TYPE`, the native word
    /// in hexadecimal (`x64`).
    pub const DEFAULT: Type = Type::Int {
        bits: 64,
        signed: false,
        hex: true,
    };

    fn parse(s: &str) -> Option<Type> {
        Some(match s {
            "string" => Type::String,
            "ustring" => Type::UString,
            "symbol" => Type::Symbol,
            "char" => Type::Char,
            _ => {
                let (kind, bits) = s.split_at(1.min(s.len()));
                let bits: u8 = match bits {
                    "8" => 8,
                    "16" => 16,
                    "32" => 32,
                    "64" => 64,
                    _ => return None,
                };
                match kind {
                    "u" => Type::Int {
                        bits,
                        signed: false,
                        hex: false,
                    },
                    "s" => Type::Int {
                        bits,
                        signed: true,
                        hex: false,
                    },
                    "x" => Type::Int {
                        bits,
                        signed: false,
                        hex: true,
                    },
                    _ => return None,
                }
            }
        })
    }

    fn is_string(self) -> bool {
        matches!(self, Type::String | Type::UString)
    }
}

/// A fetch argument: `[NAME=]FETCH[:TYPE]`, the fetch possibly behind dereferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg<'a> {
    /// The given name, or `None` for Linux's default `argN` (see [`Arg::name`]).
    pub name: Option<&'a str>,
    /// Its position among the arguments (0-based).
    pub index: usize,
    /// The text after `NAME=`, as `kprobe_events` shows it back.
    pub body: &'a str,
    pub fetch: Fetch<'a>,
    /// Dereferences applied to the fetched value, innermost first: `(offset, user)`.
    pub derefs: [(i64, bool); MAX_DEREF],
    pub nderef: usize,
    pub ty: Type,
}

impl Arg<'_> {
    /// Writes its name (`argN` by default).
    pub fn write_name(&self, f: &mut impl fmt::Write) -> fmt::Result {
        match self.name {
            Some(n) => f.write_str(n),
            None => write!(f, "arg{}", self.index + 1),
        }
    }

    /// The dereferences, innermost first.
    pub fn derefs(&self) -> &[(i64, bool)] {
        &self.derefs[..self.nderef]
    }
}

/// A parsed `kprobe_events` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command<'a> {
    /// Defines a probe event.
    Define(Definition<'a>),
    /// `-:[GRP/]EVENT`: removes one (`group` `None`: any group).
    Remove {
        group: Option<&'a str>,
        event: &'a str,
    },
}

/// A probe event definition. Its arguments, checked when it was parsed, are parsed again
/// from the text as they are iterated (no array of them: the kernel's stack is small).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition<'a> {
    pub is_return: bool,
    /// `rN`: 0 for the default.
    pub maxactive: u32,
    /// `None`: Linux's default, `kprobes`.
    pub group: Option<&'a str>,
    /// `None`: generated from the target (see [`Definition::write_event`]).
    pub event: Option<&'a str>,
    pub target: Target<'a>,
    /// The command, and where the arguments start in it.
    line: &'a str,
    args_at: usize,
    arch: Arch,
}

/// The group of definitions that name none.
pub const DEFAULT_GROUP: &str = "kprobes";

impl<'a> Definition<'a> {
    /// The arguments, in order.
    pub fn args(&self) -> Args<'_, 'a> {
        Args(self.arg_results())
    }

    /// The arguments as parsed (all `Ok` once [`parse`] has accepted the definition).
    fn arg_results(&self) -> ArgResults<'_, 'a> {
        ArgResults {
            def: self,
            words: words(&self.line[self.args_at..]),
            index: 0,
        }
    }

    /// The group name.
    pub fn group(&self) -> &str {
        self.group.unwrap_or(DEFAULT_GROUP)
    }

    /// Writes the event name: the given one, or Linux's `p_SYM_OFFS`/`r_SYM_OFFS` (the
    /// characters a C identifier cannot have replaced by `_`), or `p_0x<addr>`.
    pub fn write_event(&self, f: &mut impl fmt::Write) -> fmt::Result {
        if let Some(e) = self.event {
            return f.write_str(e);
        }
        let kind = if self.is_return { 'r' } else { 'p' };
        match self.target {
            Target::Address(a) => write!(f, "{kind}_0x{a:x}"),
            Target::Symbol {
                module,
                name,
                offset,
            } => {
                write!(f, "{kind}_")?;
                if let Some(m) = module {
                    sanitized(f, m)?;
                    f.write_char('_')?;
                }
                sanitized(f, name)?;
                write!(f, "_{offset}")
            }
        }
    }
}

fn sanitized(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    s.chars().try_for_each(|c| {
        f.write_char(if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        })
    })
}

impl fmt::Display for Definition<'_> {
    /// As reading `kprobe_events` shows it (`trace_kprobe_show()`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_return { "r" } else { "p" })?;
        if self.is_return && self.maxactive > 0 {
            write!(f, "{}", self.maxactive)?;
        }
        write!(f, ":{}/", self.group())?;
        self.write_event(f)?;
        match self.target {
            Target::Address(a) => write!(f, " 0x{a:016x}")?,
            Target::Symbol {
                module,
                name,
                offset,
            } => {
                f.write_char(' ')?;
                if let Some(m) = module {
                    write!(f, "{m}:")?;
                }
                f.write_str(name)?;
                if offset > 0 {
                    write!(f, "+{offset}")?;
                }
            }
        }
        for a in self.args() {
            f.write_char(' ')?;
            a.write_name(f)?;
            write!(f, "={}", a.body)?;
        }
        Ok(())
    }
}

/// Whether `s` is a C identifier (Linux's `is_good_name()`).
fn is_good_name(s: &str) -> bool {
    let mut c = s.bytes();
    c.next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && c.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `kstrtoul(s, 0)`: decimal, `0x` hexadecimal or `0` octal, nothing else.
fn parse_ulong(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `kstrtol(s, 0)`, with an optional sign.
fn parse_long(s: &str) -> Option<i64> {
    match s.strip_prefix('-') {
        Some(m) => parse_ulong(m)
            .and_then(|v| i64::try_from(v).ok())
            .map(|v| -v),
        None => parse_ulong(s.strip_prefix('+').unwrap_or(s)).and_then(|v| i64::try_from(v).ok()),
    }
}

/// `SYM[+|-offs]` (Linux's `traceprobe_split_symbol_offset()`).
fn split_symbol_offset(s: &str) -> Option<(&str, i64)> {
    match s.find(['+', '-']) {
        Some(i) => Some((&s[..i], parse_long(&s[i..])?)),
        None => Some((s, 0)),
    }
}

/// The architecture, for its register names (`%REG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `regs_query_register_offset()`'s names: `ax`, `bx`, ... `r15`, `ip`, `flags`, ...
    X86_64,
    /// `x0`..`x30`, `sp`, `pc`, `pstate`.
    Arm64,
}

impl Arch {
    /// Whether `name` (without `%`) is one of its registers.
    pub fn has_register(self, name: &str) -> bool {
        match self {
            Arch::X86_64 => matches!(
                name,
                "ax" | "bx"
                    | "cx"
                    | "dx"
                    | "si"
                    | "di"
                    | "bp"
                    | "sp"
                    | "r8"
                    | "r9"
                    | "r10"
                    | "r11"
                    | "r12"
                    | "r13"
                    | "r14"
                    | "r15"
                    | "ip"
                    | "flags"
                    | "cs"
                    | "ss"
                    | "orig_ax"
            ),
            Arch::Arm64 => {
                let xn = |n: &str| {
                    (n == "0" || !n.starts_with('0')) && n.parse::<u8>().is_ok_and(|v| v <= 30)
                };
                matches!(name, "sp" | "pc" | "pstate") || name.strip_prefix('x').is_some_and(xn)
            }
        }
    }
}

/// The words of a command and where each starts (Linux splits on spaces and tabs).
fn words(line: &str) -> Words<'_> {
    Words { line, pos: 0 }
}

/// An iterator over words (a named type rather than an adapter chain: the kernel build's
/// objtool refuses the symbol names long chains get).
struct Words<'a> {
    line: &'a str,
    pos: usize,
}

impl<'a> Iterator for Words<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.line.get(self.pos..)?;
        let skip = rest.find(|c| c != ' ' && c != '\t')?;
        let at = self.pos + skip;
        let len = self.line[at..]
            .find([' ', '\t'])
            .unwrap_or(self.line.len() - at);
        self.pos = at + len;
        Some((at, &self.line[at..at + len]))
    }
}

/// The arguments of a definition as parsed.
struct ArgResults<'d, 'a> {
    def: &'d Definition<'a>,
    words: Words<'a>,
    index: usize,
}

impl<'a> Iterator for ArgResults<'_, 'a> {
    type Item = Result<Arg<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let (pos, text) = self.words.next()?;
        let d = self.def;
        let index = self.index;
        self.index += 1;
        let pos = d.args_at + pos;
        if index >= MAX_TRACE_ARGS {
            return Some(Err(Error {
                kind: ErrorKind::TooManyArgs,
                pos,
            }));
        }
        let at_entry = matches!(d.target, Target::Symbol { offset: 0, .. });
        Some(parse_arg(text, pos, index, d.is_return, at_entry, d.arch))
    }
}

/// The arguments of an accepted definition.
pub struct Args<'d, 'a>(ArgResults<'d, 'a>);

impl<'a> Iterator for Args<'_, 'a> {
    type Item = Arg<'a>;

    fn next(&mut self) -> Option<Arg<'a>> {
        self.0.next()?.ok()
    }
}

/// Parses one line of `kprobe_events` (without comments: Linux cuts them at `#` first).
/// `Ok(None)` for an empty line; `arch` gives the register names.
pub fn parse(line: &str, arch: Arch) -> Result<Option<Command<'_>>, Error> {
    let line = line.split('#').next().unwrap_or("");
    let mut w = words(line);
    let Some((_, head)) = w.next() else {
        return Ok(None);
    };
    let err = |kind, pos| Error { kind, pos };
    if let Some(rest) = head.strip_prefix('-') {
        let name = rest
            .strip_prefix(':')
            .ok_or(err(ErrorKind::BadProbeAddr, 0))?;
        let (group, event) = event_name(name, 2)?;
        let event = event.ok_or(err(ErrorKind::NoEventName, 2))?;
        return Ok(Some(Command::Remove { group, event }));
    }
    let is_return = match head.as_bytes()[0] {
        b'r' => true,
        b'p' => false,
        _ => return Err(err(ErrorKind::BadProbeAddr, 0)),
    };
    let colon = head.find(':');
    let counted = &head[1..colon.unwrap_or(head.len())];
    let mut maxactive = 0;
    if !counted.is_empty() {
        if !counted.as_bytes()[0].is_ascii_digit() {
            return Err(err(ErrorKind::BadProbeAddr, 0));
        }
        if !is_return {
            return Err(err(ErrorKind::BadMaxactType, 1));
        }
        maxactive = parse_ulong(counted)
            .and_then(|v| u32::try_from(v).ok())
            .filter(|&v| v > 0)
            .ok_or(err(ErrorKind::BadMaxact, 1))?;
        if maxactive > MAXACTIVE_MAX {
            return Err(err(ErrorKind::MaxactTooBig, 1));
        }
    }
    let Some((tpos, target)) = w.next() else {
        return Err(err(ErrorKind::BadProbeAddr, head.len()));
    };
    let (target, is_return) = parse_target(target, tpos, is_return)?;
    let (group, event) = match colon {
        Some(c) => event_name(&head[c + 1..], c + 1)?,
        None => (None, None),
    };
    let def = Definition {
        is_return,
        maxactive,
        group,
        event,
        target,
        line,
        args_at: tpos + line[tpos..].find([' ', '\t']).unwrap_or(line.len() - tpos),
        arch,
    };
    for arg in def.arg_results() {
        let arg = arg?;
        for earlier in def.args() {
            if earlier.index == arg.index {
                break;
            }
            if same_name(&earlier, &arg) {
                let pos = def.args_at
                    + words(&line[def.args_at..])
                        .nth(arg.index)
                        .map_or(0, |w| w.0);
                return Err(err(ErrorKind::UsedArgName, pos));
            }
        }
    }
    Ok(Some(Command::Define(def)))
}

/// Whether two arguments have the same name (given or default).
fn same_name(a: &Arg<'_>, b: &Arg<'_>) -> bool {
    let mut x = NameBuf::default();
    let mut y = NameBuf::default();
    a.write_name(&mut x).is_ok() && b.write_name(&mut y).is_ok() && x.as_str() == y.as_str()
}

/// Room for an argument's name.
struct NameBuf([u8; MAX_ARG_NAME_LEN + 8], usize);

impl Default for NameBuf {
    fn default() -> Self {
        Self([0; MAX_ARG_NAME_LEN + 8], 0)
    }
}

impl NameBuf {
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0[..self.1]).unwrap_or("")
    }
}

impl fmt::Write for NameBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.1 + s.len();
        self.0
            .get_mut(self.1..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.1 = end;
        Ok(())
    }
}

/// `[GRP/][EVENT]` at byte `pos` (Linux's `traceprobe_parse_event_name()`).
fn event_name(s: &str, pos: usize) -> Result<(Option<&str>, Option<&str>), Error> {
    let err = |kind, pos| Err(Error { kind, pos });
    let (group, event, epos) = match s.find(['/', '.']) {
        Some(0) => return err(ErrorKind::NoGroupName, pos),
        Some(i) if i + 1 > MAX_EVENT_NAME_LEN => return err(ErrorKind::GroupTooLong, pos),
        Some(i) if !is_good_name(&s[..i]) => return err(ErrorKind::BadGroupName, pos),
        Some(i) => (Some(&s[..i]), &s[i + 1..], pos + i + 1),
        None => (None, s, pos),
    };
    if event.is_empty() {
        return if group.is_some() {
            Ok((group, None))
        } else {
            err(ErrorKind::NoEventName, epos)
        };
    }
    if event.len() >= MAX_EVENT_NAME_LEN {
        return err(ErrorKind::EventTooLong, epos);
    }
    if !is_good_name(event) {
        return err(ErrorKind::BadEventName, epos);
    }
    Ok((group, Some(event)))
}

/// `[MOD:]SYM[+offs][%return]` or `MEMADDR` at byte `pos`; says whether it is a return probe.
fn parse_target(s: &str, pos: usize, is_return: bool) -> Result<(Target<'_>, bool), Error> {
    let err = |kind, at| Error {
        kind,
        pos: pos + at,
    };
    if let Some(a) = parse_ulong(s) {
        return Ok((Target::Address(a), is_return));
    }
    let (s, is_return) = match s.find('%') {
        Some(i) if &s[i..] == "%return" => (&s[..i], true),
        Some(i) => return Err(err(ErrorKind::BadAddrSuffix, i)),
        None => (s, is_return),
    };
    let (module, sym) = match s.split_once(':') {
        Some((m, sym)) => (Some(m), sym),
        None => (None, s),
    };
    let (name, offset) = split_symbol_offset(sym)
        .filter(|&(n, o)| !n.is_empty() && (0..=i64::from(u32::MAX)).contains(&o))
        .ok_or(err(ErrorKind::BadProbeAddr, 0))?;
    if module.is_some_and(|m| !is_good_name(m)) || name.contains(['/', ':']) {
        return Err(err(ErrorKind::BadProbeAddr, 0));
    }
    if is_return && offset != 0 {
        return Err(err(ErrorKind::BadRetprobe, 0));
    }
    Ok((
        Target::Symbol {
            module,
            name,
            offset: offset as u32,
        },
        is_return,
    ))
}

/// One fetch argument, the `index`th, at byte `pos`.
fn parse_arg<'a>(
    text: &'a str,
    pos: usize,
    index: usize,
    is_return: bool,
    at_entry: bool,
    arch: Arch,
) -> Result<Arg<'a>, Error> {
    let err = |kind, at: usize| Error {
        kind,
        pos: pos + at,
    };
    if text.len() > MAX_ARGSTR_LEN {
        return Err(err(ErrorKind::ArgTooLong, 0));
    }
    let (name, body, bpos) = match text.find('=') {
        Some(0) => return Err(err(ErrorKind::NoArgName, 0)),
        Some(i) if i > MAX_ARG_NAME_LEN => return Err(err(ErrorKind::ArgNameTooLong, 0)),
        Some(i) if !is_good_name(&text[..i]) => return Err(err(ErrorKind::BadArgName, 0)),
        Some(i) => (Some(&text[..i]), &text[i + 1..], i + 1),
        None => (None, text, 0),
    };
    if body.is_empty() {
        return Err(err(ErrorKind::NoArgBody, bpos));
    }
    let (expr, ty) = match body.find(':') {
        Some(i) => {
            let t = Type::parse(&body[i + 1..]).ok_or(err(ErrorKind::BadType, bpos + i + 1))?;
            (&body[..i], Some((t, bpos + i + 1)))
        }
        None => (body, None),
    };
    let mut arg = Arg {
        name,
        index,
        body,
        fetch: Fetch::StackPointer,
        derefs: [(0, false); MAX_DEREF],
        nderef: 0,
        ty: ty.map_or(Type::DEFAULT, |t| t.0),
    };
    let ctx = FetchContext {
        base: pos + bpos,
        is_return,
        at_entry,
        arch,
    };
    arg.fetch = ctx.parse(expr, 0, &mut arg)?;
    let is_mem = arg.nderef > 0 || matches!(arg.fetch, Fetch::Memory(_) | Fetch::Symbol { .. });
    if let Some((t, tpos)) = ty {
        if t.is_string() && !is_mem && arg.fetch != Fetch::Comm {
            return Err(Error {
                kind: ErrorKind::BadString,
                pos: pos + tpos,
            });
        }
    }
    if arg.fetch == Fetch::Comm && !arg.ty.is_string() {
        if ty.is_none() {
            arg.ty = Type::String;
        } else {
            return Err(err(ErrorKind::NeedStringType, bpos));
        }
    }
    Ok(arg)
}

struct FetchContext {
    /// Where the argument's body starts in the command.
    base: usize,
    is_return: bool,
    at_entry: bool,
    arch: Arch,
}

impl FetchContext {
    /// A fetch expression at byte `at` of the body; dereferences go to `arg`, innermost
    /// first.
    fn parse<'a>(&self, s: &'a str, at: usize, arg: &mut Arg<'a>) -> Result<Fetch<'a>, Error> {
        let err = |kind, more: usize| Error {
            kind,
            pos: self.base + at + more,
        };
        let Some(&first) = s.as_bytes().first() else {
            return Err(err(ErrorKind::BadFetchArg, 0));
        };
        Ok(match first {
            b'%' => {
                if !self.arch.has_register(&s[1..]) {
                    return Err(err(ErrorKind::BadRegName, 0));
                }
                Fetch::Reg(&s[1..])
            }
            b'$' => self.var(&s[1..]).map_err(|k| err(k, 0))?,
            b'@' => match s.as_bytes().get(1) {
                Some(d) if d.is_ascii_digit() => {
                    Fetch::Memory(parse_ulong(&s[1..]).ok_or(err(ErrorKind::BadMemAddr, 0))?)
                }
                Some(b'+') => return Err(err(ErrorKind::FileOnKprobe, 0)),
                _ => {
                    let (name, offset) = split_symbol_offset(&s[1..])
                        .filter(|(n, _)| is_good_name(n))
                        .ok_or(err(ErrorKind::BadMemAddr, 0))?;
                    Fetch::Symbol { name, offset }
                }
            },
            b'\\' => Fetch::Immediate(parse_ulong(&s[1..]).ok_or(err(ErrorKind::BadImm, 0))?),
            b'+' | b'-' => {
                // `+|-[u]OFFS(FETCHARG)`: `u` reads user memory.
                let user = s.as_bytes().get(1) == Some(&b'u');
                let signed = &s[if user { 2 } else { 1 }..];
                let open = signed.find('(').ok_or(err(ErrorKind::DerefNeedBrace, 0))?;
                let mut offset = parse_ulong(&signed[..open])
                    .and_then(|v| i64::try_from(v).ok())
                    .ok_or(err(ErrorKind::BadDerefOffs, 0))?;
                if first == b'-' {
                    offset = -offset;
                }
                let inner_at = s.len() - signed.len() + open + 1;
                let inner = &s[inner_at..];
                let close = inner
                    .rfind(')')
                    .ok_or(err(ErrorKind::DerefOpenBrace, s.len()))?;
                if close + 1 != inner.len() {
                    return Err(err(ErrorKind::BadFetchArg, inner_at + close + 1));
                }
                let fetch = self.parse(&inner[..close], at + inner_at, arg)?;
                if fetch == Fetch::Comm {
                    return Err(err(ErrorKind::CommCantDeref, inner_at));
                }
                if arg.nderef == MAX_DEREF {
                    return Err(err(ErrorKind::TooManyOps, 0));
                }
                arg.derefs[arg.nderef] = (offset, user);
                arg.nderef += 1;
                fetch
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => return Err(err(ErrorKind::Unsupported, 0)),
            _ => return Err(err(ErrorKind::BadFetchArg, 0)),
        })
    }

    /// `$VAR` (without the `$`).
    fn var<'a>(&self, v: &'a str) -> Result<Fetch<'a>, ErrorKind> {
        Ok(match v {
            "comm" | "COMM" => Fetch::Comm,
            "retval" if self.is_return => Fetch::Retval,
            "retval" => return Err(ErrorKind::RetvalOnProbe),
            "stack" => Fetch::StackPointer,
            "current" => Fetch::Current,
            _ => {
                if let Some(n) = v.strip_prefix("stack") {
                    let n = n.parse::<u64>().map_err(|_| ErrorKind::BadVar)?;
                    if n > PARAM_MAX_STACK {
                        return Err(ErrorKind::BadStackNum);
                    }
                    Fetch::Stack(n as u32)
                } else if let Some(n) = v.strip_prefix("arg") {
                    let n = n.parse::<u64>().map_err(|_| ErrorKind::BadVar)?;
                    if n == 0 || n > PARAM_MAX_STACK {
                        return Err(ErrorKind::BadArgNum);
                    }
                    if !self.at_entry {
                        return Err(ErrorKind::NofentryArgs);
                    }
                    Fetch::Arg(n as u32)
                } else {
                    return Err(ErrorKind::BadVar);
                }
            }
        })
    }
}

#[cfg(test)]
#[path = "probe_event/tests.rs"]
mod tests;
