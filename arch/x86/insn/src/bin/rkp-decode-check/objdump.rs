//! Reading `objdump -d -w -z` output: one instruction per line, with all its bytes.

/// An instruction as objdump printed it.
pub struct Line {
    /// Its address.
    pub addr: u64,
    /// How many bytes objdump shows for it.
    pub len: usize,
    /// The disassembly text.
    pub text: String,
}

/// What one line of objdump output says.
pub enum Parsed {
    /// `Disassembly of section NAME:`.
    Section(String),
    /// An instruction.
    Insn(Line),
    /// Anything else (symbol labels, blank lines, headers).
    Other,
}

/// Whether objdump could not decode the bytes of `line`: it says `(bad)`, shows them as
/// `.byte`, or shows a lone REX prefix (no instruction is only that). It does so where an
/// instruction is invalid or runs into the next symbol, as the deliberately overlapping
/// instructions of the SRSO and retbleed untraining sequences do.
pub fn undecoded(line: &Line) -> bool {
    line.text.contains("(bad)")
        || line.text.starts_with(".byte")
        || (line.len == 1 && line.text.starts_with("rex"))
}

/// Parses one line of `objdump -d -w` output.
pub fn parse(line: &str) -> Parsed {
    if let Some(name) = line
        .strip_prefix("Disassembly of section ")
        .and_then(|l| l.strip_suffix(':'))
    {
        return Parsed::Section(name.to_string());
    }
    // "ffffffff81000000:\tf3 0f 1e fa          \tendbr64"
    let mut fields = line.splitn(3, '\t');
    let (Some(addr), Some(bytes)) = (fields.next(), fields.next()) else {
        return Parsed::Other;
    };
    let Some(addr) = addr
        .trim()
        .strip_suffix(':')
        .and_then(|a| u64::from_str_radix(a, 16).ok())
    else {
        return Parsed::Other;
    };
    let len = bytes.split_whitespace().count();
    if len == 0
        || !bytes
            .split_whitespace()
            .all(|b| b.len() == 2 && u8::from_str_radix(b, 16).is_ok())
    {
        return Parsed::Other;
    }
    Parsed::Insn(Line {
        addr,
        len,
        text: fields.next().unwrap_or("").trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, len: usize) -> Line {
        Line {
            addr: 0,
            len,
            text: text.to_string(),
        }
    }

    #[test]
    fn what_objdump_could_not_decode() {
        assert!(undecoded(&line("(bad)", 1)));
        assert!(undecoded(&line(".byte 0xb8", 1)));
        assert!(undecoded(&line("rex.W", 1)));
        assert!(!undecoded(&line("rex.W mov %rax,%rbx", 3)));
        assert!(!undecoded(&line("nop", 1)));
    }
}
