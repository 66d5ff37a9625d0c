// SPDX-License-Identifier: GPL-2.0

//! An x86-64 (long mode, 64-bit code segment) instruction decoder.
//!
//! It finds an instruction's length and the parts the probe logic needs: prefixes, the opcode
//! map and byte, ModRM/SIB, where the displacement and the immediate are, and whether the
//! operand is RIP-relative. It covers legacy, REX, VEX, EVEX and XOP encodings; REX2 (APX) is
//! not accepted, as no kernel text uses it.

/// The longest instruction the architecture allows.
pub const MAX_INSN_LEN: usize = 15;

/// Why bytes did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes ended before the instruction did.
    Truncated,
    /// The opcode is not valid in 64-bit mode.
    Invalid,
    /// More than [`MAX_INSN_LEN`] bytes.
    TooLong,
}

/// The opcode map an opcode byte belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Map {
    /// One-byte opcodes.
    OneByte,
    /// `0f xx`.
    TwoByte,
    /// `0f 38 xx`.
    ThreeByte38,
    /// `0f 3a xx`.
    ThreeByte3A,
    /// EVEX maps 5 and 6 (AVX512-FP16).
    Evex(u8),
    /// AMD XOP maps 8, 9 and 10.
    Xop(u8),
}

/// Which vector prefix, if any, the instruction carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorPrefix {
    /// No VEX/EVEX/XOP prefix.
    None,
    /// `c4`/`c5`.
    Vex,
    /// `62`.
    Evex,
    /// `8f` with a map of 8 or more.
    Xop,
}

/// Legacy prefixes seen before the opcode.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Prefixes {
    /// `66`: operand size.
    pub operand_size: bool,
    /// `67`: address size.
    pub address_size: bool,
    /// `f0`.
    pub lock: bool,
    /// `f3`.
    pub rep: bool,
    /// `f2`.
    pub repne: bool,
    /// The last segment override (`2e 36 3e 26 64 65`), if any.
    pub segment: Option<u8>,
    /// How many legacy prefix bytes there were.
    pub count: u8,
}

/// A decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Length in bytes.
    pub len: u8,
    /// Legacy prefixes.
    pub prefixes: Prefixes,
    /// The REX byte, if one applies to the instruction.
    pub rex: Option<u8>,
    /// The vector prefix kind.
    pub vector: VectorPrefix,
    /// The opcode map.
    pub map: Map,
    /// The opcode byte within its map.
    pub opcode: u8,
    /// Offset of the opcode byte.
    pub opcode_offset: u8,
    /// The ModRM byte, if the instruction has one.
    pub modrm: Option<u8>,
    /// The SIB byte, if the instruction has one.
    pub sib: Option<u8>,
    /// Offset and size of the displacement (size 0: none).
    pub disp_offset: u8,
    /// Size of the displacement in bytes: 0, 1, 4 or 8 (`moffs`).
    pub disp_size: u8,
    /// Offset of the immediate(s).
    pub imm_offset: u8,
    /// Total size of the immediate(s) in bytes (`enter` has two: 3).
    pub imm_size: u8,
}

impl Insn {
    /// Whether a REX prefix sets W (64-bit operand size).
    pub fn rex_w(&self) -> bool {
        self.rex.is_some_and(|r| r & 0x08 != 0)
    }

    /// ModRM `mod` field.
    pub fn modrm_mod(&self) -> Option<u8> {
        self.modrm.map(|m| m >> 6)
    }

    /// ModRM `reg` field (without REX.R).
    pub fn modrm_reg(&self) -> Option<u8> {
        self.modrm.map(|m| (m >> 3) & 7)
    }

    /// ModRM `rm` field (without REX.B).
    pub fn modrm_rm(&self) -> Option<u8> {
        self.modrm.map(|m| m & 7)
    }

    /// Whether the memory operand is addressed relative to the next instruction's address
    /// (`mod == 00, rm == 101`).
    pub fn is_rip_relative(&self) -> bool {
        self.modrm.is_some_and(|m| m & 0xc7 == 0x05) && !self.modrm_ignores_mod()
    }

    /// `0f 20`..`0f 23` (moves to and from control and debug registers) always take a register
    /// operand, whatever `mod` says.
    fn modrm_ignores_mod(&self) -> bool {
        self.map == Map::TwoByte && (0x20..=0x23).contains(&self.opcode)
    }

    /// The displacement, sign-extended (0 if there is none).
    pub fn displacement(&self, bytes: &[u8]) -> i64 {
        read_signed(bytes, self.disp_offset, self.disp_size)
    }

    /// The immediate, sign-extended (0 if there is none; for `enter`, its first part).
    pub fn immediate(&self, bytes: &[u8]) -> i64 {
        let size = if self.imm_size == 3 { 2 } else { self.imm_size };
        read_signed(bytes, self.imm_offset, size)
    }
}

fn read_signed(bytes: &[u8], offset: u8, size: u8) -> i64 {
    let offset = usize::from(offset);
    let mut raw = [0u8; 8];
    raw[..usize::from(size)].copy_from_slice(&bytes[offset..offset + usize::from(size)]);
    let value = u64::from_le_bytes(raw);
    match size {
        0 => 0,
        1 => i64::from(value as u8 as i8),
        2 => i64::from(value as u16 as i16),
        4 => i64::from(value as u32 as i32),
        _ => value as i64,
    }
}

/// Immediate operand kinds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Imm {
    None,
    /// 8 bits.
    B,
    /// 16 bits.
    W,
    /// 16 bits with a `66` prefix, else 32 (`Iz`, `Jz`).
    Z,
    /// 16 with `66`, 64 with REX.W, else 32 (`mov r, imm`).
    V,
    /// `enter`: 16 + 8 bits.
    Enter,
    /// `0f 78` with `66`/`f2` (EXTRQ/INSERTQ): two 8-bit immediates.
    BB,
    /// 32 bits (XOP map 10).
    D,
}

/// A cursor over the instruction bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Result<u8, DecodeError> {
        if self.pos >= MAX_INSN_LEN {
            return Err(DecodeError::TooLong);
        }
        self.bytes
            .get(self.pos)
            .copied()
            .ok_or(DecodeError::Truncated)
    }

    fn next(&mut self) -> Result<u8, DecodeError> {
        let b = self.peek()?;
        self.pos += 1;
        Ok(b)
    }

    fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        let end = self.pos + n;
        if end > MAX_INSN_LEN {
            return Err(DecodeError::TooLong);
        }
        if end > self.bytes.len() {
            return Err(DecodeError::Truncated);
        }
        self.pos = end;
        Ok(())
    }
}

/// Decodes the instruction at the start of `bytes` (64-bit mode).
pub fn decode(bytes: &[u8]) -> Result<Insn, DecodeError> {
    let mut r = Reader { bytes, pos: 0 };
    let mut p = Prefixes::default();
    let mut rex = None;

    // Legacy prefixes, then an optional REX that must come right before the opcode.
    loop {
        let b = r.peek()?;
        match b {
            0x66 => p.operand_size = true,
            0x67 => p.address_size = true,
            0xf0 => p.lock = true,
            0xf2 => {
                p.repne = true;
                p.rep = false;
            }
            0xf3 => {
                p.rep = true;
                p.repne = false;
            }
            0x2e | 0x36 | 0x3e | 0x26 | 0x64 | 0x65 => p.segment = Some(b),
            0x40..=0x4f => {
                // A REX followed by another prefix is ignored by the CPU.
                r.next()?;
                rex = Some(b);
                match r.peek()? {
                    0x66 | 0x67 | 0xf0 | 0xf2 | 0xf3 | 0x2e | 0x36 | 0x3e | 0x26 | 0x64 | 0x65 => {
                        rex = None;
                        continue;
                    }
                    0x40..=0x4f => continue,
                    _ => break,
                }
            }
            _ => break,
        }
        // Only legacy prefixes reach this point.
        p.count += 1;
        r.next()?;
    }
    let mut vector = VectorPrefix::None;
    let mut map = Map::OneByte;
    let b = r.peek()?;
    let opcode_offset;
    let opcode;
    match b {
        0xc4 | 0xc5 | 0x62 | 0x8f => {
            // `8f` is XOP only with a map of 8 or more (otherwise POP r/m).
            let second = *bytes.get(r.pos + 1).ok_or(DecodeError::Truncated)?;
            if b == 0x8f && second & 0x1f < 8 {
                opcode_offset = r.pos as u8;
                opcode = r.next()?;
            } else {
                if rex.is_some() || p.operand_size || p.lock || p.rep || p.repne {
                    // VEX/EVEX/XOP after these prefixes is #UD.
                    return Err(DecodeError::Invalid);
                }
                r.next()?;
                match b {
                    0xc5 => {
                        vector = VectorPrefix::Vex;
                        r.next()?;
                        map = Map::TwoByte;
                    }
                    0xc4 => {
                        vector = VectorPrefix::Vex;
                        let m = r.next()? & 0x1f;
                        r.next()?;
                        map = match m {
                            1 => Map::TwoByte,
                            2 => Map::ThreeByte38,
                            3 => Map::ThreeByte3A,
                            _ => return Err(DecodeError::Invalid),
                        };
                    }
                    0x62 => {
                        vector = VectorPrefix::Evex;
                        let p0 = r.next()?;
                        let p1 = r.next()?;
                        r.next()?;
                        if p1 & 0x04 == 0 {
                            return Err(DecodeError::Invalid);
                        }
                        map = match p0 & 0x07 {
                            1 => Map::TwoByte,
                            2 => Map::ThreeByte38,
                            3 => Map::ThreeByte3A,
                            m @ (5 | 6) => Map::Evex(m),
                            _ => return Err(DecodeError::Invalid),
                        };
                    }
                    _ => {
                        vector = VectorPrefix::Xop;
                        let m = r.next()? & 0x1f;
                        r.next()?;
                        map = match m {
                            8..=10 => Map::Xop(m),
                            _ => return Err(DecodeError::Invalid),
                        };
                    }
                }
                opcode_offset = r.pos as u8;
                opcode = r.next()?;
            }
        }
        0x0f => {
            r.next()?;
            match r.peek()? {
                0x38 => {
                    r.next()?;
                    map = Map::ThreeByte38;
                }
                0x3a => {
                    r.next()?;
                    map = Map::ThreeByte3A;
                }
                _ => map = Map::TwoByte,
            }
            opcode_offset = r.pos as u8;
            opcode = r.next()?;
        }
        _ => {
            opcode_offset = r.pos as u8;
            opcode = r.next()?;
        }
    }

    let (has_modrm, imm) = if vector == VectorPrefix::None {
        legacy_operands(map, opcode, &p)?
    } else {
        vector_operands(map, opcode)?
    };

    let mut insn = Insn {
        len: 0,
        prefixes: p,
        rex,
        vector,
        map,
        opcode,
        opcode_offset,
        modrm: None,
        sib: None,
        disp_offset: 0,
        disp_size: 0,
        imm_offset: 0,
        imm_size: 0,
    };

    if has_modrm {
        let modrm = r.next()?;
        insn.modrm = Some(modrm);
        let md = modrm >> 6;
        let rm = modrm & 7;
        if md != 3 && !insn.modrm_ignores_mod() {
            if rm == 4 {
                let sib = r.next()?;
                insn.sib = Some(sib);
                if md == 0 && sib & 7 == 5 {
                    insn.disp_size = 4;
                }
            }
            match md {
                0 if rm == 5 => insn.disp_size = 4,
                1 => insn.disp_size = 1,
                2 => insn.disp_size = 4,
                _ => {}
            }
            insn.disp_offset = r.pos as u8;
            r.skip(usize::from(insn.disp_size))?;
        }
    } else if map == Map::OneByte && (0xa0..=0xa3).contains(&opcode) {
        // `mov` to/from a memory offset: an address-sized "displacement".
        insn.disp_size = if p.address_size { 4 } else { 8 };
        insn.disp_offset = r.pos as u8;
        r.skip(usize::from(insn.disp_size))?;
    }

    // Group 3 (`f6`/`f7`): only TEST (/0, /1) has an immediate.
    let imm = match (map, opcode, insn.modrm_reg()) {
        (Map::OneByte, 0xf6, Some(0 | 1)) => Imm::B,
        (Map::OneByte, 0xf7, Some(0 | 1)) => Imm::Z,
        (Map::OneByte, 0xf6 | 0xf7, _) => Imm::None,
        _ => imm,
    };
    let w = insn.rex_w();
    insn.imm_size = match imm {
        Imm::None => 0,
        Imm::B => 1,
        Imm::W => 2,
        Imm::Z if p.operand_size && !w => 2,
        Imm::Z | Imm::D => 4,
        Imm::V if w => 8,
        Imm::V if p.operand_size => 2,
        Imm::V => 4,
        Imm::Enter => 3,
        Imm::BB => 2,
    };
    insn.imm_offset = r.pos as u8;
    r.skip(usize::from(insn.imm_size))?;
    insn.len = r.pos as u8;
    Ok(insn)
}

/// ModRM presence and immediate kind of a legacy-encoded opcode.
fn legacy_operands(map: Map, op: u8, p: &Prefixes) -> Result<(bool, Imm), DecodeError> {
    use Imm::*;
    let invalid = Err(DecodeError::Invalid);
    Ok(match map {
        Map::OneByte => match op {
            // ALU ops: r/m forms, then AL/eAX with an immediate.
            0x00..=0x3f if op & 7 < 4 => (true, None),
            0x00..=0x3f if op & 7 == 4 => (false, B),
            0x00..=0x3f if op & 7 == 5 => (false, Z),
            // push/pop of segment registers, daa/das/aaa/aas: invalid in 64-bit mode.
            0x00..=0x3f => return invalid,
            0x50..=0x5f => (false, None),
            0x60..=0x62 => return invalid,
            0x63 => (true, None),
            0x68 => (false, Z),
            0x69 => (true, Z),
            0x6a => (false, B),
            0x6b => (true, B),
            0x6c..=0x6f => (false, None),
            0x70..=0x7f => (false, B),
            0x80 | 0x83 => (true, B),
            0x81 => (true, Z),
            0x82 => return invalid,
            0x84..=0x8f => (true, None),
            0x90..=0x99 => (false, None),
            0x9a => return invalid,
            0x9b..=0x9f => (false, None),
            0xa0..=0xa7 => (false, None),
            0xa8 => (false, B),
            0xa9 => (false, Z),
            0xaa..=0xaf => (false, None),
            0xb0..=0xb7 => (false, B),
            0xb8..=0xbf => (false, V),
            0xc0 | 0xc1 => (true, B),
            0xc2 => (false, W),
            0xc3 => (false, None),
            0xc6 => (true, B),
            0xc7 => (true, Z),
            0xc8 => (false, Enter),
            0xc9 => (false, None),
            0xca => (false, W),
            0xcb | 0xcc => (false, None),
            0xcd => (false, B),
            0xce => return invalid,
            0xcf => (false, None),
            0xd0..=0xd3 => (true, None),
            0xd4..=0xd6 => return invalid,
            0xd7 => (false, None),
            0xd8..=0xdf => (true, None),
            0xe0..=0xe7 => (false, B),
            0xe8 | 0xe9 => (false, Z),
            0xea => return invalid,
            0xeb => (false, B),
            0xec..=0xef | 0xf1 | 0xf4 | 0xf5 => (false, None),
            // Immediates of group 3 depend on ModRM.reg: see `decode`.
            0xf6 | 0xf7 => (true, None),
            0xf8..=0xfd => (false, None),
            0xfe | 0xff => (true, None),
            // Prefixes, REX, VEX/EVEX and 0f never reach here.
            _ => return invalid,
        },
        Map::TwoByte => match op {
            0x00..=0x03 | 0x0d => (true, None),
            0x05..=0x09 | 0x0b | 0x0e => (false, None),
            0x0f => (true, B),
            0x10..=0x23 | 0x28..=0x2f => (true, None),
            0x30..=0x35 | 0x37 => (false, None),
            0x40..=0x6f => (true, None),
            0x70..=0x73 => (true, B),
            0x74..=0x76 => (true, None),
            0x77 => (false, None),
            0x78 if p.operand_size || p.repne => (true, BB),
            0x78 | 0x79 | 0x7c..=0x7f => (true, None),
            0x80..=0x8f => (false, Z),
            0x90..=0x9f => (true, None),
            0xa0..=0xa2 | 0xa8..=0xaa => (false, None),
            // a6/a7: VIA PadLock (xsha*, xcrypt*, xstore), ModRM-form.
            0xa3 | 0xa5..=0xa7 | 0xab | 0xad..=0xb9 | 0xbb..=0xc1 | 0xc3 | 0xc7 => (true, None),
            0xa4 | 0xac | 0xba | 0xc2 | 0xc4..=0xc6 => (true, B),
            0xc8..=0xcf => (false, None),
            0xd0..=0xff => (true, None),
            _ => return invalid,
        },
        Map::ThreeByte38 => (true, None),
        Map::ThreeByte3A => (true, B),
        Map::Evex(_) | Map::Xop(_) => return invalid,
    })
}

/// ModRM presence and immediate kind of a VEX/EVEX/XOP-encoded opcode.
fn vector_operands(map: Map, op: u8) -> Result<(bool, Imm), DecodeError> {
    Ok(match map {
        // vzeroupper/vzeroall.
        Map::TwoByte if op == 0x77 => (false, Imm::None),
        Map::TwoByte => match op {
            0x70..=0x73 | 0xc2 | 0xc4..=0xc6 => (true, Imm::B),
            _ => (true, Imm::None),
        },
        Map::ThreeByte38 | Map::Evex(_) => (true, Imm::None),
        Map::ThreeByte3A | Map::Xop(8) => (true, Imm::B),
        Map::Xop(10) => (true, Imm::D),
        Map::Xop(_) => (true, Imm::None),
        Map::OneByte => return Err(DecodeError::Invalid),
    })
}

#[cfg(test)]
#[path = "decode/tests.rs"]
mod tests;
