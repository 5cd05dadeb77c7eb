//! Scoring one wallet: exclusions, gates, points with caps, penalties, tier — each verdict
//! with a reason code and one human sentence.
//!
//! Reason codes: `excluded.<list>`, `gate.<id>`, `error.<rule>` (an expression could not be
//! evaluated for this wallet: e.g. overflow), `penalty.<id>`, `points.zero`, `tier.none`,
//! `eligible`. The sybil stage adds `sybil.<cluster>` later.

use std::collections::HashSet;

use fairdrop_core::hash::FxMap;
use std::sync::Arc;

use crate::campaign::Campaign;
use crate::expr::Compiled;
use crate::features::{definitions, Features, Kind};

/// A reason for a verdict.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Reason {
    pub code: String,
    pub sentence: String,
}

/// What the scorer decided for one wallet.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WalletScore {
    pub address: String,
    pub eligible: bool,
    pub points: u64,
    pub tier: String,
    pub reasons: Vec<Reason>,
    /// Points per rule (after caps), in campaign order. The rule ids are shared with the
    /// scorer (`Arc<str>`): a `String` per rule per wallet was about 1 KB a wallet, 1 GB of a
    /// 1M-wallet run.
    pub breakdown: Vec<(Arc<str>, i64)>,
    /// Gates passed (true) or failed, in campaign order.
    pub gates: Vec<(Arc<str>, bool)>,
}

pub struct Scorer<'c> {
    c: &'c Campaign,
    excluded: FxMap<String, usize>,
    names: Vec<(String, Kind)>,
    /// Features each gate reads (see [`Scorer::used`]), in campaign order.
    gate_used: Vec<Vec<usize>>,
    /// Features each penalty's condition reads.
    penalty_used: Vec<Vec<usize>>,
    gate_ids: Vec<Arc<str>>,
    point_ids: Vec<Arc<str>>,
}

impl<'c> Scorer<'c> {
    pub fn new(c: &'c Campaign) -> Self {
        let mut excluded = FxMap::default();
        for (i, x) in c.exclusions.iter().enumerate() {
            for a in &x.addresses {
                excluded.entry(a.clone()).or_insert(i);
            }
        }
        let names: Vec<(String, Kind)> = definitions()
            .into_iter()
            .map(|d| (d.name, d.kind))
            .collect();
        Scorer {
            c,
            excluded,
            gate_used: c
                .gates
                .iter()
                .map(|g| Self::used(&names, &g.expr))
                .collect(),
            penalty_used: c
                .penalties
                .iter()
                .map(|p| Self::used(&names, &p.when))
                .collect(),
            names,
            gate_ids: c.gates.iter().map(|g| Arc::from(g.id.as_str())).collect(),
            point_ids: c.points.iter().map(|p| Arc::from(p.id.as_str())).collect(),
        }
    }

    /// Indices (into `names`) of the features `e` reads, in definition order: worked out
    /// once per rule, not once per wallet that fails it.
    fn used(names: &[(String, Kind)], e: &Compiled) -> Vec<usize> {
        let used: HashSet<&str> = e.features.iter().map(String::as_str).collect();
        names
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| used.contains(n.as_str()))
            .map(|(i, _)| i)
            .collect()
    }

    /// Show the values of the features an expression reads (`used`, from [`Self::used`]):
    /// " (swaps = 2, trades = 0)".
    fn values(&self, used: &[usize], f: &Features) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for (j, &i) in used.iter().enumerate() {
            out.push_str(if j == 0 { " (" } else { ", " });
            let (n, k) = &self.names[i];
            let _ = match k {
                Kind::Int => write!(out, "{n} = {}", f.get_int(i)),
                Kind::Bool => write!(out, "{n} = {}", f.get_int(i) != 0),
                Kind::Str => write!(out, "{n} = {:?}", f.get_str(i)),
            };
        }
        if !used.is_empty() {
            out.push(')');
        }
        out
    }

    pub fn score(&self, f: &Features) -> WalletScore {
        let c = self.c;
        let mut reasons = Vec::new();
        let mut eligible = true;
        if let Some(&i) = self.excluded.get(&f.address) {
            let x = &c.exclusions[i];
            reasons.push(Reason {
                code: format!("excluded.{}", x.id),
                sentence: x.reason.clone(),
            });
            eligible = false;
        }
        let mut gates = Vec::with_capacity(c.gates.len());
        for ((g, id), used) in c.gates.iter().zip(&self.gate_ids).zip(&self.gate_used) {
            match g.expr.eval_bool(f) {
                Ok(true) => gates.push((id.clone(), true)),
                Ok(false) => {
                    gates.push((id.clone(), false));
                    eligible = false;
                    reasons.push(Reason {
                        code: format!("gate.{}", g.id),
                        sentence: format!("{}{}", g.reason, self.values(used, f)),
                    });
                }
                Err(e) => {
                    gates.push((id.clone(), false));
                    eligible = false;
                    reasons.push(Reason {
                        code: format!("error.{}", g.id),
                        sentence: format!("Gate `{}` could not be evaluated: {e}", g.id),
                    });
                }
            }
        }
        let mut total: i64 = 0;
        let mut breakdown = Vec::with_capacity(c.points.len());
        for (p, id) in c.points.iter().zip(&self.point_ids) {
            let v = match p.expr.eval_int(f) {
                Ok(v) => v,
                Err(e) => {
                    reasons.push(Reason {
                        code: format!("error.{}", p.id),
                        sentence: format!(
                            "Points rule `{}` could not be evaluated: {e}; it counts 0",
                            p.id
                        ),
                    });
                    0
                }
            };
            let v = match p.cap {
                Some(cap) => v.min(cap),
                None => v,
            };
            breakdown.push((id.clone(), v));
            total = total.saturating_add(v);
        }
        let mut points = total.max(0);
        for (pen, used) in c.penalties.iter().zip(&self.penalty_used) {
            match pen.when.eval_bool(f) {
                Ok(true) => {
                    let before = points;
                    points = (points as i128 * pen.keep_percent as i128 / 100) as i64;
                    reasons.push(Reason {
                        code: format!("penalty.{}", pen.id),
                        sentence: format!(
                            "{} Points {before} → {points} ({}% kept){}.",
                            pen.reason,
                            pen.keep_percent,
                            self.values(used, f)
                        ),
                    });
                }
                Ok(false) => {}
                Err(e) => reasons.push(Reason {
                    code: format!("error.{}", pen.id),
                    sentence: format!("Penalty `{}` could not be evaluated: {e}", pen.id),
                }),
            }
        }
        let points = points as u64;
        let tier = c
            .tiers
            .iter()
            .find(|t| points as i64 >= t.min_points)
            .map(|t| t.name.clone());
        if eligible && points == 0 {
            eligible = false;
            reasons.push(Reason {
                code: "points.zero".into(),
                sentence: "No points were earned in the activity window.".into(),
            });
        }
        if eligible && !c.tiers.is_empty() && tier.is_none() {
            eligible = false;
            let lowest = c.tiers.last().map(|t| t.min_points).unwrap_or(0);
            reasons.push(Reason {
                code: "tier.none".into(),
                sentence: format!("{points} points is below the lowest tier ({lowest} points)."),
            });
        }
        if eligible {
            let t = tier
                .as_deref()
                .map(|t| format!(", tier {t}"))
                .unwrap_or_default();
            reasons.push(Reason {
                code: "eligible".into(),
                sentence: format!("Eligible with {points} points{t}."),
            });
        }
        WalletScore {
            address: f.address.clone(),
            eligible,
            points,
            tier: tier.unwrap_or_default(),
            reasons,
            breakdown,
            gates,
        }
    }
}
