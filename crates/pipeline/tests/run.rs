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
