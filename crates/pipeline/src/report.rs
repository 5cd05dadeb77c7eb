//! `report.json` and `report.html`: the run's figures for the operator, the second one a single
//! self-contained page (inline CSS and SVG charts, no network).
//!
//! Figures: the funnel of the eleven steps, how many wallets each gate removed (alone and in
//! sequence), exclusions, sybil clusters, points and allocation histograms, the Lorenz curve
//! and Gini coefficient of the allocation, top-1% / top-10% shares, and the tier table.
//! Charts are hand-written SVG: deterministic bytes, no font files, no dependency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use fairdrop_allocate::stats::{Distribution, Sorted};
use fairdrop_core::steps::STEPS;
use fairdrop_policy::campaign::Campaign;

use crate::{io, RunError, RunSummary, WalletState};

#[derive(Clone, Debug, serde::Serialize)]
pub struct StepRow {
    pub number: u8,
    pub key: String,
    pub title: String,
    pub wallets: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct GateRow {
    pub id: String,
    pub expr: String,
    /// Wallets failing this gate (whatever else they failed).
    pub failed: u64,
    /// Wallets removed by this gate in campaign order (they passed every gate before it).
    pub removed_in_sequence: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct TierRow {
    pub name: String,
    pub min_points: i64,
    pub wallets: u64,
    pub amount: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub campaign: String,
    pub name: String,
    pub token: String,
    pub decimals: u32,
    pub pool: String,
    pub wallets_scored: u64,
    pub eligible: u64,
    pub steps: Vec<StepRow>,
    pub gates: Vec<GateRow>,
    pub exclusions: BTreeMap<String, u64>,
    pub penalties: BTreeMap<String, u64>,
    pub sybil_flagged: u64,
    pub sybil_clusters: u64,
    pub tiers: Vec<TierRow>,
    pub points: Distribution,
    pub allocation: Distribution,
    pub top_1_percent_share: f64,
    pub top_10_percent_share: f64,
}

pub fn build(
    c: &Campaign,
    wallets: &[WalletState],
    allocs: &[fairdrop_allocate::Allocation],
    s: &RunSummary,
) -> Report {
    let steps = STEPS
        .iter()
        .enumerate()
        .map(|(k, st)| StepRow {
            number: st.number,
            key: st.key.into(),
            title: st.title.into(),
            wallets: wallets.iter().filter(|w| w.steps >> k & 1 == 1).count() as u64,
        })
        .collect();
    let mut gates: Vec<GateRow> = c
        .gates
        .iter()
        .map(|g| GateRow {
            id: g.id.clone(),
            expr: g.expr.source.clone(),
            failed: 0,
            removed_in_sequence: 0,
        })
        .collect();
    let mut exclusions = BTreeMap::new();
    let mut penalties = BTreeMap::new();
    for w in wallets {
        if let Some(first) = w.score.gates.iter().position(|(_, ok)| !ok) {
            gates[first].removed_in_sequence += 1;
        }
        for (i, (_, ok)) in w.score.gates.iter().enumerate() {
            if !ok {
                gates[i].failed += 1;
            }
        }
        for r in &w.score.reasons {
            if let Some(x) = r.code.strip_prefix("excluded.") {
                *exclusions.entry(x.to_string()).or_insert(0u64) += 1;
            }
            if let Some(x) = r.code.strip_prefix("penalty.") {
                *penalties.entry(x.to_string()).or_insert(0u64) += 1;
            }
        }
    }
    let mut tiers: Vec<TierRow> = c
        .tiers
        .iter()
        .map(|t| TierRow {
            name: t.name.clone(),
            min_points: t.min_points,
            wallets: 0,
            amount: "0".into(),
        })
        .collect();
    let mut tier_amounts = vec![0u128; tiers.len()];
    for a in allocs {
        if let Some(i) = tiers.iter().position(|t| Some(&t.name) == a.tier.as_ref()) {
            tiers[i].wallets += 1;
            tier_amounts[i] += a.amount;
        }
    }
    for (t, a) in tiers.iter_mut().zip(tier_amounts) {
        t.amount = a.to_string();
    }
    let points = Sorted::new(
        wallets
            .iter()
            .filter(|w| w.score.eligible)
            .map(|w| w.score.points as u128),
    );
    let amounts = Sorted::new(allocs.iter().map(|a| a.amount));
    Report {
        campaign: c.id.clone(),
        name: c.name.clone(),
        token: c.token.clone(),
        decimals: c.decimals,
        pool: c.pool.to_string(),
        wallets_scored: s.wallets_scored,
        eligible: s.eligible,
        steps,
        gates,
        exclusions,
        penalties,
        sybil_flagged: s.sybil_flagged,
        sybil_clusters: s.sybil_clusters,
        tiers,
        top_1_percent_share: amounts.top_share(1),
        top_10_percent_share: amounts.top_share(10),
        points: points.describe(100),
        allocation: amounts.describe(100),
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal bar chart.
fn bars(title: &str, rows: &[(String, u64)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let h = 22 * rows.len() + 30;
    let mut s = format!("<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 640 {h}\" width=\"640\" height=\"{h}\" role=\"img\">", esc(title));
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 10 + i * 22;
        let w = (*v as f64 / max as f64 * 380.0).round();
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"200\" y=\"{y}\" width=\"{w}\" height=\"16\" fill=\"#3b7dd8\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{v}</text>",
            y + 12,
            esc(label),
            205.0 + w,
            y + 12
        );
    }
    s.push_str("</svg></figure>");
    s
}

fn lorenz_svg(d: &Distribution) -> String {
    let mut pts = String::from("0,300");
    for p in &d.lorenz {
        let _ = write!(
            pts,
            " {:.1},{:.1}",
            p.population * 300.0,
            300.0 - p.share * 300.0
        );
    }
    format!(
        "<figure><figcaption>Lorenz curve of the allocation (Gini {:.3})</figcaption><svg viewBox=\"-10 -10 320 320\" width=\"320\" height=\"320\" role=\"img\">\
<rect x=\"0\" y=\"0\" width=\"300\" height=\"300\" fill=\"none\" stroke=\"#999\"/><line x1=\"0\" y1=\"300\" x2=\"300\" y2=\"0\" stroke=\"#bbb\" stroke-dasharray=\"4\"/>\
<polyline points=\"{pts}\" fill=\"none\" stroke=\"#d8503b\" stroke-width=\"2\"/></svg></figure>",
        d.gini
    )
}

fn hist(title: &str, d: &Distribution, scale: u128, unit: &str) -> String {
    let rows: Vec<(String, u64)> = d
        .histogram
        .iter()
        .map(|b| {
            (
                format!(
                    "{} – {} {unit}",
                    fmt_units(b.lo, scale),
                    fmt_units(b.hi, scale)
                ),
                b.count,
            )
        })
        .collect();
    bars(title, &rows)
}

fn fmt_units(v: u128, scale: u128) -> String {
    if scale <= 1 {
        return v.to_string();
    }
    let whole = v / scale;
    let frac = v % scale;
    if frac == 0 {
        whole.to_string()
    } else {
        let digits = scale.to_string().len() - 1;
        let f = format!("{frac:0digits$}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }
}

pub fn html(r: &Report) -> String {
    let scale = 10u128.pow(r.decimals);
    let pool: u128 = r.pool.parse().unwrap_or(0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — fairdrop report</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}th{{background:#f3f3f3}}td:first-child{{text-align:left}}figure{{margin:1em 0}}figcaption{{font-weight:600;margin-bottom:.4em}}</style></head><body>",
        esc(&r.name)
    );
    let _ = write!(
        s,
        "<h1>{}</h1><p>Campaign <code>{}</code>: pool {} {} to {} eligible wallets of {} scored. Top 1% of recipients hold {:.1}%, top 10% hold {:.1}%; Gini {:.3}.</p>",
        esc(&r.name),
        esc(&r.campaign),
        fmt_units(pool, scale),
        esc(&r.token),
        r.eligible,
        r.wallets_scored,
        r.top_1_percent_share * 100.0,
        r.top_10_percent_share * 100.0,
        r.allocation.gini
    );
    s.push_str("<h2>Participation: the eleven steps</h2>");
    s.push_str(&bars(
        "Wallets that did each step",
        &r.steps
            .iter()
            .map(|st| (format!("{}. {}", st.number, st.title), st.wallets))
            .collect::<Vec<_>>(),
    ));
    s.push_str("<h2>Eligibility funnel</h2><table><tr><th>gate</th><th>expression</th><th>failed</th><th>removed in sequence</th></tr>");
    for g in &r.gates {
        let _ = write!(
            s,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(&g.id),
            esc(&g.expr),
            g.failed,
            g.removed_in_sequence
        );
    }
    s.push_str("</table>");
    let mut funnel = vec![("scored".to_string(), r.wallets_scored)];
    let mut left = r.wallets_scored;
    for g in &r.gates {
        left = left.saturating_sub(g.removed_in_sequence);
        funnel.push((format!("after {}", g.id), left));
    }
    funnel.push(("eligible (all checks)".into(), r.eligible));
    s.push_str(&bars("Wallets left after each gate", &funnel));
    let _ = write!(
        s,
        "<p>Exclusion lists: {}. Penalties: {}. Sybil stage: {} wallets in {} clusters.</p>",
        if r.exclusions.is_empty() {
            "none hit".to_string()
        } else {
            r.exclusions
                .iter()
                .map(|(k, v)| format!("{} {v}", esc(k)))
                .collect::<Vec<_>>()
                .join(", ")
        },
        if r.penalties.is_empty() {
            "none".to_string()
        } else {
            r.penalties
                .iter()
                .map(|(k, v)| format!("{} {v}", esc(k)))
                .collect::<Vec<_>>()
                .join(", ")
        },
        r.sybil_flagged,
        r.sybil_clusters
    );
    s.push_str("<h2>Tiers</h2><table><tr><th>tier</th><th>min points</th><th>wallets</th><th>amount</th></tr>");
    for t in &r.tiers {
        let a: u128 = t.amount.parse().unwrap_or(0);
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td></tr>",
            esc(&t.name),
            t.min_points,
            t.wallets,
            fmt_units(a, scale),
            esc(&r.token)
        );
    }
    s.push_str("</table><h2>Points and allocation</h2>");
    s.push_str(&hist("Points of eligible wallets", &r.points, 1, "points"));
    s.push_str(&hist(
        "Allocation per wallet",
        &r.allocation,
        scale,
        &r.token,
    ));
    s.push_str(&lorenz_svg(&r.allocation));
    let a = &r.allocation.summary;
    let _ = write!(
        s,
        "<table><tr><th></th><th>wallets</th><th>min</th><th>median</th><th>mean</th><th>max</th></tr><tr><td>allocation ({})</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{}</td></tr></table>",
        esc(&r.token),
        a.count,
        fmt_units(a.min, scale),
        a.median / scale as f64,
        a.mean / scale as f64,
        fmt_units(a.max, scale)
    );
    s.push_str("<p>Made by fairdrop. Every figure is also in <code>report.json</code>.</p></body></html>\n");
    s
}

pub fn write(dir: &Path, r: &Report) -> Result<(), RunError> {
    let json = serde_json::to_vec_pretty(r).expect("report serialises");
    fairdrop_core::fsutil::write_atomic(dir.join("report.json"), &json).map_err(io(dir))?;
    fairdrop_core::fsutil::write_atomic(dir.join("report.html"), html(r).as_bytes())
        .map_err(io(dir))
}
