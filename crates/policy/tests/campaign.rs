//! The example campaign loads; invalid campaigns fail at load time naming the key and line.

use std::path::{Path, PathBuf};

use fairdrop_policy::campaign::Campaign;

fn template() -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../campaigns/aleo-airdrop-2024.toml");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn setup(text: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("lists")).unwrap();
    for f in ["team", "treasury", "exchanges", "sanctions"] {
        std::fs::write(d.path().join(format!("lists/{f}.txt")), "# none\n").unwrap();
    }
    let p = d.path().join("campaign.toml");
    std::fs::write(&p, text).unwrap();
    (d, p)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in template"))
        + 1
}

fn load_err(text: &str) -> String {
    let (_d, p) = setup(text);
    Campaign::load(&p)
        .map(|_| ())
        .expect_err("campaign must be rejected")
        .to_string()
}

#[test]
fn the_seed_campaign_loads() {
    let (_d, p) = setup(&template());
    let c = Campaign::load(&p).unwrap();
    assert_eq!(c.pool, 150_000_000 * 1_000_000);
    assert_eq!(c.decimals, 6);
    assert_eq!(c.gates.len(), 4);
    assert_eq!(
        c.points.iter().filter(|p| p.step.is_some()).count(),
        11,
        "every step has a points rule"
    );
    assert_eq!(c.tiers[0].name, "gold");
    assert_eq!(c.allocation.floor, Some(100_000_000));
    assert_eq!(c.window_start, c.snapshot - 365 * 86_400);
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let t = template().replace("window_days = 365", "window_days = 365\nwindow_dayz = 3");
    let e = load_err(&t);
    assert!(
        e.contains("window_dayz") && e.contains(&format!(":{}:", line_of(&t, "window_dayz"))),
        "{e}"
    );
}

#[test]
fn negative_or_zero_pool_is_rejected() {
    let t = template().replace("pool = \"150_000_000 ALEO\"", "pool = -5");
    let e = load_err(&t);
    assert!(
        e.contains("campaign.pool")
            && e.contains("negative")
            && e.contains(&format!(":{}:", line_of(&t, "pool = -5"))),
        "{e}"
    );
    let e = load_err(&template().replace("pool = \"150_000_000 ALEO\"", "pool = 0"));
    assert!(e.contains("campaign.pool") && e.contains("positive"), "{e}");
    let e = load_err(&template().replace("pool = \"150_000_000 ALEO\"", "pool = \"1.5\""));
    assert!(e.contains("whole numbers"), "{e}");
}

#[test]
fn cap_below_floor_and_floor_over_pool() {
    let t = template().replace("cap = \"500_000 ALEO\"", "cap = \"10 ALEO\"");
    let e = load_err(&t);
    assert!(
        e.contains("allocation.cap")
            && e.contains("below the floor")
            && e.contains(&format!(":{}:", line_of(&t, "cap = \"10 ALEO\""))),
        "{e}"
    );
    let t = template()
        .replace("floor = \"100 ALEO\"", "floor = \"200_000_000 ALEO\"")
        .replace("cap = \"500_000 ALEO\"", "");
    let e = load_err(&t);
    assert!(
        e.contains("allocation.floor") && e.contains("above the whole pool"),
        "{e}"
    );
}

#[test]
fn bad_expressions_are_caught_at_load_with_position() {
    let t = template().replace("wallet_age_days >= 60", "wallet_age_dayz >= 60");
    let e = load_err(&t);
    assert!(
        e.contains("gates.wallet_age.expr")
            && e.contains("unknown feature `wallet_age_dayz`")
            && e.contains("did you mean `wallet_age_days`"),
        "{e}"
    );
    assert!(
        e.contains(&format!(":{}:", line_of(&t, "wallet_age_dayz"))),
        "{e}"
    );
    let e = load_err(&template().replace("expr = \"swaps * 10\"", "expr = \"swaps * 'ten'\""));
    assert!(
        e.contains("points.swaps.expr") && e.contains("type error") && e.contains("column"),
        "{e}"
    );
    let e = load_err(&template().replace("expr = \"swaps * 10\"", "expr = \"swaps * \""));
    assert!(
        e.contains("points.swaps.expr") && e.contains("syntax error"),
        "{e}"
    );
    let e = load_err(&template().replace("expr = \"swaps * 10\"", "expr = \"swaps > 10\""));
    assert!(e.contains("must be int"), "{e}");
}

#[test]
fn missing_exclusion_list_is_named() {
    let (d, p) = setup(&template());
    std::fs::remove_file(d.path().join("lists/team.txt")).unwrap();
    let e = Campaign::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("exclusions.team.file") && e.contains("team.txt"),
        "{e}"
    );
    std::fs::write(d.path().join("lists/team.txt"), "0x1234\n").unwrap();
    let e = Campaign::load(&p).unwrap_err().to_string();
    assert!(
        e.contains("team.txt:1") && e.contains("address.evm.length"),
        "{e}"
    );
}

/// A failed gate's sentence shows the values of the features its expression reads, in the
/// order `fairdrop features --list` gives them; a wallet that passes gets no such reason.
#[test]
fn failed_gates_show_the_values_they_read() {
    use fairdrop_policy::features::{definitions, ix, Features};
    use fairdrop_policy::score::Scorer;
    let (_d, p) = setup(&template());
    let c = Campaign::load(&p).unwrap();
    let at = |name: &str| {
        definitions()
            .iter()
            .position(|d| d.name == name)
            .unwrap_or_else(|| panic!("no feature {name}"))
    };
    let mut f = Features {
        address: "aleo1nobody".into(),
        ints: [0; ix::N_INT],
        funder: String::new(),
        sweep_target: String::new(),
    };
    f.ints[at("tx_count")] = 13;
    f.ints[at("active_months")] = 1;
    f.ints[at("wallet_age_days")] = 400;
    let s = Scorer::new(&c).score(&f);
    let sentence = |code: &str| {
        s.reasons
            .iter()
            .find(|r| r.code == code)
            .map(|r| r.sentence.clone())
    };
    assert_eq!(
        sentence("gate.regular_activity").as_deref(),
        Some(
            "The wallet needs at least 5 transactions spread over at least 2 months. \
             (tx_count = 13, active_months = 1)"
        )
    );
    assert_eq!(
        sentence("gate.history").as_deref(),
        Some(
            "The wallet shows no holding, staking or voting history. \
             (votes = 0, stake_credit_days = 0, avg_balance = 0)"
        )
    );
    assert_eq!(
        sentence("gate.wallet_age"),
        None,
        "400 days passes the age gate"
    );
}
