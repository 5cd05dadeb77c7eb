//! A fast hand-rolled CSV row formatter (no `format!` in the hot loop).

use fairdrop_core::event::civil_from_days;

const B32: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// An output buffer with a cached date prefix.
pub(crate) struct Out {
    pub(crate) buf: Vec<u8>,
    day: i64,
    day_txt: [u8; 11],
}

impl Out {
    /// Reuse `buf` (cleared), growing it to at least `n` bytes of capacity.
    pub(crate) fn reuse(mut buf: Vec<u8>, n: usize) -> Self {
        buf.clear();
        buf.reserve(n);
        Out {
            buf,
            day: i64::MIN,
            day_txt: [0; 11],
        }
    }

    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    #[inline]
    pub(crate) fn str(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    #[inline]
    fn two(&mut self, v: i64) {
        self.buf.push(b'0' + (v / 10) as u8);
        self.buf.push(b'0' + (v % 10) as u8);
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (years 1000..=9999).
    pub(crate) fn timestamp(&mut self, t: i64) {
        let d = t.div_euclid(86_400);
        let s = t.rem_euclid(86_400);
        if d != self.day {
            let (y, m, dd) = civil_from_days(d);
            let y = y.clamp(0, 9999);
            let txt = &mut self.day_txt;
            txt[0] = b'0' + (y / 1000) as u8;
            txt[1] = b'0' + (y / 100 % 10) as u8;
            txt[2] = b'0' + (y / 10 % 10) as u8;
            txt[3] = b'0' + (y % 10) as u8;
            txt[4] = b'-';
            txt[5] = b'0' + (m / 10) as u8;
            txt[6] = b'0' + (m % 10) as u8;
            txt[7] = b'-';
            txt[8] = b'0' + (dd / 10) as u8;
            txt[9] = b'0' + (dd % 10) as u8;
            txt[10] = b'T';
            self.day = d;
        }
        self.buf.extend_from_slice(&self.day_txt);
        self.two(s / 3600);
        self.buf.push(b':');
        self.two(s / 60 % 60);
        self.buf.push(b':');
        self.two(s % 60);
        self.buf.push(b'Z');
    }

    /// Decimal digits of `v`.
    pub(crate) fn u128(&mut self, v: u128) {
        let mut tmp = [0u8; 40];
        let mut i = tmp.len();
        if let Ok(mut w) = u64::try_from(v) {
            loop {
                i -= 1;
                tmp[i] = b'0' + (w % 10) as u8;
                w /= 10;
                if w == 0 {
                    break;
                }
            }
        } else {
            let mut w = v;
            loop {
                i -= 1;
                tmp[i] = b'0' + (w % 10) as u8;
                w /= 10;
                if w == 0 {
                    break;
                }
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
    }

    /// 13 bech32-alphabet characters holding all 64 bits of `x`.
    pub(crate) fn b32_13(&mut self, x: u64) {
        let v = (x as u128) << 1;
        for k in (0..13).rev() {
            self.buf.push(B32[((v >> (5 * k)) & 31) as usize]);
        }
    }

    /// 16 lowercase hex digits of `x`.
    pub(crate) fn hex16(&mut self, x: u64) {
        for k in (0..16).rev() {
            self.buf.push(HEX[((x >> (4 * k)) & 15) as usize]);
        }
    }
}

/// `0x` + 40 lowercase hex digits from 20 bytes.
pub(crate) fn evm_text(bytes: &[u8; 20]) -> [u8; 42] {
    let mut t = [0u8; 42];
    t[0] = b'0';
    t[1] = b'x';
    for (i, b) in bytes.iter().enumerate() {
        t[2 + 2 * i] = HEX[(b >> 4) as usize];
        t[3 + 2 * i] = HEX[(b & 15) as usize];
    }
    t
}

/// Eight bech32-alphabet characters from `x` (short names for tokens and programs).
pub(crate) fn b32_8(x: u64) -> [u8; 8] {
    let mut t = [0u8; 8];
    for (k, c) in t.iter_mut().enumerate() {
        *c = B32[((x >> (5 * k)) & 31) as usize];
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use fairdrop_core::event::format_timestamp;

    #[test]
    fn matches_reference_formatting() {
        let mut o = Out::reuse(Vec::new(), 64);
        for t in [946_684_800i64, 1_717_199_999, 1_700_000_123, 4_102_444_799] {
            o.buf.clear();
            o.timestamp(t);
            assert_eq!(std::str::from_utf8(&o.buf).unwrap(), format_timestamp(t));
        }
        for v in [
            0u128,
            9,
            10,
            1_000_000,
            u64::MAX as u128,
            u64::MAX as u128 + 1,
            u128::MAX,
        ] {
            o.buf.clear();
            o.u128(v);
            assert_eq!(std::str::from_utf8(&o.buf).unwrap(), v.to_string());
        }
        o.buf.clear();
        o.hex16(0xdead_beef);
        assert_eq!(&o.buf, b"00000000deadbeef");
        o.buf.clear();
        o.b32_13(u64::MAX);
        assert_eq!(o.buf.len(), 13);
        assert_eq!(&evm_text(&[0xab; 20])[..6], b"0xabab");
    }
}
