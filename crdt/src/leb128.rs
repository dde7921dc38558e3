//! Unsigned LEB128, as automerge writes lengths and counts: seven bits a byte, low bits
//! first, the high bit set on every byte but the last. One reader for every place that
//! looks at automerge's bytes before automerge does.

/// The number at the start of `bytes` and how many bytes it took; `None` if `bytes` ends
/// first or the number takes more than ten bytes (more than 64 bits).
pub(crate) fn read_uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f).checked_shl(7 * i as u32)?;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// [`read_uleb128`] that moves `bytes` past the number.
pub(crate) fn take_uleb128(bytes: &mut &[u8]) -> Option<u64> {
    let (value, len) = read_uleb128(bytes)?;
    *bytes = &bytes[len..];
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_automerge_writes_them() {
        assert_eq!(read_uleb128(&[0x00]), Some((0, 1)));
        assert_eq!(read_uleb128(&[0x7f, 0xff]), Some((127, 1)));
        assert_eq!(read_uleb128(&[0xe5, 0x8e, 0x26]), Some((624_485, 3)));
        assert_eq!(
            read_uleb128(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Some((u64::MAX, 10))
        );
        assert_eq!(read_uleb128(&[]), None);
        assert_eq!(read_uleb128(&[0x80, 0x80]), None, "cut short");
        assert_eq!(read_uleb128(&[0x80; 11]), None, "over ten bytes");
        let mut rest: &[u8] = &[0x02, 0x81, 0x01, 0x09];
        assert_eq!(take_uleb128(&mut rest), Some(2));
        assert_eq!(take_uleb128(&mut rest), Some(129));
        assert_eq!(rest, &[0x09]);
    }
}
