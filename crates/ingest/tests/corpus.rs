//! The bad-input corpus (`tests/corpus`, made by `tests/corpus/make.py`): every file gives the
//! error or quarantine rule listed in `cases.tsv`.

use std::path::{Path, PathBuf};

use fairdrop_ingest::{ingest, IngestError, IngestOptions};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn opts() -> IngestOptions {
    IngestOptions {
        batch_rows: 1000,
        progress: false,
        hash_inputs: false,
    }
}

#[test]
fn every_corpus_case_gives_its_expected_outcome() {
    let cases =
        std::fs::read_to_string(corpus().join("cases.tsv")).expect("tests/corpus/cases.tsv");
    let mut n = 0;
    for line in cases
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (file, expect) = line.split_once('\t').expect("file<TAB>expect");
        let input = corpus().join(file);
        assert!(input.exists(), "corpus file {file} is missing");
        let out = tempfile::tempdir().unwrap();
        let res = ingest(&[input.clone()], out.path(), &opts());
        let (kind, what) = expect.split_once(':').unwrap();
        match kind {
            "exit2" => {
                let err = match res {
                    Err(IngestError::File(e)) => e,
                    other => {
                        panic!("{file}: expected a file error containing {what:?}, got {other:?}")
                    }
                };
                let msg = err.to_string();
                assert!(
                    msg.contains(what),
                    "{file}: error {msg:?} should contain {what:?}"
                );
                assert!(
                    msg.contains(file),
                    "{file}: error {msg:?} should name the file"
                );
                let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
                assert!(
                    left.is_empty(),
                    "{file}: output left behind after a failed run: {left:?}"
                );
            }
            "rule" => {
                let s = res.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(s.accepted, 1, "{file}: the good row is kept");
                assert_eq!(s.quarantined, 1, "{file}: one row quarantined");
                assert_eq!(
                    s.quarantined_by_rule.get(what),
                    Some(&1),
                    "{file}: rules {:?}",
                    s.quarantined_by_rule
                );
                assert_eq!(s.rows_read, s.accepted + s.duplicates + s.quarantined);
                let q = std::fs::read_to_string(out.path().join("quarantine.csv")).unwrap();
                let mut r = csv::Reader::from_reader(q.as_bytes());
                let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
                assert_eq!(rows.len(), 1, "{file}: {q}");
                assert!(
                    rows[0][0].ends_with(file),
                    "{file}: source column {:?}",
                    &rows[0][0]
                );
                assert_eq!(&rows[0][2], what);
                assert!(
                    !rows[0][1].is_empty() && !rows[0][3].is_empty(),
                    "{file}: line and raw given"
                );
                assert!(out.path().join("events.parquet").exists());
            }
            "dup" => {
                let s = res.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(s.duplicates, what.parse::<u64>().unwrap(), "{file}");
                assert_eq!(s.accepted, 1, "{file}");
                assert_eq!(s.quarantined, 0, "{file}");
            }
            k => panic!("unknown expectation {k}"),
        }
        n += 1;
    }
    assert!(
        n >= 30,
        "corpus has {n} cases, the issue asks for at least 30"
    );
}

#[test]
fn missing_input_is_a_file_error() {
    let out = tempfile::tempdir().unwrap();
    let err = ingest(&[corpus().join("no-such-file.csv")], out.path(), &opts()).unwrap_err();
    assert!(matches!(err, IngestError::File(_)));
    assert!(err.to_string().contains("no-such-file.csv"), "{err}");
}

#[test]
fn one_bad_file_among_good_ones_stops_the_run_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let inputs = [
        corpus().join("duplicates.csv"),
        corpus().join("truncated.csv.gz"),
    ];
    assert!(ingest(&inputs, out.path(), &opts()).is_err());
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}

#[test]
fn parquet_positions_name_row_group_and_row() {
    let out = tempfile::tempdir().unwrap();
    ingest(
        &[corpus().join("parquet_bad_address.parquet")],
        out.path(),
        &opts(),
    )
    .unwrap();
    let q = std::fs::read_to_string(out.path().join("quarantine.csv")).unwrap();
    assert!(q.contains(",rg0:1,address.aleo.off_curve,"), "{q}");
}
