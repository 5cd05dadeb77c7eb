use std::path::PathBuf;

use anyhow::Result;
use fairdrop_sybil::detect::{detect, Appeals, Config};
use fairdrop_sybil::eval::{evaluate, split_of, Split};
use fairdrop_sybil::features::{features, HubList};
use fairdrop_sybil::gbm::Params;
use fairdrop_sybil::input::SybilInput;
use fairdrop_sybil::learn;

use crate::Exit;

/// Find sybil clusters from canonical events or plain `from,to` transfer lists.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  fairdrop sybil --transfers ../shared/eval/hop/transfers/*.csv.gz \
--hubs ../shared/eval/hop/hubs/*.txt --allow ../shared/eval/hop/hubs/allow.txt \
--candidates ../shared/eval/hop/candidates.txt --out clusters.csv\n  \
fairdrop sybil --events work/events.parquet --hubs hubs.txt --out clusters.csv\n  \
fairdrop sybil --transfers ... --hubs ... --model hop-model.json --reasons reasons.csv --out clusters.csv"
)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    /// Addresses or cluster ids cleared by hand
    #[arg(long)]
    pub appeals: Option<PathBuf>,
    /// Reproduce the Hop team's method instead of fairdrop's detector
    #[arg(long, conflicts_with = "model")]
    pub hop_method: bool,
    /// A model from `fairdrop sybil-train`: flag the wallets whose probability reaches its
    /// threshold (give the same hub lists, by file name, as at training)
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// With --model: also write `address,probability,reasons` for every flagged wallet
    #[arg(long, requires = "model")]
    pub reasons: Option<PathBuf>,
    /// Output clusters.csv
    #[arg(long)]
    pub out: PathBuf,
}

/// The inputs `sybil` and `sybil-train` share.
#[derive(clap::Args)]
pub struct InputArgs {
    /// Canonical events (Parquet from `fairdrop ingest`)
    #[arg(long, num_args = 1.., conflicts_with = "transfers", required_unless_present = "transfers")]
    pub events: Vec<PathBuf>,
    /// `from,to` CSV or CSV.gz transfer lists
    #[arg(long, num_args = 1..)]
    pub transfers: Vec<PathBuf>,
    /// Hub lists (exchanges, deposit addresses, contracts, bridges): one address a line
    #[arg(long, num_args = 1..)]
    pub hubs: Vec<PathBuf>,
    /// Addresses kept in the graph although a hub list names them
    #[arg(long, num_args = 1..)]
    pub allow: Vec<PathBuf>,
    /// The wallets a verdict is about (default: all)
    #[arg(long, num_args = 1..)]
    pub candidates: Vec<PathBuf>,
    /// Minimum cluster size counted on candidates
    #[arg(long, default_value_t = 8)]
    pub min_cluster_size: usize,
}

fn load(a: &InputArgs) -> Result<(SybilInput, Vec<HubList>)> {
    let fail = |e: fairdrop_sybil::SybilError| Exit(2, e.to_string());
    let mut input = SybilInput::new();
    if !a.transfers.is_empty() {
        fairdrop_sybil::load::load_transfers(&mut input, &a.transfers).map_err(fail)?;
    }
    for p in &a.events {
        for b in fairdrop_table::EventReader::open(p).map_err(|e| Exit(2, e.to_string()))? {
            let b = b.map_err(|e| Exit(2, e.to_string()))?;
            for i in 0..b.len() {
                let r = b.row(i);
                let addr = fairdrop_core::Address::parse_trusted(r.address)
                    .map_err(|e| Exit(2, format!("{}: {e}", p.display())))?;
                let cp = match r.counterparty {
                    Some(c) => Some(
                        fairdrop_core::Address::parse_trusted(c)
                            .map_err(|e| Exit(2, format!("{}: {e}", p.display())))?,
                    ),
                    None => None,
                };
                input.add_event(&fairdrop_core::Event {
                    timestamp: r.timestamp,
                    chain: r.chain.to_string(),
                    tx_id: None,
                    address: addr,
                    action: r.action.to_string(),
                    counterparty: cp,
                    amount: r.amount.and_then(|x| x.parse().ok()),
                    asset: r.asset.map(String::from),
                    program: r.program.map(String::from),
                });
            }
        }
    }
    let lists = fairdrop_sybil::load::load_hub_lists(&mut input, &a.hubs).map_err(fail)?;
    fairdrop_sybil::load::load_allow(&mut input, &a.allow).map_err(fail)?;
    fairdrop_sybil::load::load_candidates(&mut input, &a.candidates).map_err(fail)?;
    Ok((input, lists))
}

/// The rule detector for these inputs: canonical events carry timestamps, amounts and
/// activity, so they get the event rules (as in `fairdrop run`); edge lists the edge rules.
fn config(a: &InputArgs, hop_method: bool) -> Config {
    if hop_method {
        Config {
            min_cluster_candidates: a.min_cluster_size,
            ..Config::hop_method()
        }
    } else if !a.events.is_empty() {
        Config::for_events(a.min_cluster_size)
    } else {
        Config {
            min_cluster_candidates: a.min_cluster_size,
            ..Config::default()
        }
    }
}

fn rules_of(a: &InputArgs) -> &'static str {
    if a.events.is_empty() {
        learn::RULES_EDGES
    } else {
        learn::RULES_EVENTS
    }
}

pub fn run(a: Args) -> Result<()> {
    let t = std::time::Instant::now();
    let fail = |e: fairdrop_sybil::SybilError| Exit(2, e.to_string());
    // Read the model first: a bad model file should fail before minutes of loading.
    let model = match &a.model {
        Some(p) => Some(learn::read_model(p).map_err(fail)?),
        None => None,
    };
    let (input, lists) = load(&a.input)?;
    let appeals = match &a.appeals {
        Some(p) => fairdrop_sybil::output::read_appeals(p).map_err(fail)?,
        None => Appeals::default(),
    };
    let cfg = config(&a.input, a.hop_method);
    let mut report = detect(&input, &cfg, &appeals);
    if let (Some(m), Some(path)) = (&model, &a.model) {
        let f = features(&input, &report, &lists);
        let p =
            learn::probabilities(m, &f).map_err(|e| Exit(2, format!("{}: {e}", path.display())))?;
        report = learn::apply(&report, &input, &f, &p, m.threshold, &cfg, &appeals);
        if let Some(r) = &a.reasons {
            let text = learn::reasons_csv(m, &input, &f, &p);
            fairdrop_core::fsutil::write_atomic(r, text.as_bytes())
                .map_err(|e| Exit(2, format!("writing {}: {e}", r.display())))?;
        }
    }
    fairdrop_sybil::output::write_clusters_csv(&a.out, &report, &input.wallets).map_err(fail)?;
    eprintln!(
        "sybil: {} wallets, {} transfers, {} hubs (+{} detected) → {} clusters, {} flagged{} in {:.2}s → {}",
        report.stats.wallets,
        report.stats.transfers,
        report.stats.listed_hubs,
        report.stats.auto_hubs,
        report.clusters.len(),
        report.verdicts.len(),
        if model.is_some() { " (learned model)" } else { "" },
        t.elapsed().as_secs_f64(),
        a.out.display()
    );
    Ok(())
}

/// Train a sybil model on reviewed wallets (`address,label`).
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop sybil-train --transfers ../shared/eval/hop/transfers/*.csv.gz \
--hubs $(ls ../shared/eval/hop/hubs/*.txt | grep -v allow) --allow ../shared/eval/hop/hubs/allow.txt \
--candidates ../shared/eval/hop/candidates.txt --labels ../shared/eval/hop/labels-dev.csv \
--model hop-model.json\n\n\
The rule detector runs first; a gradient-boosted model then learns from the labelled \
candidates' graph features (never from their addresses). The threshold is chosen by 5-fold \
cross-validation. Also printed: the model trained on one half of the labels (by address hash) \
and scored on the other, both ways, which is what to expect on wallets nobody labelled."
)]
pub struct TrainArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// `address,label` (sybil / clean) of reviewed wallets
    #[arg(long)]
    pub labels: PathBuf,
    /// Output model file (JSON)
    #[arg(long)]
    pub model: PathBuf,
    /// Boosting rounds
    #[arg(long, default_value_t = 300)]
    pub trees: usize,
}

pub fn train(a: TrainArgs) -> Result<()> {
    let t = std::time::Instant::now();
    let fail = |e: fairdrop_sybil::SybilError| Exit(2, e.to_string());
    let labels = fairdrop_sybil::load::read_labels(&a.labels).map_err(fail)?;
    let (input, lists) = load(&a.input)?;
    let cfg = config(&a.input, false);
    let report = detect(&input, &cfg, &Appeals::default());
    let f = features(&input, &report, &lists);
    let params = Params {
        trees: a.trees,
        ..Params::default()
    };
    let terr = |e: fairdrop_sybil::gbm::GbmError| Exit(2, format!("{}: {e}", a.labels.display()));
    let mut m = learn::train(&f, &input, &labels, &params, &|_| true).map_err(terr)?;
    m.rules = rules_of(&a.input).into();
    learn::write_model(&a.model, &m).map_err(fail)?;
    let c = &m.trained_on;
    println!(
        "trained on {} labelled candidates ({} sybil, {} clean), {} features, {} trees",
        c.rows,
        c.sybil,
        c.clean,
        f.names.len(),
        m.model.trees.len()
    );
    println!(
        "{}-fold cross-validation: threshold {:.2}, precision {:.4}, recall {:.4}, F1 {:.4}",
        c.folds, m.threshold, c.cv_precision, c.cv_recall, c.cv_f1
    );
    // Train on one half, score the other: the figure to expect on unlabelled wallets.
    for (train_on, test_on, name) in [(Split::A, Split::B, "A → B"), (Split::B, Split::A, "B → A")]
    {
        let half = learn::train(&f, &input, &labels, &params, &|x| split_of(x) == train_on)
            .map_err(terr)?;
        let p = learn::probabilities(&half, &f).map_err(|e| Exit(2, e))?;
        let r = learn::apply(
            &report,
            &input,
            &f,
            &p,
            half.threshold,
            &cfg,
            &Appeals::default(),
        );
        let mask = r.sybil_mask(input.n_wallets());
        let s = evaluate(&labels, test_on, |x| {
            input
                .wallets
                .get(x)
                .map(|i| mask[i as usize])
                .unwrap_or(false)
        });
        println!("trained on half {name}: {s}");
    }
    eprintln!(
        "sybil-train: model → {} in {:.2}s",
        a.model.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Precision, recall and F1 of a clusters.csv against labels.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop sybil-eval --pred clusters.csv --labels ../shared/eval/hop/labels-dev.csv\n\n\
Labels: `address,label` with label sybil or clean. The figures are also given on two halves \
split by address hash, to show a setting is not fitted to one half."
)]
pub struct EvalArgs {
    #[arg(long)]
    pub pred: PathBuf,
    #[arg(long)]
    pub labels: PathBuf,
}

pub fn eval(a: EvalArgs) -> Result<()> {
    let (all, ha, hb) = fairdrop_sybil::eval::evaluate_files(&a.pred, &a.labels)
        .map_err(|e| Exit(2, e.to_string()))?;
    println!(
        "{:<8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8}",
        "set", "precision", "recall", "f1", "tp", "fp", "fn"
    );
    for (n, s) in [("all", all), ("half-a", ha), ("half-b", hb)] {
        println!(
            "{:<8} {:>9.4} {:>9.4} {:>9.4} {:>8} {:>8} {:>8}",
            n, s.precision, s.recall, s.f1, s.true_pos, s.false_pos, s.false_neg
        );
    }
    Ok(())
}
