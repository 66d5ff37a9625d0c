//! The emulation on a model machine: a 16-word stack and 16 registers.

use super::*;
use crate::prepare::{prepare, Plan};

struct Model {
    ip: u64,
    flags: u64,
    regs: [u64; 16],
    stack: [u64; 16],
}

const STACK_TOP: u64 = 0x1000;

impl Model {
    fn new() -> Self {
        let mut regs = [0; 16];
        regs[4] = STACK_TOP - 8 * 8;
        Model {
            ip: 0,
            flags: flags::IF,
            regs,
            stack: [0; 16],
        }
    }
    fn slot(addr: u64) -> usize {
        ((STACK_TOP - addr) / 8) as usize
    }
}

impl Machine for Model {
    fn ip(&self) -> u64 {
        self.ip
    }
    fn set_ip(&mut self, ip: u64) {
        self.ip = ip;
    }
    fn sp(&self) -> u64 {
        self.regs[4]
    }
    fn set_sp(&mut self, sp: u64) {
        self.regs[4] = sp;
    }
    fn flags(&self) -> u64 {
        self.flags
    }
    fn set_flags(&mut self, flags: u64) {
        self.flags = flags;
    }
    fn gpr(&self, n: u8) -> u64 {
        self.regs[usize::from(n)]
    }
    fn set_gpr(&mut self, n: u8, value: u64) {
        self.regs[usize::from(n)] = value;
    }
    fn write_stack(&mut self, addr: u64, value: u64) {
        self.stack[Self::slot(addr)] = value;
    }
    fn read_stack(&self, addr: u64) -> u64 {
        self.stack[Self::slot(addr)]
    }
}

const ADDR: u64 = 0xffff_ffff_8100_0000;

/// Emulates `bytes` at ADDR on `m`.
fn run(bytes: &[u8], m: &mut Model) {
    let p = prepare(bytes).unwrap();
    let Plan::Emulate(e) = p.plan else {
        panic!("{bytes:02x?} is not emulated")
    };
    emulate(e, m, ADDR, p.insn.len);
}

#[test]
fn call_and_ret() {
    let mut m = Model::new();
    let sp = m.sp();
    run(&[0xe8, 0x10, 0, 0, 0], &mut m);
    assert_eq!(m.ip, ADDR + 5 + 0x10);
    assert_eq!(m.sp(), sp - 8);
    assert_eq!(m.read_stack(m.sp()), ADDR + 5);
    run(&[0xc3], &mut m);
    assert_eq!((m.ip, m.sp()), (ADDR + 5, sp));
}

#[test]
fn ret_imm16_pops_its_operand() {
    let mut m = Model::new();
    let sp = m.sp();
    m.write_stack(sp, 0x1234);
    run(&[0xc2, 0x10, 0x00], &mut m);
    assert_eq!((m.ip, m.sp()), (0x1234, sp + 8 + 16));
}

#[test]
fn jumps() {
    let mut m = Model::new();
    run(&[0xeb, 0xfe], &mut m);
    assert_eq!(m.ip, ADDR); // jmp to itself
    m.flags = flags::ZF;
    run(&[0x74, 0x05], &mut m); // je taken
    assert_eq!(m.ip, ADDR + 2 + 5);
    run(&[0x0f, 0x85, 5, 0, 0, 0], &mut m); // jne not taken
    assert_eq!(m.ip, ADDR + 6);
}

#[test]
fn condition_codes() {
    use flags::*;
    let cases = [
        (0x0, OF, true),
        (0x1, OF, false),
        (0x2, CF, true),
        (0x3, 0, true),
        (0x6, ZF, true),
        (0x7, 0, true),
        (0x8, SF, true),
        (0xa, PF, true),
        (0xc, SF, true), // jl: SF != OF
        (0xc, SF | OF, false),
        (0xd, SF | OF, true), // jge
        (0xe, ZF, true),      // jle
        (0xf, 0, true),       // jg
        (0xf, ZF, false),
    ];
    for (cc, f, want) in cases {
        assert_eq!(condition_holds(cc, f), want, "cc {cc:x} flags {f:#x}");
    }
}

#[test]
fn loops() {
    let mut m = Model::new();
    m.regs[1] = 2;
    run(&[0xe2, 0xfe], &mut m); // loop: rcx 2 -> 1, taken
    assert_eq!((m.ip, m.regs[1]), (ADDR, 1));
    run(&[0xe2, 0xfe], &mut m); // rcx 1 -> 0, not taken
    assert_eq!((m.ip, m.regs[1]), (ADDR + 2, 0));
    run(&[0xe3, 0x04], &mut m); // jrcxz taken
    assert_eq!(m.ip, ADDR + 6);
    m.regs[1] = 0xffff_ffff_0000_0000;
    run(&[0x67, 0xe3, 0x04], &mut m); // jecxz looks at ecx only
    assert_eq!(m.ip, ADDR + 7);
    run(&[0x67, 0xe2, 0x04], &mut m); // loopl: ecx wraps, upper half kept
    assert_eq!(m.regs[1], 0xffff_ffff_ffff_ffff);
    m.regs[1] = 5;
    m.flags = flags::ZF;
    run(&[0xe0, 0x04], &mut m); // loopne with ZF: not taken, still counts
    assert_eq!((m.ip, m.regs[1]), (ADDR + 2, 4));
}

#[test]
fn indirect_and_flags() {
    let mut m = Model::new();
    m.regs[11] = 0xdead_0000;
    let sp = m.sp();
    run(&[0x41, 0xff, 0xd3], &mut m); // call *%r11
    assert_eq!((m.ip, m.read_stack(sp - 8)), (0xdead_0000, ADDR + 3));
    run(&[0xff, 0xe4], &mut m); // jmp *%rsp
    assert_eq!(m.ip, sp - 8);

    let mut m = Model::new();
    run(&[0xfa], &mut m);
    assert_eq!(m.flags & flags::IF, 0);
    run(&[0x9c], &mut m); // pushf records IF clear
    run(&[0xfb], &mut m);
    assert_ne!(m.flags & flags::IF, 0);
    run(&[0x9d], &mut m); // popf brings IF back to clear
    assert_eq!((m.flags & flags::IF, m.ip), (0, ADDR + 1));
}
