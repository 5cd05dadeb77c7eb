//! Features computed elsewhere (a warehouse) are read back by `fairdrop run` with
//! `inputs.features`: the reader checks what it reads.

mod common;

use common::{native_csv, params, world};

/// A features file from elsewhere is checked as it is read: header, order, every value.
#[test]
fn features_files_are_checked_with_line_and_column() {
    use fairdrop_policy::features::{csv_header, read_csv};
    let dir = tempfile::tempdir().unwrap();
    let events = world(dir.path());
    let good = native_csv(&events, &params());
    let path = dir.path().join("f.csv");
    let read = |text: &str| {
        std::fs::write(&path, text).unwrap();
        let mut n = 0;
        read_csv(&path, &mut |_| n += 1).map(|_| n)
    };
    let wallets = good.lines().count() - 1;
    assert_eq!(read(&good).unwrap(), wallets);
    let lines: Vec<&str> = good.lines().collect();
    // Two rows swapped: not in address order.
    let mut swapped = lines.clone();
    swapped.swap(2, 3);
    let e = read(&(swapped.join("\n") + "\n")).unwrap_err();
    assert_eq!((e.line, e.column.as_str()), (4, "address"), "{e}");
    // A boolean that is not true/false, a negative count.
    let step_col = csv_header()
        .iter()
        .position(|h| h == "step_greenlist")
        .unwrap();
    let mut bad: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut cells: Vec<&str> = lines[5].split(',').collect();
    cells[step_col] = "1";
    bad[5] = cells.join(",");
    let e = read(&(bad.join("\n") + "\n")).unwrap_err();
    assert_eq!((e.line, e.column.as_str()), (6, "step_greenlist"), "{e}");
    let mut cells: Vec<&str> = lines[5].split(',').collect();
    cells[1] = "-5";
    bad[5] = cells.join(",");
    let e = read(&(bad.join("\n") + "\n")).unwrap_err();
    assert_eq!((e.line, e.column.as_str()), (6, "first_seen"), "{e}");
    // A header of other columns.
    let e = read(&good.replacen("tx_count", "txs", 1)).unwrap_err();
    assert_eq!((e.line, e.column.as_str()), (1, "tx_count"), "{e}");
}
