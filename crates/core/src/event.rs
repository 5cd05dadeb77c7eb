//! The canonical activity row and the field rules of `shared/spec/activity-schema.md`.
//!
//! [`Event::from_fields`] turns the raw text of one input row (from CSV, JSONL or Parquet)
//! into an [`Event`] or a [`FieldError`] whose `rule()` is the stable code written to the
//! quarantine file.

use crate::actions::{is_valid_action, is_valid_chain, TRANSFER};
use crate::address::{Address, AddressCache, AddressError};

/// Earliest accepted timestamp: 2000-01-01T00:00:00Z.
pub const MIN_TIMESTAMP: i64 = 946_684_800;
/// Latest accepted timestamp (exclusive): 2100-01-01T00:00:00Z.
pub const MAX_TIMESTAMP: i64 = 4_102_444_800;

/// One row of the canonical activity table. `A` is how addresses are held: [`Address`] by
/// default, or e.g. an interned id in a stage that resolves addresses itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event<A = Address> {
    /// UTC seconds since the Unix epoch.
    pub timestamp: i64,
    pub chain: String,
    pub tx_id: Option<String>,
    pub address: A,
    pub action: String,
    pub counterparty: Option<A>,
    /// Base units.
    pub amount: Option<u128>,
    pub asset: Option<String>,
    pub program: Option<String>,
}

/// The raw text of one row's fields, as read (None = column absent or cell empty).
#[derive(Clone, Copy, Debug, Default)]
pub struct RawFields<'a> {
    pub timestamp: Option<&'a str>,
    pub chain: Option<&'a str>,
    pub tx_id: Option<&'a str>,
    pub address: Option<&'a str>,
    pub action: Option<&'a str>,
    pub counterparty: Option<&'a str>,
    pub amount: Option<&'a str>,
    pub asset: Option<&'a str>,
    pub program: Option<&'a str>,
}

/// Why a row is rejected. `rule()` is the stable code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("required field `{0}` is empty")]
    Missing(&'static str),
    #[error("timestamp {0:?} is neither RFC 3339 nor integer Unix seconds")]
    TimestampFormat(String),
    #[error("timestamp {0:?} is outside 2000-01-01 .. 2100-01-01")]
    TimestampRange(String),
    #[error("chain {0:?} does not match [a-z0-9_-]{{1,32}}")]
    Chain(String),
    #[error("action {0:?} does not match [a-z][a-z0-9_]{{0,31}}")]
    Action(String),
    #[error("{field} is not 1..{max} printable ASCII characters")]
    Text {
        field: &'static str,
        max: usize,
        rule: &'static str,
    },
    #[error("address: {0}")]
    Address(AddressError),
    #[error("counterparty: {0}")]
    Counterparty(AddressError),
    #[error("a transfer needs a counterparty")]
    TransferWithoutCounterparty,
    #[error("amount {0:?} is negative")]
    AmountNegative(String),
    #[error("amount {0:?} is fractional; amounts are integer base units")]
    AmountFractional(String),
    #[error("amount {0:?} uses an exponent; write the integer in full")]
    AmountExponent(String),
    #[error("amount {0:?} exceeds 2^128-1")]
    AmountOverflow(String),
    #[error("amount {0:?} is not a decimal integer")]
    AmountFormat(String),
    #[error("field contains a NUL byte")]
    Nul,
}

impl FieldError {
    pub fn rule(&self) -> &'static str {
        match self {
            FieldError::Missing(f) => match *f {
                "timestamp" => "timestamp.missing",
                "chain" => "chain.missing",
                "address" => "address.missing",
                "action" => "action.missing",
                _ => "field.missing",
            },
            FieldError::TimestampFormat(_) => "timestamp.format",
            FieldError::TimestampRange(_) => "timestamp.range",
            FieldError::Chain(_) => "chain.format",
            FieldError::Action(_) => "action.format",
            FieldError::Text { rule, .. } => rule,
            FieldError::Address(e) => e.rule(),
            FieldError::Counterparty(e) => match e.rule() {
                r if r.starts_with("address.") => counterparty_rule(r),
                r => r,
            },
            FieldError::TransferWithoutCounterparty => "counterparty.missing",
            FieldError::AmountNegative(_) => "amount.negative",
            FieldError::AmountFractional(_) => "amount.fractional",
            FieldError::AmountExponent(_) => "amount.exponent",
            FieldError::AmountOverflow(_) => "amount.overflow",
            FieldError::AmountFormat(_) => "amount.format",
            FieldError::Nul => "field.nul",
        }
    }
}

fn counterparty_rule(address_rule: &'static str) -> &'static str {
    // Same rule names under the `counterparty.` prefix, kept static.
    match address_rule {
        "address.empty" => "counterparty.empty",
        "address.too_long" => "counterparty.too_long",
        "address.unknown_format" => "counterparty.unknown_format",
        "address.evm.length" => "counterparty.evm.length",
        "address.evm.hex" => "counterparty.evm.hex",
        "address.evm.eip55" => "counterparty.evm.eip55",
        "address.aleo.length" => "counterparty.aleo.length",
        "address.aleo.checksum" => "counterparty.aleo.checksum",
        "address.aleo.bech32_not_bech32m" => "counterparty.aleo.bech32_not_bech32m",
        "address.aleo.hrp" => "counterparty.aleo.hrp",
        "address.aleo.malformed" => "counterparty.aleo.malformed",
        "address.aleo.payload_length" => "counterparty.aleo.payload_length",
        "address.aleo.padding" => "counterparty.aleo.padding",
        "address.aleo.x_above_modulus" => "counterparty.aleo.x_above_modulus",
        "address.aleo.off_curve" => "counterparty.aleo.off_curve",
        _ => "counterparty.invalid",
    }
}

fn nz(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

impl Event {
    /// Validate one row's raw fields. Empty strings count as absent.
    pub fn from_fields(raw: &RawFields<'_>, cache: &mut AddressCache) -> Result<Event, FieldError> {
        Event::from_fields_with(raw, &mut |s| cache.parse(s))
    }
}

impl<A> Event<A> {
    /// Validate one row's raw fields, resolving addresses with `resolve` (which applies the
    /// address rules, e.g. through a cache). Rules are checked in column order: timestamp,
    /// chain, address, action, tx_id, counterparty, amount, asset, program.
    pub fn from_fields_with(
        raw: &RawFields<'_>,
        resolve: &mut dyn FnMut(&str) -> Result<A, AddressError>,
    ) -> Result<Event<A>, FieldError> {
        let c = CheckedRow::check(raw, resolve)?;
        Ok(Event {
            timestamp: c.timestamp,
            chain: c.chain.to_string(),
            tx_id: c.tx_id.map(str::to_string),
            address: c.address,
            action: c.action.to_string(),
            counterparty: c.counterparty,
            amount: c.amount,
            asset: c.asset.map(str::to_string),
            program: c.program.map(str::to_string),
        })
    }
}

/// A row that passed every rule, borrowing its text from the raw fields (no allocation):
/// what a high-volume reader such as ingest works with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedRow<'a, A> {
    pub timestamp: i64,
    pub chain: &'a str,
    pub tx_id: Option<&'a str>,
    pub address: A,
    pub action: &'a str,
    pub counterparty: Option<A>,
    pub amount: Option<u128>,
    pub asset: Option<&'a str>,
    pub program: Option<&'a str>,
}

fn text_ref<'a>(
    v: Option<&'a str>,
    field: &'static str,
    max: usize,
    rule: &'static str,
) -> Result<Option<&'a str>, FieldError> {
    match v {
        None => Ok(None),
        Some(s) if s.len() <= max && printable(s.as_bytes()) => Ok(Some(s)),
        Some(_) => Err(FieldError::Text { field, max, rule }),
    }
}

impl<'a, A> CheckedRow<'a, A> {
    /// Apply every rule of the schema, in column order: timestamp, chain, address, action,
    /// tx_id, counterparty, amount, asset, program. Empty strings count as absent.
    pub fn check(
        raw: &RawFields<'a>,
        resolve: &mut dyn FnMut(&str) -> Result<A, AddressError>,
    ) -> Result<CheckedRow<'a, A>, FieldError> {
        let all = [
            raw.timestamp,
            raw.chain,
            raw.tx_id,
            raw.address,
            raw.action,
            raw.counterparty,
            raw.amount,
            raw.asset,
            raw.program,
        ];
        if all.iter().flatten().any(|s| has_nul(s.as_bytes())) {
            return Err(FieldError::Nul);
        }
        let ts = nz(raw.timestamp).ok_or(FieldError::Missing("timestamp"))?;
        let timestamp = parse_timestamp(ts)?;
        let chain = nz(raw.chain).ok_or(FieldError::Missing("chain"))?;
        if !is_valid_chain(chain) {
            return Err(FieldError::Chain(chain.to_string()));
        }
        let address_s = nz(raw.address).ok_or(FieldError::Missing("address"))?;
        let address = resolve(address_s).map_err(FieldError::Address)?;
        let action = nz(raw.action).ok_or(FieldError::Missing("action"))?;
        if !is_valid_action(action) {
            return Err(FieldError::Action(action.to_string()));
        }
        let tx_id = text_ref(nz(raw.tx_id), "tx_id", 128, "tx_id.format")?;
        let counterparty = match nz(raw.counterparty) {
            Some(c) => Some(resolve(c).map_err(FieldError::Counterparty)?),
            None => None,
        };
        if action == TRANSFER && counterparty.is_none() {
            return Err(FieldError::TransferWithoutCounterparty);
        }
        let amount = match nz(raw.amount) {
            Some(a) => Some(parse_amount(a)?),
            None => None,
        };
        let asset = text_ref(nz(raw.asset), "asset", 64, "asset.format")?;
        let program = text_ref(nz(raw.program), "program", 64, "program.format")?;
        Ok(CheckedRow {
            timestamp,
            chain,
            tx_id,
            address,
            action,
            counterparty,
            amount,
            asset,
            program,
        })
    }
}

/// What [`CheckedRow::precheck`] found in a row: every rule but the two address lookups
/// passed, and these are the parsed values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prechecked {
    pub timestamp: i64,
    pub amount: Option<u128>,
}

impl<'a> CheckedRow<'a, ()> {
    /// Every rule that needs no address lookup (the costly, stateful part), so a reader can
    /// run it on another thread. `Ok` means [`CheckedRow::from_prechecked`] on the same
    /// fields gives exactly what [`CheckedRow::check`] gives; on `Err`, call `check` for the
    /// verdict (an address rule may come first in column order).
    pub fn precheck(raw: &RawFields<'a>) -> Result<Prechecked, FieldError> {
        let r = Self::check(raw, &mut |_| Ok(()))?;
        Ok(Prechecked {
            timestamp: r.timestamp,
            amount: r.amount,
        })
    }
}

impl<'a, A> CheckedRow<'a, A> {
    /// Finish a row whose [`CheckedRow::precheck`] passed: resolve the address, then the
    /// counterparty (their column order), and take the rest as checked.
    pub fn from_prechecked(
        raw: &RawFields<'a>,
        pre: Prechecked,
        resolve: &mut dyn FnMut(&str) -> Result<A, AddressError>,
    ) -> Result<CheckedRow<'a, A>, FieldError> {
        let address = resolve(nz(raw.address).unwrap_or("")).map_err(FieldError::Address)?;
        let counterparty = match nz(raw.counterparty) {
            Some(c) => Some(resolve(c).map_err(FieldError::Counterparty)?),
            None => None,
        };
        Ok(CheckedRow {
            timestamp: pre.timestamp,
            chain: nz(raw.chain).unwrap_or(""),
            tx_id: nz(raw.tx_id),
            address,
            action: nz(raw.action).unwrap_or(""),
            counterparty,
            amount: pre.amount,
            asset: nz(raw.asset),
            program: nz(raw.program),
        })
    }
}

/// Whether `b` holds a NUL byte: 8 bytes at a time, inline (fields are short, and a
/// `memchr` call per field, nine a row, cost more than the scan).
#[inline]
/// Every byte is printable ASCII (0x20 to 0x7e), checked a word at a time: the byte loop
/// was the parser thread's largest cost in `precheck` (tx_id, asset and program of every row).
fn printable(b: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    // No byte at or above 0x80, none below 0x20 (exact once the first test passed), and
    // none equal to 0x7f.
    let ok = |w: u64| {
        w & HI == 0
            && w.wrapping_sub(0x20 * LO) & !w & HI == 0
            && (w ^ (0x7f * LO)).wrapping_sub(LO) & !(w ^ (0x7f * LO)) & HI == 0
    };
    let word = |c: &[u8]| u64::from_le_bytes(c.try_into().expect("8 bytes"));
    if b.len() < 8 {
        return b.iter().all(|c| (0x20..0x7f).contains(c));
    }
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        if !ok(word(c)) {
            return false;
        }
    }
    // The last 8 bytes, overlapping the chunks already checked.
    chunks.remainder().is_empty() || ok(word(&b[b.len() - 8..]))
}

fn has_nul(b: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        if w.wrapping_sub(LO) & !w & HI != 0 {
            return true;
        }
    }
    chunks.remainder().contains(&0)
}

/// A non-negative decimal integer up to 2^128-1. No sign, point, exponent or spaces.
pub fn parse_amount(s: &str) -> Result<u128, FieldError> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(FieldError::AmountFormat(s.to_string()));
    }
    if b.iter().all(u8::is_ascii_digit) {
        // Up to 19 digits fit a u64, whose arithmetic is cheaper than checked u128 steps.
        if b.len() <= 19 {
            return Ok(b.iter().fold(0u64, |v, &c| v * 10 + (c - b'0') as u64) as u128);
        }
        let mut v: u128 = 0;
        for &c in b {
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add((c - b'0') as u128))
                .ok_or_else(|| FieldError::AmountOverflow(s.to_string()))?;
        }
        return Ok(v);
    }
    let shown = || s.chars().take(64).collect::<String>();
    if b[0] == b'-' {
        return Err(FieldError::AmountNegative(shown()));
    }
    let digits_or = |extra: &[u8]| b.iter().all(|c| c.is_ascii_digit() || extra.contains(c));
    if b.iter().any(|c| *c == b'e' || *c == b'E') && digits_or(b"eE+-.") {
        return Err(FieldError::AmountExponent(shown()));
    }
    if b.contains(&b'.') && digits_or(b".") {
        return Err(FieldError::AmountFractional(shown()));
    }
    Err(FieldError::AmountFormat(shown()))
}

/// RFC 3339 (`2024-01-31T12:00:00Z`, any offset, optional fraction which is truncated to the
/// second) or integer Unix seconds. Returns UTC seconds, within 2000..2100.
pub fn parse_timestamp(s: &str) -> Result<i64, FieldError> {
    let b = s.as_bytes();
    let v = if !b.is_empty() && b.len() <= 12 && b.iter().all(u8::is_ascii_digit) {
        s.parse::<i64>()
            .map_err(|_| FieldError::TimestampFormat(short(s)))?
    } else if b.len() > 1 && b[0] == b'-' && b.len() <= 13 && b[1..].iter().all(u8::is_ascii_digit)
    {
        return Err(FieldError::TimestampRange(short(s)));
    } else {
        parse_rfc3339(b).ok_or_else(|| FieldError::TimestampFormat(short(s)))?
    };
    if !(MIN_TIMESTAMP..MAX_TIMESTAMP).contains(&v) {
        return Err(FieldError::TimestampRange(short(s)));
    }
    Ok(v)
}

fn short(s: &str) -> String {
    s.chars().take(64).collect()
}

fn num(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |a, c| a * 10 + (c - b'0') as i64))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Format UTC seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_timestamp(t: i64) -> String {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn parse_rfc3339(b: &[u8]) -> Option<i64> {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, mo, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, s) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if !(1..=12).contains(&mo) || d < 1 || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mdays = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > mdays[(mo - 1) as usize] {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || i - start > 9 {
            return None;
        }
    }
    let offset = match &b[i..] {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), hh @ .., b':', m1, m2] if hh.len() == 2 => {
            let oh = num(hh)?;
            let om = num(&[*m1, *m2])?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let s = s.min(59); // a leap second counts as the last second of its minute
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("2024-01-31T12:00:00Z").unwrap(), 1706702400);
        assert_eq!(
            parse_timestamp("2024-01-31T14:00:00+02:00").unwrap(),
            1706702400
        );
        assert_eq!(
            parse_timestamp("2024-01-31 12:00:00.123456z").unwrap(),
            1706702400
        );
        assert_eq!(parse_timestamp("1706702400").unwrap(), 1706702400);
        assert_eq!(format_timestamp(1706702400), "2024-01-31T12:00:00Z");
        for bad in [
            "2024-01-31",
            "31/01/2024 12:00",
            "2024-02-30T00:00:00Z",
            "2024-01-31T12:00:00",
            "1.7e9",
            "now",
        ] {
            assert_eq!(
                parse_timestamp(bad).unwrap_err().rule(),
                "timestamp.format",
                "{bad}"
            );
        }
        for bad in [
            "1899-01-01T00:00:00Z",
            "2150-01-01T00:00:00Z",
            "5",
            "-100",
            "99999999999",
        ] {
            assert_eq!(
                parse_timestamp(bad).unwrap_err().rule(),
                "timestamp.range",
                "{bad}"
            );
        }
    }

    #[test]
    fn civil_round_trip() {
        for d in -1000..30000 {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("0").unwrap(), 0);
        assert_eq!(parse_amount(&u128::MAX.to_string()).unwrap(), u128::MAX);
        let over = "340282366920938463463374607431768211456";
        assert_eq!(parse_amount(over).unwrap_err().rule(), "amount.overflow");
        assert_eq!(parse_amount("-5").unwrap_err().rule(), "amount.negative");
        assert_eq!(parse_amount("1.5").unwrap_err().rule(), "amount.fractional");
        assert_eq!(parse_amount("1e6").unwrap_err().rule(), "amount.exponent");
        assert_eq!(
            parse_amount("1.2E+3").unwrap_err().rule(),
            "amount.exponent"
        );
        assert_eq!(parse_amount("12 ALEO").unwrap_err().rule(), "amount.format");
        assert_eq!(parse_amount("+5").unwrap_err().rule(), "amount.format");
    }

    proptest::proptest! {
        /// Plain decimals parse to what `str::parse::<u128>` gives, on both sides of the
        /// 19-digit u64 path; anything else is refused.
        #[test]
        fn amounts_match_std(a in "[0-9]{1,40}|[+-]?[0-9]{0,20}[. eEx/:]?[0-9]{0,5}") {
            let plain = !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit());
            match (parse_amount(&a), a.parse::<u128>()) {
                (Ok(v), Ok(w)) => proptest::prop_assert!(plain && v == w, "{:?}", a),
                (Err(_), Ok(_)) => proptest::prop_assert!(!plain, "{:?}", a),
                (Ok(_), Err(_)) => proptest::prop_assert!(false, "{:?} accepted", a),
                (Err(_), Err(_)) => {}
            }
        }
    }

    #[test]
    fn row_rules() {
        let mut c = AddressCache::new();
        let good = RawFields {
            timestamp: Some("2024-03-01T00:00:00Z"),
            chain: Some("aleo"),
            tx_id: Some("at1xyz"),
            address: Some("aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf"),
            action: Some("transfer"),
            counterparty: Some("aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add"),
            amount: Some("1000000"),
            asset: Some("credits"),
            program: Some("credits.aleo"),
        };
        let e = Event::from_fields(&good, &mut c).unwrap();
        assert_eq!(e.amount, Some(1_000_000));
        let r = |f: RawFields| {
            Event::from_fields(&f, &mut AddressCache::new())
                .unwrap_err()
                .rule()
        };
        assert_eq!(
            r(RawFields {
                counterparty: None,
                ..good
            }),
            "counterparty.missing"
        );
        assert_eq!(
            r(RawFields {
                counterparty: Some("0x12"),
                ..good
            }),
            "counterparty.evm.length"
        );
        assert_eq!(
            r(RawFields {
                chain: Some("Aleo"),
                ..good
            }),
            "chain.format"
        );
        assert_eq!(
            r(RawFields {
                action: None,
                ..good
            }),
            "action.missing"
        );
        assert_eq!(
            r(RawFields {
                tx_id: Some(&"a".repeat(129)),
                ..good
            }),
            "tx_id.format"
        );
        assert_eq!(
            r(RawFields {
                program: Some("a\u{0}b"),
                ..good
            }),
            "field.nul"
        );
        assert_eq!(
            r(RawFields {
                asset: Some("crédits"),
                ..good
            }),
            "asset.format"
        );
    }

    proptest::proptest! {
        #[test]
        fn field_parsers_never_panic(s in "\\PC{0,64}") {
            let _ = parse_amount(&s);
            let _ = parse_timestamp(&s);
        }

        /// Any digit string parses to its value or overflows, exactly as u128 arithmetic
        /// says (both sides of the 19-digit u64 fast path).
        #[test]
        fn amount_digits_parse_exactly(s in "[0-9]{1,45}") {
            let want = s.parse::<u128>().ok();
            proptest::prop_assert_eq!(parse_amount(&s).ok(), want);
        }

        /// The word-wise NUL scan agrees with a byte search, NUL at any place and length.
        #[test]
        fn printable_agrees(
            mut b in proptest::collection::vec(0x20u8..0x7f, 0..40),
            at in proptest::option::of(0usize..40),
            bad in proptest::prop_oneof![0u8..0x20, proptest::strategy::Just(0x7f), 0x80u8..=0xff],
        ) {
            if let Some(i) = at.filter(|i| *i < b.len()) {
                b[i] = bad;
            }
            proptest::prop_assert_eq!(
                printable(&b),
                b.iter().all(|c| (0x20..0x7f).contains(c))
            );
        }

        #[test]
        fn has_nul_agrees(mut b in proptest::collection::vec(1u8.., 0..40), at in proptest::option::of(0usize..40)) {
            if let Some(i) = at.filter(|i| *i < b.len()) {
                b[i] = 0;
            }
            proptest::prop_assert_eq!(has_nul(&b), b.contains(&0));
        }
    }
}

#[cfg(test)]
mod precheck_tests {
    use super::*;
    use proptest::prelude::*;

    /// Mostly a good value, sometimes a bad or empty one, sometimes none: rows where one or
    /// two columns break rules together are common.
    fn pick(
        good: &'static [&'static str],
        bad: &'static [&'static str],
    ) -> impl Strategy<Value = Option<&'static str>> {
        prop_oneof![
            8 => proptest::sample::select(good).prop_map(Some),
            1 => proptest::sample::select(bad).prop_map(Some),
            1 => Just(None),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// precheck + from_prechecked is `check`, verdict for verdict, on rows mixing good
        /// and bad values in every column (so rules of several columns fail together).
        #[test]
        fn same_verdict_as_check(
            timestamp in pick(&["2024-03-01T00:00:00Z", "1706702400"], &["yesterday", "5", ""]),
            chain in pick(&["aleo", "ethereum"], &["moon", ""]),
            tx_id in pick(&["at1xyz", "0xabc"], &["bad\u{7f}", ""]),
            address in pick(
                &[
                    "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf",
                    "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f",
                ],
                &["aleo1bad", ""],
            ),
            action in pick(&["transfer", "swap"], &["teleport", ""]),
            counterparty in pick(
                &["aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add"],
                &["0xNOPE", ""],
            ),
            amount in pick(&["1000000"], &["-1", "1.5", ""]),
            asset in pick(&["credits"], &["nul\0", ""]),
            program in pick(&["credits.aleo"], &[""]),
        ) {
            let raw = RawFields {
                timestamp, chain, tx_id, address, action, counterparty, amount, asset, program,
            };
            let mut resolve = |s: &str| s.parse::<Address>();
            let full = CheckedRow::check(&raw, &mut resolve);
            let split = match CheckedRow::precheck(&raw) {
                Ok(p) => CheckedRow::from_prechecked(&raw, p, &mut resolve),
                Err(_) => CheckedRow::check(&raw, &mut resolve),
            };
            prop_assert_eq!(full, split);
        }
    }
}
