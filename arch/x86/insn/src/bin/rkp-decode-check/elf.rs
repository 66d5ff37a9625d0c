//! Just enough ELF64 reading to find the executable sections of an x86-64 file.

/// An executable section: its name, address (0 in relocatable files) and bytes.
pub struct TextSection<'a> {
    pub name: String,
    pub addr: u64,
    pub bytes: &'a [u8],
}

const SHT_PROGBITS: u32 = 1;
const SHF_EXECINSTR: u64 = 4;
const EM_X86_64: u16 = 62;

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], o: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?))
}

/// The `SHT_PROGBITS` + `SHF_EXECINSTR` sections of an ELF64 little-endian x86-64 file.
pub fn text_sections(file: &[u8]) -> Result<Vec<TextSection<'_>>, String> {
    if file.get(..4) != Some(b"\x7fELF") || file.get(4) != Some(&2) || file.get(5) != Some(&1) {
        return Err("not a little-endian ELF64 file".into());
    }
    if u16_at(file, 18) != Some(EM_X86_64) {
        return Err("not an x86-64 ELF file".into());
    }
    let bad = || "truncated or malformed section headers".to_string();
    let shoff = u64_at(file, 0x28).ok_or_else(bad)? as usize;
    let shentsize = usize::from(u16_at(file, 0x3a).ok_or_else(bad)?);
    let shnum = usize::from(u16_at(file, 0x3c).ok_or_else(bad)?);
    let shstrndx = usize::from(u16_at(file, 0x3e).ok_or_else(bad)?);
    let header = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(file, header(shstrndx) + 24).ok_or_else(bad)? as usize;

    let mut sections = Vec::new();
    for i in 0..shnum {
        let h = header(i);
        let sh_type = u32_at(file, h + 4).ok_or_else(bad)?;
        let flags = u64_at(file, h + 8).ok_or_else(bad)?;
        if sh_type != SHT_PROGBITS || flags & SHF_EXECINSTR == 0 {
            continue;
        }
        let name_off = strtab + u32_at(file, h).ok_or_else(bad)? as usize;
        let name_len = file
            .get(name_off..)
            .and_then(|s| s.iter().position(|&c| c == 0))
            .ok_or_else(bad)?;
        let offset = u64_at(file, h + 24).ok_or_else(bad)? as usize;
        let size = u64_at(file, h + 32).ok_or_else(bad)? as usize;
        sections.push(TextSection {
            name: String::from_utf8_lossy(&file[name_off..name_off + name_len]).into_owned(),
            addr: u64_at(file, h + 16).ok_or_else(bad)?,
            bytes: file.get(offset..offset + size).ok_or_else(bad)?,
        });
    }
    Ok(sections)
}
