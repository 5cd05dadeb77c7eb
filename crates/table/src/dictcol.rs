//! A Parquet column-chunk writer for columns handed over as dictionary ids.
//!
//! `ArrowColumnWriter` re-interns every row of a `DictionaryArray` column: it hashes each
//! row's string and compares it with the string found (a 63-byte address, twice a row for
//! `address` and `counterparty`), building a dictionary the caller already had. That was
//! most of the Parquet encoding work in ingest. This writer takes the ids instead: a row
//! group's dictionary is the values its rows name, in order of first appearance (what
//! `ArrowColumnWriter` builds too), and each row's index into it is a table lookup.
//!
//! The chunk is a PLAIN dictionary page, then RLE_DICTIONARY data pages of at most
//! [`PAGE_ROWS`] rows (definition levels RLE-encoded, data page v1), uncompressed, with an
//! offset index, and min/max statistics when asked for. Readers see the same column as
//! before; only the page boundaries and run encoding may differ.

use arrow_array::types::UInt32Type;
use arrow_array::{Array, DictionaryArray, StringArray};
use bytes::Bytes;
use parquet::basic::{Compression, Encoding, EncodingMask, PageType};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::data_type::ByteArray;
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ColumnChunkMetaData, OffsetIndexBuilder, PageEncodingStats};
use parquet::file::statistics::Statistics;
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

/// Rows per data page (`ArrowWriter`'s default row limit).
pub const PAGE_ROWS: usize = 20_000;

/// Local index meaning "not in this row group yet".
const UNSEEN: u32 = u32::MAX;

pub struct DictColumnWriter {
    descr: ColumnDescPtr,
    nullable: bool,
    stats: bool,
    /// The dictionary every batch's keys index (the same array for every batch).
    values: Option<StringArray>,
    /// Global id → index in this row group's dictionary (`UNSEEN`).
    local: Vec<u32>,
    /// This row group's dictionary: global ids in order of first appearance.
    used: Vec<u32>,
    /// Dictionary index of each non-null row.
    idx: Vec<u32>,
    /// Definition level (1: a value) of each row, for a nullable column.
    def: Vec<bool>,
    rows: usize,
}

impl DictColumnWriter {
    pub fn new(descr: ColumnDescPtr, stats: bool) -> Self {
        let nullable = descr.max_def_level() > 0;
        Self {
            descr,
            nullable,
            stats,
            values: None,
            local: Vec::new(),
            used: Vec::new(),
            idx: Vec::new(),
            def: Vec::new(),
            rows: 0,
        }
    }

    /// Add the rows of `a`, a `Dictionary(UInt32, Utf8)` array.
    pub fn write(&mut self, a: &dyn Array) -> Result<()> {
        let a = a
            .as_any()
            .downcast_ref::<DictionaryArray<UInt32Type>>()
            .ok_or_else(|| ParquetError::General("not a UInt32 dictionary column".into()))?;
        let values = a
            .values()
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| ParquetError::General("dictionary values are not UTF-8".into()))?;
        match &self.values {
            // The same array every batch (ids index it): same length and buffers.
            Some(v)
                if v.len() == values.len()
                    && v.values().as_ptr() == values.values().as_ptr()
                    && v.offsets().as_ptr() == values.offsets().as_ptr() => {}
            Some(_) => {
                return Err(ParquetError::General(
                    "dictionary changed between batches".into(),
                ))
            }
            None => {
                self.values = Some(values.clone());
                self.local = vec![UNSEEN; values.len()];
            }
        }
        if !self.nullable && a.null_count() > 0 {
            return Err(ParquetError::General(format!(
                "null in required column {}",
                self.descr.name()
            )));
        }
        let keys = a.keys();
        for i in 0..a.len() {
            if a.is_null(i) {
                self.def.push(false);
                continue;
            }
            if self.nullable {
                self.def.push(true);
            }
            let g = keys.value(i) as usize;
            let slot = self
                .local
                .get_mut(g)
                .ok_or_else(|| ParquetError::General("dictionary key out of range".into()))?;
            if *slot == UNSEEN {
                *slot = self.used.len() as u32;
                self.used.push(g as u32);
            }
            self.idx.push(*slot);
        }
        self.rows += a.len();
        Ok(())
    }

    /// Encode the row group's chunk: its bytes (offsets relative to their start) and what
    /// the row group writer needs to append them. The writer is ready for the next group.
    pub fn close(&mut self) -> Result<(Bytes, ColumnCloseResult)> {
        let values = self
            .values
            .clone()
            .unwrap_or_else(|| StringArray::from(Vec::<&str>::new()));
        let mut sink = TrackedWrite::new(Vec::new());
        let mut pages = SerializedPageWriter::new(&mut sink);
        let mut uncompressed = 0usize;
        let mut compressed = 0usize;

        // Dictionary page: PLAIN, each value as u32 length + bytes.
        let mut dict = Vec::new();
        for &g in &self.used {
            let s = values.value(g as usize).as_bytes();
            dict.extend_from_slice(&(s.len() as u32).to_le_bytes());
            dict.extend_from_slice(s);
        }
        let n = dict.len();
        let spec = pages.write_page(CompressedPage::new(
            Page::DictionaryPage {
                buf: Bytes::from(dict),
                num_values: self.used.len() as u32,
                encoding: Encoding::PLAIN,
                is_sorted: false,
            },
            n,
        ))?;
        let dict_offset = spec.offset as i64;
        uncompressed += spec.uncompressed_size;
        compressed += spec.compressed_size;

        let bit_width = (64 - (self.used.len().saturating_sub(1) as u64).leading_zeros()) as u8;
        let mut offsets = OffsetIndexBuilder::new();
        let mut data_offset = None;
        let mut n_pages = 0;
        let (mut row, mut value) = (0usize, 0usize);
        let mut buf = Vec::new();
        let mut scratch = Vec::new();
        while row < self.rows {
            let page_rows = PAGE_ROWS.min(self.rows - row);
            buf.clear();
            let present = if self.nullable {
                let levels: Vec<u32> = self.def[row..row + page_rows]
                    .iter()
                    .map(|&d| d as u32)
                    .collect();
                scratch.clear();
                encode_hybrid(&levels, 1, &mut scratch);
                buf.extend_from_slice(&(scratch.len() as u32).to_le_bytes());
                buf.extend_from_slice(&scratch);
                levels.iter().filter(|&&d| d == 1).count()
            } else {
                page_rows
            };
            buf.push(bit_width);
            encode_hybrid(&self.idx[value..value + present], bit_width, &mut buf);
            let n = buf.len();
            let spec = pages.write_page(CompressedPage::new(
                Page::DataPage {
                    buf: Bytes::copy_from_slice(&buf),
                    num_values: page_rows as u32,
                    encoding: Encoding::RLE_DICTIONARY,
                    def_level_encoding: Encoding::RLE,
                    rep_level_encoding: Encoding::RLE,
                    statistics: None,
                },
                n,
            ))?;
            data_offset.get_or_insert(spec.offset as i64);
            offsets.append_offset_and_size(spec.offset as i64, spec.compressed_size as i32);
            offsets.append_row_count(page_rows as i64);
            uncompressed += spec.uncompressed_size;
            compressed += spec.compressed_size;
            n_pages += 1;
            row += page_rows;
            value += present;
        }
        pages.close()?;
        let bytes = Bytes::from(sink.into_inner()?);

        let mut meta = ColumnChunkMetaData::builder(self.descr.clone())
            .set_compression(Compression::UNCOMPRESSED)
            .set_encodings_mask(EncodingMask::new_from_encodings(
                [Encoding::PLAIN, Encoding::RLE, Encoding::RLE_DICTIONARY].iter(),
            ))
            .set_page_encoding_stats(
                [
                    (PageType::DICTIONARY_PAGE, Encoding::PLAIN, 1),
                    (PageType::DATA_PAGE, Encoding::RLE_DICTIONARY, n_pages),
                ]
                .into_iter()
                .filter(|s| s.2 > 0)
                .map(|(page_type, encoding, count)| PageEncodingStats {
                    page_type,
                    encoding,
                    count,
                })
                .collect(),
            )
            .set_total_compressed_size(compressed as i64)
            .set_total_uncompressed_size(uncompressed as i64)
            .set_num_values(self.rows as i64)
            .set_data_page_offset(data_offset.unwrap_or(dict_offset))
            .set_dictionary_page_offset(Some(dict_offset));
        if self.stats {
            let nulls = self.def.iter().filter(|d| !**d).count() as u64;
            let mut it = self.used.iter().map(|&g| values.value(g as usize));
            let (min, max) = match it.next() {
                Some(first) => {
                    let (lo, hi) = it.fold((first, first), |(lo, hi), s| (lo.min(s), hi.max(s)));
                    (Some(ByteArray::from(lo)), Some(ByteArray::from(hi)))
                }
                None => (None, None),
            };
            meta = meta.set_statistics(Statistics::byte_array(min, max, None, Some(nulls), false));
        }
        let close = ColumnCloseResult {
            bytes_written: bytes.len() as u64,
            rows_written: self.rows as u64,
            metadata: meta.build()?,
            bloom_filter: None,
            column_index: None,
            offset_index: Some(offsets.build()),
        };

        for &g in &self.used {
            self.local[g as usize] = UNSEEN;
        }
        self.used.clear();
        self.idx.clear();
        self.def.clear();
        self.rows = 0;
        Ok((bytes, close))
    }
}

/// Parquet's RLE / bit-packed hybrid encoding of `vals` (each below 2^`bit_width`), appended
/// to `out`: runs of 8 or more equal values as RLE runs, the rest bit-packed in groups of 8
/// (the last group padded with zeros, which readers ignore past the value count).
pub fn encode_hybrid(vals: &[u32], bit_width: u8, out: &mut Vec<u8>) {
    // Literals are always a stretch of `vals`, `vals[lit..i]`: nothing is copied.
    let mut lit = 0;
    let mut i = 0;
    while i < vals.len() {
        let v = vals[i];
        let mut run = 1;
        while i + run < vals.len() && vals[i + run] == v {
            run += 1;
        }
        // Literals must end on a group of 8 before an RLE run: top them up from the run.
        let need = (8 - (i - lit) % 8) % 8;
        if run >= need + 8 {
            put_literals(&vals[lit..i + need], bit_width, out);
            let run = run - need;
            put_varint(out, (run as u64) << 1);
            let bytes = (bit_width as usize).div_ceil(8);
            out.extend_from_slice(&v.to_le_bytes()[..bytes]);
            i += need + run;
            lit = i;
        } else {
            i += run;
        }
    }
    put_literals(&vals[lit..], bit_width, out);
}

/// Groups of 8 per bit-packed run, at most (what `parquet`'s own encoder writes).
const MAX_GROUPS: usize = 63;

/// Bit-packed runs of `lits`, at most [`MAX_GROUPS`] groups each, from the start (so a long
/// stretch splits where the first encoder, which flushed every 63 groups, split it); the last
/// group padded with zeros (before an RLE run, `lits` is a whole number of groups).
fn put_literals(lits: &[u32], bit_width: u8, out: &mut Vec<u8>) {
    let mut done = 0;
    while done < lits.len() {
        let take = (lits.len() - done).min(MAX_GROUPS * 8);
        let rest = &lits[done..done + take];
        let groups = take.div_ceil(8);
        put_varint(out, ((groups as u64) << 1) | 1);
        out.reserve(groups * bit_width as usize);
        let full = take / 8 * 8;
        for g in rest[..full].chunks_exact(8) {
            pack8(g.try_into().expect("8 values"), bit_width, out);
        }
        if full < take {
            let mut last = [0u32; 8];
            last[..take - full].copy_from_slice(&rest[full..]);
            pack8(&last, bit_width, out);
        }
        done += take;
    }
}

/// Eight values of `bit_width` bits (at most 32), least significant bit first: exactly
/// `bit_width` bytes, written 8 at a time (byte by byte through `Vec::push` was most of the
/// encoder's time).
#[inline]
fn pack8(g: &[u32; 8], bit_width: u8, out: &mut Vec<u8>) {
    let bw = bit_width as u32;
    let mut buf = [0u8; 32];
    let mut n = 0;
    let mut acc = 0u128;
    let mut bits = 0u32;
    for &v in g {
        acc |= (v as u128) << bits;
        bits += bw;
        if bits >= 64 {
            buf[n..n + 8].copy_from_slice(&(acc as u64).to_le_bytes());
            n += 8;
            acc >>= 64;
            bits -= 64;
        }
    }
    // 8 × bit_width bits is a whole number of bytes.
    let rest = (bits / 8) as usize;
    buf[n..n + rest].copy_from_slice(&acc.to_le_bytes()[..rest]);
    out.extend_from_slice(&buf[..bit_width as usize]);
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::UInt32Array;
    use std::sync::Arc;

    /// Ids index the dictionary of the first batch: a batch with another dictionary, even of
    /// the same length, is refused rather than written with the wrong strings.
    #[test]
    fn refuses_a_changed_dictionary() {
        let schema = parquet::arrow::ArrowSchemaConverter::new()
            .convert(&crate::dict_schema())
            .unwrap();
        let mut w = DictColumnWriter::new(schema.column(3), true);
        let batch = |values: Vec<&str>| {
            DictionaryArray::<UInt32Type>::try_new(
                UInt32Array::from(vec![0, 1, 1]),
                Arc::new(StringArray::from(values)),
            )
            .unwrap()
        };
        let first = batch(vec!["aleo1a", "aleo1b"]);
        w.write(&first).unwrap();
        // The same arrays again (what the writer is always handed) are fine.
        w.write(&first.slice(1, 2)).unwrap();
        assert!(w.write(&batch(vec!["aleo1c", "aleo1d"])).is_err());
        let (_, close) = w.close().unwrap();
        assert_eq!(close.rows_written, 5);
    }

    /// The encoder as first written (byte by byte): the packed form must not change.
    fn reference_hybrid(vals: &[u32], bit_width: u8, out: &mut Vec<u8>) {
        const MAX_GROUPS: usize = 63;
        let mut lits: Vec<u32> = Vec::new();
        let flush_lits = |lits: &mut Vec<u32>, out: &mut Vec<u8>, pad: bool| {
            let mut rest: &[u32] = lits;
            while !rest.is_empty() {
                let take = rest.len().min(MAX_GROUPS * 8);
                if !take.is_multiple_of(8) && !pad {
                    break;
                }
                let groups = take.div_ceil(8);
                put_varint(out, ((groups as u64) << 1) | 1);
                let mut acc = 0u64;
                let mut bits = 0u32;
                for k in 0..groups * 8 {
                    acc |= (rest.get(k).copied().unwrap_or(0) as u64) << bits;
                    bits += bit_width as u32;
                    while bits >= 8 {
                        out.push(acc as u8);
                        acc >>= 8;
                        bits -= 8;
                    }
                }
                rest = &rest[take..];
            }
            let done = lits.len() - rest.len();
            lits.drain(..done);
        };
        let mut i = 0;
        while i < vals.len() {
            let v = vals[i];
            let mut run = 1;
            while i + run < vals.len() && vals[i + run] == v {
                run += 1;
            }
            let need = (8 - lits.len() % 8) % 8;
            if run >= need + 8 {
                lits.extend(std::iter::repeat_n(v, need));
                flush_lits(&mut lits, out, false);
                let run = run - need;
                put_varint(out, (run as u64) << 1);
                out.extend_from_slice(&v.to_le_bytes()[..(bit_width as usize).div_ceil(8)]);
                i += need + run;
            } else {
                lits.extend(std::iter::repeat_n(v, run));
                if lits.len() >= MAX_GROUPS * 8 {
                    flush_lits(&mut lits, out, false);
                }
                i += run;
            }
        }
        flush_lits(&mut lits, out, true);
    }

    proptest::proptest! {
        /// Same bytes as the reference for every width, with runs and literals mixed.
        #[test]
        fn hybrid_matches_reference(
            bit_width in 0u8..=32,
            parts in proptest::collection::vec((proptest::num::u32::ANY, 1usize..20), 0..200),
        ) {
            let mask = if bit_width == 32 { u32::MAX } else { (1u32 << bit_width) - 1 };
            let vals: Vec<u32> = parts
                .iter()
                .flat_map(|&(v, n)| std::iter::repeat_n(v & mask, n))
                .collect();
            let (mut got, mut want) = (Vec::new(), Vec::new());
            encode_hybrid(&vals, bit_width, &mut got);
            reference_hybrid(&vals, bit_width, &mut want);
            proptest::prop_assert_eq!(got, want);
        }

        /// Long stretches of literals (short runs): bit-packed runs split at 63 groups.
        #[test]
        fn hybrid_matches_reference_on_literals(
            bit_width in 1u8..=32,
            parts in proptest::collection::vec((proptest::num::u32::ANY, 1usize..4), 0..1500),
            tail_run in 0usize..30,
        ) {
            let mask = if bit_width == 32 { u32::MAX } else { (1u32 << bit_width) - 1 };
            let mut vals: Vec<u32> = parts
                .iter()
                .flat_map(|&(v, n)| std::iter::repeat_n(v & mask, n))
                .collect();
            vals.extend(std::iter::repeat_n(mask, tail_run));
            let (mut got, mut want) = (Vec::new(), Vec::new());
            encode_hybrid(&vals, bit_width, &mut got);
            reference_hybrid(&vals, bit_width, &mut want);
            proptest::prop_assert_eq!(got, want);
        }
    }
}
