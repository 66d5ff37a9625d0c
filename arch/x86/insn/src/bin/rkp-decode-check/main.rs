//! `rkp-decode-check ELF`: decodes every instruction of an x86-64 ELF file's executable
//! sections with rkprobes' decoder and compares lengths and instruction boundaries with
//! `objdump -d` from binutils. Exits 1 on any mismatch.

mod elf;
mod objdump;

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};

use rkp_x86_insn::decode::{decode, MAX_INSN_LEN};

#[derive(Default)]
struct Counts {
    compared: u64,
    length_mismatches: u64,
    boundary_mismatches: u64,
    objdump_bad: u64,
    fwait_pairs: u64,
}

const SHOW: u64 = 25;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: rkp-decode-check ELF");
        return ExitCode::from(2);
    };
    match run(&path) {
        Ok(counts) => {
            let mismatches = counts.length_mismatches + counts.boundary_mismatches;
            println!(
                "{path}: {} instructions compared, {} length mismatches, {} boundary mismatches \
                 ({} that objdump could not decode skipped; {} fwait + x87 pairs that objdump \
                 prints as one)",
                counts.compared,
                counts.length_mismatches,
                counts.boundary_mismatches,
                counts.objdump_bad,
                counts.fwait_pairs
            );
            if mismatches == 0 && counts.compared > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("rkp-decode-check: {path}: {e}");
            ExitCode::from(2)
        }
    }
}

/// objdump prints `fwait` (`9b`) and the x87 instruction after it as one (`finit` is
/// `9b db e3`), but they are two instructions to the CPU, and to us.
fn is_fwait_pair(
    bytes: &[u8],
    ours: Result<usize, rkp_x86_insn::decode::DecodeError>,
    objdump_len: usize,
) -> bool {
    bytes.first() == Some(&0x9b)
        && ours == Ok(1)
        && decode(&bytes[1..]).is_ok_and(|next| usize::from(next.len) + 1 == objdump_len)
}

fn run(path: &str) -> Result<Counts, String> {
    let file = std::fs::read(path).map_err(|e| e.to_string())?;
    let sections = elf::text_sections(&file)?;
    let mut child = Command::new("objdump")
        .args(["-d", "-w", "-z", path])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run objdump: {e}"))?;
    let out = BufReader::new(child.stdout.take().expect("piped"));

    let mut counts = Counts::default();
    let mut section = None;
    // Where our own linear decoding of the section says the next instruction starts.
    let mut next_boundary = 0u64;
    for line in out.lines() {
        let line = line.map_err(|e| e.to_string())?;
        match objdump::parse(&line) {
            objdump::Parsed::Section(name) => {
                section = sections.iter().find(|s| s.name == name);
                next_boundary = section.map_or(0, |s| s.addr);
            }
            objdump::Parsed::Insn(insn) => {
                let Some(s) = section else { continue };
                if objdump::undecoded(&insn) {
                    counts.objdump_bad += 1;
                    next_boundary = insn.addr + insn.len as u64;
                    continue;
                }
                let offset = (insn.addr - s.addr) as usize;
                let end = (offset + MAX_INSN_LEN).min(s.bytes.len());
                let bytes = &s.bytes[offset..end];
                counts.compared += 1;
                if insn.addr != next_boundary {
                    counts.boundary_mismatches += 1;
                    if counts.boundary_mismatches <= SHOW {
                        println!("boundary: {}+{:#x}: objdump starts an instruction here, we did at {:#x}", s.name, insn.addr, next_boundary);
                    }
                }
                let ours = decode(bytes).map(|i| usize::from(i.len));
                if is_fwait_pair(bytes, ours, insn.len) {
                    counts.fwait_pairs += 1;
                } else if ours != Ok(insn.len) {
                    counts.length_mismatches += 1;
                    if counts.length_mismatches <= SHOW {
                        println!(
                            "length: {}+{:#x}: {:02x?}: objdump {} ({}), ours {:?}",
                            s.name,
                            insn.addr,
                            &bytes[..insn.len.min(bytes.len())],
                            insn.len,
                            insn.text,
                            ours
                        );
                    }
                }
                // Continue from objdump's boundary so that one mismatch is counted once.
                next_boundary = insn.addr + insn.len as u64;
            }
            objdump::Parsed::Other => {}
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("objdump failed: {status}"));
    }
    Ok(counts)
}
