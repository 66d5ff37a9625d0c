//! `kprobe_events` definitions: what Linux accepts, and every refusal with Linux's message and
//! the column Linux's `error_log` points at.

use super::*;
use ErrorKind::*;

fn def(line: &str) -> Definition<'_> {
    match parse(line, Arch::X86_64) {
        Ok(Some(Command::Define(d))) => d,
        other => panic!("{line}: {other:?}"),
    }
}

fn shown(line: &str) -> String {
    def(line).to_string()
}

extern crate std;
use std::string::{String, ToString};

#[test]
fn probes_and_return_probes() {
    let d = def("p:myprobe do_sys_openat2 dfd=%di filename=+0(%si):string flags=%dx:x32");
    assert!(!d.is_return);
    assert_eq!((d.group(), d.event), ("kprobes", Some("myprobe")));
    assert_eq!(
        d.target,
        Target::Symbol {
            module: None,
            name: "do_sys_openat2",
            offset: 0
        }
    );
    let args: std::vec::Vec<_> = d.args().collect();
    assert_eq!(args.len(), 3);
    assert_eq!(
        (args[0].name, args[0].fetch, args[0].ty),
        (Some("dfd"), Fetch::Reg("di"), Type::DEFAULT)
    );
    assert_eq!(
        (args[1].fetch, args[1].derefs(), args[1].ty),
        (Fetch::Reg("si"), &[(0, false)][..], Type::String)
    );
    assert_eq!(
        args[2].ty,
        Type::Int {
            bits: 32,
            signed: false,
            hex: true
        }
    );

    let r = def("r16:grp/ev vfs_read $retval:s64 $arg1 +8(-16(%sp)):u8 +u0(%di):ustring");
    assert!(r.is_return);
    assert_eq!((r.maxactive, r.group(), r.event), (16, "grp", Some("ev")));
    let args: std::vec::Vec<_> = r.args().collect();
    assert_eq!(args[0].fetch, Fetch::Retval);
    assert_eq!((args[1].name, args[1].fetch), (None, Fetch::Arg(1)));
    assert_eq!(args[2].derefs(), &[(-16, false), (8, false)][..]);
    assert_eq!(args[3].derefs(), &[(0, true)][..]);

    // %return makes a return probe; MOD:SYM; an address; $comm is a string.
    let d = def("p ext4:ext4_sync_file%return $comm");
    assert!(d.is_return);
    assert_eq!(
        d.target,
        Target::Symbol {
            module: Some("ext4"),
            name: "ext4_sync_file",
            offset: 0
        }
    );
    assert_eq!(d.args().next().map(|a| a.ty), Some(Type::String));
    assert_eq!(
        def("p 0xffffffff81000000").target,
        Target::Address(0xffff_ffff_8100_0000)
    );
    assert_eq!(
        def("p vfs_read+9 @jiffies:u64 @init_task+16 $stack $stack3 $current \\42")
            .args()
            .count(),
        6
    );
    // Group only: the event name is generated.
    assert_eq!(def("p:grp/ vfs_read").event, None);
    // The arm64 registers.
    assert!(parse("p vfs_read %x0 %x30 %sp %pc %pstate", Arch::Arm64).is_ok());
    assert!(parse("p vfs_read %x31", Arch::Arm64).is_err());
}

#[test]
fn shown_as_linux_shows_them() {
    assert_eq!(
        shown("p:myprobe do_sys_openat2 dfd=%di"),
        "p:kprobes/myprobe do_sys_openat2 dfd=%di"
    );
    assert_eq!(
        shown("p vfs_read+9 %ax"),
        "p:kprobes/p_vfs_read_9 vfs_read+9 arg1=%ax"
    );
    assert_eq!(
        shown("r vfs_read $retval"),
        "r:kprobes/r_vfs_read_0 vfs_read arg1=$retval"
    );
    assert_eq!(shown("r4 mod:f"), "r4:kprobes/r_mod_f_0 mod:f");
    assert_eq!(shown("p 0x10"), "p:kprobes/p_0x10 0x0000000000000010");
    assert_eq!(
        shown("p:g.e\tvfs_read   x=%di:u32 "),
        "p:g/e vfs_read x=%di:u32"
    );
}

#[test]
fn empty_lines_comments_and_removal() {
    assert_eq!(parse("", Arch::X86_64), Ok(None));
    assert_eq!(parse("   # only a comment", Arch::X86_64), Ok(None));
    assert_eq!(
        parse("-:grp/ev", Arch::X86_64),
        Ok(Some(Command::Remove {
            group: Some("grp"),
            event: "ev"
        }))
    );
    assert_eq!(
        parse("-:ev # gone", Arch::X86_64),
        Ok(Some(Command::Remove {
            group: None,
            event: "ev"
        }))
    );
}

/// Every refusal: (definition, error, column).
const REFUSED: &[(&str, ErrorKind, usize)] = &[
    ("p4 vfs_read", BadMaxactType, 1),
    ("r0 vfs_read", BadMaxact, 1),
    ("r4x vfs_read", BadMaxact, 1),
    ("r4097 vfs_read", MaxactTooBig, 1),
    ("p vfs_read%entry", BadAddrSuffix, 10),
    ("p vfs_read+x", BadProbeAddr, 2),
    ("p +4", BadProbeAddr, 2),
    ("p vfs_read+4294967296", BadProbeAddr, 2),
    ("p bad-mod:vfs_read", BadProbeAddr, 2),
    ("r vfs_read+4", BadRetprobe, 2),
    ("p vfs_read+4%return", BadRetprobe, 2),
    ("p:/ev vfs_read", NoGroupName, 2),
    ("p:1grp/ev vfs_read", BadGroupName, 2),
    ("p:grp/1ev vfs_read", BadEventName, 6),
    ("p: vfs_read", NoEventName, 2),
    ("p:my-probe vfs_read", BadEventName, 2),
    (
        "p:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa vfs_read",
        EventTooLong,
        2,
    ),
    (
        "p:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/e vfs_read",
        GroupTooLong,
        2,
    ),
    ("p vfs_read =%di", NoArgName, 11),
    ("p vfs_read 1x=%di", BadArgName, 11),
    (
        "p vfs_read aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=%di",
        ArgNameTooLong,
        11,
    ),
    ("p vfs_read a=%di a=%si", UsedArgName, 17),
    ("p vfs_read %di arg1=%si", UsedArgName, 15),
    ("p vfs_read a=", NoArgBody, 13),
    ("p vfs_read %rax", BadRegName, 11),
    ("p vfs_read a=%xx", BadRegName, 13),
    ("p vfs_read @0xzz", BadMemAddr, 11),
    ("p vfs_read @+10", FileOnKprobe, 11),
    ("p vfs_read +8%di", DerefNeedBrace, 11),
    ("p vfs_read +z(%di)", BadDerefOffs, 11),
    ("p vfs_read +8(%di", DerefOpenBrace, 17),
    ("p vfs_read +8(%di)x", BadFetchArg, 18),
    ("p vfs_read +0($comm)", CommCantDeref, 14),
    (
        "p vfs_read +0(+0(+0(+0(+0(+0(+0(+0(+0(%di)))))))))",
        TooManyOps,
        11,
    ),
    ("p vfs_read $foo", BadVar, 11),
    ("p vfs_read $stackx", BadVar, 11),
    ("p vfs_read $stack9999", BadStackNum, 11),
    ("p vfs_read $retval", RetvalOnProbe, 11),
    ("p vfs_read $arg0", BadArgNum, 11),
    ("p vfs_read+4 $arg1", NofentryArgs, 13),
    ("p vfs_read %di:u128", BadType, 15),
    ("p vfs_read x=%di:", BadType, 17),
    ("p vfs_read %di:string", BadString, 15),
    ("p vfs_read $comm:u32", NeedStringType, 11),
    ("p vfs_read \\zz", BadImm, 11),
    ("p vfs_read ~", BadFetchArg, 11),
    ("p vfs_read task->comm", Unsupported, 11),
    ("x vfs_read", BadProbeAddr, 0),
    ("-ev", BadProbeAddr, 0),
    ("-:grp/", NoEventName, 2),
];

#[test]
fn refusals_name_linux_error_and_column() {
    assert!(REFUSED.len() >= 30);
    let wrong: std::vec::Vec<_> = REFUSED
        .iter()
        .filter_map(|&(line, kind, pos)| {
            let got = parse(line, Arch::X86_64).map(|_| ());
            (got != Err(Error { kind, pos })).then(|| std::format!("{line}: {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    for &(line, kind, _) in REFUSED {
        assert_eq!(kind.errno(), errno::EINVAL, "{line}");
    }
}

#[test]
fn too_many_arguments_is_e2big() {
    let mut line = String::from("p vfs_read");
    for _ in 0..=MAX_TRACE_ARGS {
        line.push_str(" %di");
    }
    let e = parse(&line, Arch::X86_64).map(|_| ()).unwrap_err();
    assert_eq!((e.kind, e.kind.errno()), (TooManyArgs, errno::E2BIG));
    // Long arguments.
    let long = std::format!("p vfs_read {}", "+0(".repeat(60) + "%di" + &")".repeat(60));
    assert_eq!(
        parse(&long, Arch::X86_64).map(|_| ()).unwrap_err().kind,
        TooManyOps
    );
    let huge = std::format!("p vfs_read x={}", "a".repeat(300));
    assert_eq!(
        parse(&huge, Arch::X86_64).map(|_| ()).unwrap_err().kind,
        ArgTooLong
    );
}
