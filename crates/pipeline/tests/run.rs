//! A whole run on a simulated world: every wallet accounted for, the pool split exactly,
//! and two runs byte-identical.

use std::collections::HashMap;
use std::path::Path;

use fairdrop_pipeline::{run, world::world, RunOptions};
use fairdrop_policy::campaign::Campaign;

fn files(dir: &Path) -> Vec<String> {
    let mut v = vec![];
    for f in [
        "wallets.csv",
        "allocations.csv",
        "clusters.csv",
        "report.json",
        "report.html",
        "run-summary.json",
        "ingest/events.parquet",
        "ingest/quarantine.csv",
        "ingest/ingest-summary.json",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
        v.push(f.to_string());
    }
    v
}

#[test]
fn simulated_world_end_to_end_is_exact_and_reproducible() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path().join("world");
    world(&w, 3000, 11, fairdrop_sim::OutputFormat::Csv).unwrap();
    // A cap of 5M ALEO: feasible for any eligible count above 30 in this small world.
    let text = std::fs::read_to_string(w.join("campaign.toml")).unwrap();
    let text = text.replace("cap = \"500_000 ALEO\"", "cap = \"5_000_000 ALEO\"");
    assert!(text.contains("5_000_000 ALEO"));
    std::fs::write(w.join("campaign.toml"), text).unwrap();
    let c = Campaign::load(&w.join("campaign.toml")).unwrap();
    let a = d.path().join("a");
    let b = d.path().join("b");
    let s = run(
        &c,
        &RunOptions {
            out: Some(a.clone()),
            progress: false,
            batch_rows: None,
        },
    )
    .unwrap();
    run(
        &c,
        &RunOptions {
            out: Some(b.clone()),
            progress: false,
            batch_rows: Some(50_000),
        },
    )
    .unwrap();
    for f in files(&a) {
        assert_eq!(
            std::fs::read(a.join(&f)).unwrap(),
            std::fs::read(b.join(&f)).unwrap(),
            "{f} differs between runs"
        );
    }
    assert_eq!(
        s.rows_quarantined, 0,
        "the simulator writes only valid rows"
    );
    assert!(s.eligible > 0 && s.eligible < s.wallets_scored, "{s:?}");

    // The pool is split exactly, among eligible wallets only, each within floor and cap.
    let mut wallets: HashMap<String, (bool, String)> = HashMap::new();
    for r in csv::Reader::from_path(a.join("wallets.csv"))
        .unwrap()
        .records()
    {
        let r = r.unwrap();
        assert!(!r[4].is_empty(), "every wallet has a reason: {r:?}");
        assert_eq!(
            r[4].split(';').count(),
            r[5].split(" | ").count(),
            "one sentence per reason: {r:?}"
        );
        wallets.insert(r[0].to_string(), (&r[1] == "true", r[4].to_string()));
    }
    assert_eq!(wallets.len() as u64, s.wallets_scored);
    let mut total = 0u128;
    let mut n = 0;
    for r in csv::Reader::from_path(a.join("allocations.csv"))
        .unwrap()
        .records()
    {
        let r = r.unwrap();
        let amt: u128 = r[1].parse().unwrap();
        assert!(wallets[&r[0]].0, "{} got tokens but is not eligible", &r[0]);
        assert!(amt >= c.allocation.floor.unwrap() && amt <= c.allocation.cap.unwrap());
        total += amt;
        n += 1;
    }
    assert_eq!(total, c.pool, "allocations sum to the pool");
    assert_eq!(n, s.eligible);
    // Exclusion lists apply.
    let team = std::fs::read_to_string(w.join("lists/team.txt")).unwrap();
    for addr in team.lines().filter(|l| !l.starts_with('#')) {
        if let Some((elig, reasons)) = wallets.get(addr) {
            assert!(
                !elig && reasons.contains("excluded.team"),
                "{addr}: {reasons}"
            );
        }
    }
}

#[test]
fn failed_run_leaves_the_previous_output_untouched() {
    let d = tempfile::tempdir().unwrap();
    let w = d.path().join("world");
    world(&w, 500, 3, fairdrop_sim::OutputFormat::Csv).unwrap();
    let out = d.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "previous run").unwrap();
    // A campaign whose input is missing fails at ingest.
    let text = std::fs::read_to_string(w.join("campaign.toml"))
        .unwrap()
        .replace("events.csv", "missing.csv");
    std::fs::write(w.join("bad.toml"), text).unwrap();
    let c = Campaign::load(&w.join("bad.toml")).unwrap();
    let err = run(
        &c,
        &RunOptions {
            out: Some(out.clone()),
            progress: false,
            batch_rows: None,
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing.csv"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "previous run"
    );
    assert_eq!(
        std::fs::read_dir(d.path()).unwrap().count(),
        2,
        "no temp folder left behind"
    );
}

/// A 3,000-wallet world in `dir/world` and its campaign text with a cap every eligible count
/// above 30 can meet.
fn small_world(dir: &Path) -> (std::path::PathBuf, String) {
    let w = dir.join("world");
    world(&w, 3000, 11, fairdrop_sim::OutputFormat::Csv).unwrap();
    let text = std::fs::read_to_string(w.join("campaign.toml"))
        .unwrap()
        .replace("cap = \"500_000 ALEO\"", "cap = \"5_000_000 ALEO\"");
    (w, text)
}

/// With the sybil stage off, scoring streams no verdicts and nothing is flagged; with it on,
/// the same world flags wallets and removes them from the eligible.
#[test]
fn sybil_stage_off_and_on() {
    let d = tempfile::tempdir().unwrap();
    let (w, text) = small_world(d.path());
    std::fs::write(w.join("on.toml"), &text).unwrap();
    let off = text.replace("[sybil]\nenabled = true", "[sybil]\nenabled = false");
    assert_ne!(off, text, "the campaign has a [sybil] section to turn off");
    std::fs::write(w.join("off.toml"), off).unwrap();
    let go = |name: &str| {
        let c = Campaign::load(&w.join(name)).unwrap();
        run(
            &c,
            &RunOptions {
                out: Some(d.path().join(name)),
                progress: false,
                batch_rows: None,
            },
        )
        .unwrap()
    };
    let on = go("on.toml");
    let off = go("off.toml");
    assert_eq!(off.sybil_flagged, 0);
    assert!(on.sybil_flagged > 0, "{on:?}");
    assert_eq!(on.wallets_scored, off.wallets_scored);
    assert_eq!(on.passed_gates, off.passed_gates);
    assert!(on.eligible < off.eligible, "{on:?} {off:?}");
}

/// `[sybil] model = …`: the learned detector runs inside `fairdrop run`. A hand-made model
/// (one split: flagged by the rules or not) must flag exactly the rule verdicts, now with the
/// `learned` signal and a reasons file, and the manifest binds the model file. A model made
/// for edge lists is refused before any stage runs.
#[test]
fn sybil_model_inside_the_run() {
    use fairdrop_sybil::gbm::{Model, Node, Params, Tree};
    use fairdrop_sybil::learn::{self, LearnedModel, TrainedOn};

    let d = tempfile::tempdir().unwrap();
    let (w, text) = small_world(d.path());
    std::fs::write(w.join("rules.toml"), &text).unwrap();
    let with_model = text.replace(
        "[sybil]\nenabled = true",
        "[sybil]\nenabled = true\nmodel = \"sybil-model.json\"",
    );
    assert_ne!(with_model, text);
    std::fs::write(w.join("model.toml"), with_model).unwrap();
    let names = fairdrop_sybil::features::names(&["hubs"], &[]);
    let leaf = |value: f64| Node {
        feature: u32::MAX,
        threshold: 0.0,
        left: 0,
        right: 0,
        value,
    };
    let mut m = LearnedModel {
        format: learn::FORMAT.into(),
        rules: learn::RULES_EVENTS.into(),
        threshold: 0.5,
        params: Params::default(),
        trained_on: TrainedOn {
            rows: 0,
            sybil: 0,
            clean: 0,
            folds: 5,
            cv_precision: 0.0,
            cv_recall: 0.0,
            cv_f1: 0.0,
        },
        model: Model {
            features: names.clone(),
            base: 0.0,
            trees: vec![Tree {
                nodes: vec![
                    Node {
                        feature: names.iter().position(|n| n == "rule_flag").unwrap() as u32,
                        threshold: 0.5,
                        left: 1,
                        right: 2,
                        value: 0.0,
                    },
                    leaf(-10.0),
                    leaf(10.0),
                ],
            }],
        },
    };
    learn::write_model(&w.join("sybil-model.json"), &m).unwrap();
    let go = |name: &str| {
        let c = Campaign::load(&w.join(name)).unwrap();
        run(
            &c,
            &RunOptions {
                out: Some(d.path().join(name)),
                progress: false,
                batch_rows: None,
            },
        )
    };
    let rules = go("rules.toml").unwrap();
    let learned = go("model.toml").unwrap();
    assert!(rules.sybil_flagged > 0);
    assert_eq!(learned.sybil_flagged, rules.sybil_flagged);
    assert_eq!(learned.eligible, rules.eligible);
    let out = d.path().join("model.toml");
    let clusters = std::fs::read_to_string(out.join("clusters.csv")).unwrap();
    let rows: Vec<&str> = clusters.lines().skip(1).collect();
    assert_eq!(rows.len() as u64, rules.sybil_flagged);
    assert!(rows.iter().all(|r| r.contains("learned")), "{clusters}");
    let reasons = std::fs::read_to_string(out.join("sybil-reasons.csv")).unwrap();
    assert_eq!(reasons.lines().count() as u64, rules.sybil_flagged + 1);
    assert!(
        reasons
            .lines()
            .nth(1)
            .unwrap()
            .contains(",rule_flag=1(+10.00)"),
        "{reasons}"
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert!(
        manifest["inputs"]["sybil-model.json"]
            .as_str()
            .is_some_and(|h| h.len() == 64),
        "{}",
        manifest["inputs"]
    );

    // A model trained beside the edge-list rules does not fit a run: refused at the start.
    m.rules = learn::RULES_EDGES.into();
    learn::write_model(&w.join("sybil-model.json"), &m).unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    let e = go("model.toml").unwrap_err().to_string();
    assert!(
        e.contains("sybil.model") && e.contains("`edges` rules"),
        "{e}"
    );
    assert!(!out.exists(), "no output folder from a refused run");
}

/// Run the campaign file `world/name` into `out_root/name`: its summary and folder.
fn run_named(
    world: &Path,
    name: &str,
    out_root: &Path,
) -> (fairdrop_pipeline::RunSummary, std::path::PathBuf) {
    let c = Campaign::load(&world.join(name)).unwrap_or_else(|e| panic!("{e}"));
    let out = out_root.join(name);
    let s = run(
        &c,
        &RunOptions {
            out: Some(out.clone()),
            progress: false,
            batch_rows: None,
        },
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    (s, out)
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's `civil_from_days`).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The same activity read through a column mapping gives the same verdicts and allocations as
/// read canonically: the world's events rewritten as a warehouse export would hold them
/// (other column names, `2024-03-05 20:50:59.000 UTC` times, hex amounts), listed under
/// `[[inputs.sources]]`.
#[test]
fn mapped_export_gives_the_verdicts_of_the_canonical_file() {
    let d = tempfile::tempdir().unwrap();
    let (w, text) = small_world(d.path());
    let mut r = csv::Reader::from_path(w.join("events.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let mut out = csv::Writer::from_path(w.join("export.csv")).unwrap();
    out.write_record([
        "block_time",
        "network",
        "hash",
        "sender",
        "kind",
        "receiver",
        "value",
        "token",
        "app",
    ])
    .unwrap();
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let t = fairdrop_core::event::parse_timestamp(&rec[col("timestamp")]).unwrap();
        let (y, m, dd) = civil(t.div_euclid(86_400));
        let s = t.rem_euclid(86_400);
        let time = format!(
            "{y:04}-{m:02}-{dd:02} {:02}:{:02}:{:02}.000 UTC",
            s / 3600,
            s / 60 % 60,
            s % 60
        );
        let amount = match &rec[col("amount")] {
            "" => String::new(),
            a => format!("0x{:x}", a.parse::<u128>().unwrap()),
        };
        out.write_record([
            time.as_str(),
            &rec[col("chain")],
            &rec[col("tx_id")],
            &rec[col("address")],
            &rec[col("action")],
            &rec[col("counterparty")],
            &amount,
            &rec[col("asset")],
            &rec[col("program")],
        ])
        .unwrap();
        n += 1;
    }
    out.flush().unwrap();
    assert!(n > 10_000, "{n} rows");
    std::fs::write(w.join("canonical.toml"), &text).unwrap();
    let events_line = "events = [\"events.csv\"]";
    assert!(text.contains(events_line));
    let mapped = text.replacen(events_line, "events = []", 1).replacen(
        "\n[[exclusions]]",
        "\n[[inputs.sources]]\nfile = \"export.csv\"\ncolumns = { timestamp = \"block_time\", chain = \"network\", tx_id = \"hash\", address = \"sender\", action = \"kind\", counterparty = \"receiver\", amount = \"value\", asset = \"token\", program = \"app\" }\n\n[[exclusions]]",
        1,
    );
    std::fs::write(w.join("mapped.toml"), mapped).unwrap();
    let go = |name: &str| run_named(&w, name, d.path());
    let (a, da) = go("canonical.toml");
    let (b, db) = go("mapped.toml");
    assert_eq!(
        (a.wallets_scored, a.eligible),
        (b.wallets_scored, b.eligible)
    );
    assert!(a.eligible > 0, "{a:?}");
    for f in [
        "wallets.csv",
        "allocations.csv",
        "clusters.csv",
        "ingest/events.parquet",
    ] {
        assert!(
            std::fs::read(da.join(f)).unwrap() == std::fs::read(db.join(f)).unwrap(),
            "{f} differs between the canonical file and the mapped export"
        );
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(db.join("ingest/ingest-summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["inputs"][0]["mapping"], "custom", "{summary}");
}

#[path = "../../policy/tests/common/mod.rs"]
mod sql_common;

/// The native features of `events` into `out`, as `fairdrop features --out` writes them.
fn native_features(events: &Path, c: &Campaign, out: &Path) {
    use fairdrop_policy::features::{csv_header, csv_record, extract};
    let mut f = csv::Writer::from_path(out).unwrap();
    f.write_record(csv_header()).unwrap();
    extract(events, &c.feature_params(), &mut |x| {
        f.write_record(csv_record(&x)).unwrap()
    })
    .unwrap();
    f.flush().unwrap();
}

/// Warehouse mode: `inputs.features` in place of events. The features the native run computed,
/// and the ones local Spark computed from the emitted SQL (session time zone not UTC), each
/// give the native run's wallets, allocations and roots (the sybil stage off: it reads events).
#[test]
fn features_from_a_warehouse_give_the_native_allocations_and_roots() {
    let d = tempfile::tempdir().unwrap();
    let (w, text) = small_world(d.path());
    let native_text = text.replace("[sybil]\nenabled = true", "[sybil]\nenabled = false");
    assert_ne!(native_text, text);
    std::fs::write(w.join("native.toml"), &native_text).unwrap();
    let go = |name: &str| run_named(&w, name, d.path());
    let (a, da) = go("native.toml");
    assert!(a.eligible > 0);
    let events = da.join("ingest/events.parquet");
    let c = Campaign::load(&w.join("native.toml")).unwrap();
    // The native features, as `fairdrop features --out` writes them.
    native_features(&events, &c, &w.join("features.csv"));
    // The warehouse's: the emitted Spark SQL on local Spark.
    let sql = w.join("features-spark.sql");
    std::fs::write(
        &sql,
        fairdrop_policy::sql::emit(
            fairdrop_policy::sql::Dialect::Spark,
            events.to_str().unwrap(),
            &c.feature_params(),
        ),
    )
    .unwrap();
    sql_common::run_spark(&sql, &w.join("spark-features.csv"), "Europe/Berlin")
        .unwrap_or_else(|e| panic!("Spark failed:\n{e}"));
    let events_line = "events = [\"events.csv\"]";
    for (name, file) in [
        ("features.toml", "features.csv"),
        ("spark.toml", "spark-features.csv"),
    ] {
        let t = native_text.replacen(events_line, &format!("features = \"{file}\""), 1);
        assert_ne!(t, native_text);
        std::fs::write(w.join(name), t).unwrap();
        let (b, db) = go(name);
        assert_eq!(
            (b.wallets_scored, b.eligible, &b.roots),
            (a.wallets_scored, a.eligible, &a.roots),
            "{name}"
        );
        for f in ["wallets.csv", "allocations.csv"] {
            assert!(
                std::fs::read(da.join(f)).unwrap() == std::fs::read(db.join(f)).unwrap(),
                "{name}: {f} differs from the native run's"
            );
        }
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(db.join("manifest.json")).unwrap()).unwrap();
        assert!(
            m["inputs"].get(file).is_some(),
            "the manifest binds {file}: {m}"
        );
    }
    // With the sybil stage on, a features input is refused by name.
    let t = text.replacen(events_line, "features = \"features.csv\"", 1);
    std::fs::write(w.join("bad.toml"), t).unwrap();
    let e = Campaign::load(&w.join("bad.toml")).unwrap_err();
    assert!(
        e.key == "inputs.features" && e.msg.contains("[sybil] enabled = false"),
        "{e}"
    );
}

/// Warehouse mode with the sybil stage on: `inputs.features` and `inputs.sybil_tables` in
/// place of events. Computed natively, and by local Spark from the emitted SQL (session time
/// zone not UTC), they give the native run's wallets, clusters, allocations and roots.
#[test]
fn sybil_tables_from_a_warehouse_give_the_native_run() {
    use fairdrop_pipeline::warehouse::{sql_params, table_paths, write_tables};
    use fairdrop_policy::sql::{emit, emit_sybil, Dialect};
    let d = tempfile::tempdir().unwrap();
    let (w, text) = small_world(d.path());
    assert!(text.contains("[sybil]\nenabled = true"));
    // Small clusters count, so that this small world flags enough wallets to compare.
    let text = text.replacen("min_cluster_size = 8", "min_cluster_size = 3", 1);
    assert!(text.contains("min_cluster_size = 3"));
    std::fs::write(w.join("native.toml"), &text).unwrap();
    let (a, da) = run_named(&w, "native.toml", d.path());
    assert!(
        a.sybil_flagged > 10,
        "the world has farms: {}",
        a.sybil_flagged
    );
    let events = da.join("ingest/events.parquet");
    let c = Campaign::load(&w.join("native.toml")).unwrap();

    // Natively: `fairdrop features --out` and the sybil tables.
    let native = w.join("native-tables");
    std::fs::create_dir_all(&native).unwrap();
    native_features(&events, &c, &native.join("features.csv"));
    write_tables(&sql_params(&c), &events, &native).unwrap();

    // On Spark: every emitted query.
    let spark = w.join("spark-tables");
    std::fs::create_dir_all(&spark).unwrap();
    let ev = events.to_str().unwrap();
    let mut queries = vec![(
        "features".to_string(),
        emit(Dialect::Spark, ev, &c.feature_params()),
    )];
    for (name, q) in emit_sybil(Dialect::Spark, ev, &sql_params(&c)) {
        queries.push((name.to_string(), q));
    }
    for (name, q) in queries {
        let sql = spark.join(format!("{name}.sql"));
        std::fs::write(&sql, q).unwrap();
        sql_common::run_spark(&sql, &spark.join(format!("{name}.csv")), "Asia/Kolkata")
            .unwrap_or_else(|e| panic!("Spark {name} failed:\n{e}"));
    }

    let events_line = "events = [\"events.csv\"]";
    for dir in ["native-tables", "spark-tables"] {
        let t = text.replacen(
            events_line,
            &format!("features = \"{dir}/features.csv\"\nsybil_tables = \"{dir}\""),
            1,
        );
        assert_ne!(t, text);
        let name = format!("{dir}.toml");
        std::fs::write(w.join(&name), t).unwrap();
        let (b, db) = run_named(&w, &name, d.path());
        assert_eq!(
            (b.wallets_scored, b.eligible, b.sybil_flagged, &b.roots),
            (a.wallets_scored, a.eligible, a.sybil_flagged, &a.roots),
            "{dir}"
        );
        for f in ["wallets.csv", "clusters.csv", "allocations.csv"] {
            assert!(
                std::fs::read(da.join(f)).unwrap() == std::fs::read(db.join(f)).unwrap(),
                "{dir}: {f} differs from the native run's"
            );
        }
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(db.join("manifest.json")).unwrap()).unwrap();
        for p in table_paths(Path::new(dir)) {
            let key = p.to_str().unwrap();
            assert!(
                m["inputs"].get(key).is_some(),
                "the manifest binds {key}: {}",
                m["inputs"]
            );
        }
    }
}
