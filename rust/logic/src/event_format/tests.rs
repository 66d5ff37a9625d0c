//! Record layout, `print_fmt` and `kprobe_profile` lines, against what Linux shows for the
//! same definitions.

use super::*;
use crate::probe_event::{parse, Command};

extern crate std;
use std::{string::String, vec::Vec};

fn def(line: &str, arch: Arch) -> Definition<'_> {
    match parse(line, arch) {
        Ok(Some(Command::Define(d))) => d,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn fields_follow_each_other_without_padding() {
    let d = def(
        "p:e f a=%di:u8 b=%si:s64 c=+0(%dx):string d=%cx:symbol e=%r8:char g=%r9:x16",
        Arch::X86_64,
    );
    let got: Vec<_> = fields(&d)
        .map(|(a, at)| (a.name.unwrap(), at, a.ty.field_type(), a.ty.is_signed()))
        .collect();
    assert_eq!(
        got,
        [
            ("a", 0, "u8", false),
            ("b", 1, "s64", true),
            ("c", 9, "__data_loc char[]", false),
            ("d", 13, "u64", false),
            ("e", 21, "u8", false),
            ("g", 22, "u16", false),
        ]
    );
    assert_eq!(fixed_size(&d), 24);
}

#[test]
fn print_fmt_as_linux_format_file() {
    let mut s = String::new();
    let d = def(
        "p:myprobe do_sys_openat2 dfd=%di filename=+0(%si):string flags=%dx:x32",
        Arch::X86_64,
    );
    write_print_fmt(&d, &mut s).unwrap();
    assert_eq!(
        s,
        r#""(%lx) dfd=0x%Lx filename=\"%s\" flags=0x%x", REC->__probe_ip, REC->dfd, __get_str(filename), REC->flags"#
    );
    s.clear();
    let d = def(
        "r:myretprobe do_sys_openat2 $retval:s32 $comm",
        Arch::X86_64,
    );
    write_print_fmt(&d, &mut s).unwrap();
    assert_eq!(
        s,
        r#""(%lx <- %lx) arg1=%d arg2=\"%s\"", REC->__probe_func, REC->__probe_ret_ip, REC->arg1, __get_str(arg2)"#
    );
}

#[test]
fn print_kinds() {
    let d = def(
        "p:e f a=%di:u32 b=%di:s16 c=%di:x8 d=%di:char e=%di:symbol f=+0(%di):ustring",
        Arch::X86_64,
    );
    let got: Vec<_> = d.args().map(|a| a.ty.print()).collect();
    use Print::*;
    assert_eq!(got, [Unsigned, Signed, Hex, Char, Symbol, String]);
}

#[test]
fn profile_lines_as_linux() {
    let mut s = String::new();
    write_profile_line(&mut s, "myprobe", 12, 0).unwrap();
    assert_eq!(
        s,
        "  myprobe                                                   12               0\n"
    );
}

#[test]
fn data_locations() {
    assert_eq!(data_loc(6, 40), 0x0006_0028);
}

#[test]
fn registers_are_pt_regs_words() {
    let x = |r| Arch::X86_64.register_index(r);
    assert_eq!(
        (x("r15"), x("di"), x("ip"), x("sp"), x("ss")),
        (Some(0), Some(14), Some(16), Some(19), Some(20))
    );
    assert_eq!(x("x0"), None);
    let a = |r| Arch::Arm64.register_index(r);
    assert_eq!(
        (a("x0"), a("x30"), a("sp"), a("pc"), a("pstate")),
        (Some(0), Some(30), Some(31), Some(32), Some(33))
    );
    assert_eq!((a("x31"), a("x01"), a("di")), (None, None, None));
}
