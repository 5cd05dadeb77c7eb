use std::path::PathBuf;

use anyhow::Result;
use fairdrop_policy::expr::Val;
use fairdrop_policy::score::Scorer;

use crate::Exit;

/// Tell one wallet what it got and why: every gate with the values it saw, every points rule,
/// penalties, sybil cluster, tier and allocation.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop explain --campaign campaigns/aleo-airdrop-2024.toml aleo1…\n\n\
Reads the outputs of the last `fairdrop run` of the campaign (its outputs.dir unless --out)."
)]
pub struct Args {
    /// Campaign file (TOML)
    #[arg(long)]
    pub campaign: PathBuf,
    /// Output folder of the run (default: the campaign's outputs.dir)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The wallet address
    pub address: String,
}

fn find_row(path: &std::path::Path, address: &str) -> Result<Option<csv::StringRecord>> {
    if !path.exists() {
        return Ok(None);
    }
    let mut r = csv::Reader::from_path(path)?;
    for rec in r.records() {
        let rec = rec?;
        if rec.get(0) == Some(address) {
            return Ok(Some(rec));
        }
    }
    Ok(None)
}

pub fn run(a: Args) -> Result<()> {
    let c = super::run::load(&a.campaign)?;
    let addr = fairdrop_core::Address::parse(a.address.trim()).map_err(|e| {
        Exit(
            2,
            format!("{:?} is not a valid address: {e} ({})", a.address, e.rule()),
        )
    })?;
    let addr = addr.to_string();
    let out = a.out.unwrap_or_else(|| c.base.join(&c.outputs.dir));
    let events = out.join("ingest").join(fairdrop_ingest::EVENTS_FILE);
    if !events.exists() {
        return Err(Exit(
            2,
            format!(
                "{} not found: run `fairdrop run --campaign {}` first",
                events.display(),
                a.campaign.display()
            ),
        )
        .into());
    }
    let Some(f) = fairdrop_policy::features::extract_one(&events, &c.feature_params(), &addr)?
    else {
        println!(
            "{addr}\n  not eligible: no activity in the window {} .. {}",
            fairdrop_core::event::format_timestamp(c.window_start),
            fairdrop_core::event::format_timestamp(c.snapshot)
        );
        return Ok(());
    };
    let scorer = Scorer::new(&c);
    let s = scorer.score(&f);
    let row = find_row(&out.join("wallets.csv"), &addr)?;
    let eligible = row.as_ref().map(|r| &r[1] == "true").unwrap_or(s.eligible);
    println!("{addr}");
    println!("  {}", if eligible { "ELIGIBLE" } else { "NOT ELIGIBLE" });
    println!("  gates:");
    for (g, (_, ok)) in c.gates.iter().zip(&s.gates) {
        let vals: Vec<String> = g
            .expr
            .features
            .iter()
            .map(|n| {
                let d = fairdrop_policy::features::definitions();
                let i = d.iter().position(|x| &x.name == n).expect("known feature");
                match d[i].kind {
                    fairdrop_policy::features::Kind::Str => format!("{n} = {:?}", f.get_str(i)),
                    fairdrop_policy::features::Kind::Bool => format!("{n} = {}", f.get_int(i) != 0),
                    fairdrop_policy::features::Kind::Int => format!("{n} = {}", f.get_int(i)),
                }
            })
            .collect();
        println!(
            "    [{}] {:<18} {}   ({})",
            if *ok { "pass" } else { "FAIL" },
            g.id,
            g.expr.source,
            vals.join(", ")
        );
    }
    println!("  points:");
    for (p, (_, v)) in c.points.iter().zip(&s.breakdown) {
        let raw = match p.expr.eval(&f) {
            Ok(Val::Int(i)) => i.to_string(),
            Ok(other) => format!("{other:?}"),
            Err(e) => format!("error: {e}"),
        };
        let cap = p
            .cap
            .map(|c| format!(" (cap {c}, raw {raw})"))
            .unwrap_or_default();
        println!("    {:>6}  {}{}", v, p.label, cap);
    }
    println!(
        "  total points: {}{}",
        s.points,
        if s.tier.is_empty() {
            String::new()
        } else {
            format!(", tier {}", s.tier)
        }
    );
    println!("  reasons:");
    let (codes, sentences): (Vec<String>, Vec<String>) = match &row {
        Some(r) => (
            r[4].split(';').map(String::from).collect(),
            r[5].split(" | ").map(String::from).collect(),
        ),
        None => (
            s.reasons.iter().map(|r| r.code.clone()).collect(),
            s.reasons.iter().map(|r| r.sentence.clone()).collect(),
        ),
    };
    for (code, sentence) in codes.iter().zip(sentences.iter()) {
        println!("    {code:<24} {sentence}");
    }
    if let Some(r) = find_row(&out.join("allocations.csv"), &addr)? {
        let amount: u128 = r[1].parse().unwrap_or(0);
        let unit = 10u128.pow(c.decimals);
        println!(
            "  allocation: {}.{:0width$} {} ({} base units)",
            amount / unit,
            amount % unit,
            c.token,
            amount,
            width = c.decimals as usize
        );
    } else {
        println!("  allocation: none");
    }
    Ok(())
}
