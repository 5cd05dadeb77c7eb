//! The world plan: who exists, in which groups, with which addresses. Built once, shared
//! read-only by the generator threads.

use fairdrop_core::Address;

use crate::rng::{cumulative, derive_key, Rng};
use crate::{FarmStyle, SimConfig};

/// Length of every Aleo address string.
pub(crate) const ALEO_LEN: usize = 63;
/// Wallets per generation chunk (chunks are whole units, so a chunk may be a little larger).
pub(crate) const CHUNK_WALLETS: u32 = 2048;

// PRNG domains: each kind of decision draws from its own stream.
pub(crate) const D_PLAN: u64 = 1;
pub(crate) const D_ADDR: u64 = 2;
pub(crate) const D_HUB: u64 = 3;
pub(crate) const D_UNIT: u64 = 4;
pub(crate) const D_EVM: u64 = 5;
pub(crate) const D_FARM_EVM: u64 = 6;
pub(crate) const D_TX: u64 = 7;
pub(crate) const D_ADDR_ORDER: u64 = 8;

/// Roles, one byte per wallet.
pub(crate) const R_ORGANIC: u8 = 0;
pub(crate) const R_FRIEND: u8 = 1;
pub(crate) const R_MULTI: u8 = 2;
pub(crate) const R_FARM_MEMBER: u8 = 3;
pub(crate) const R_FARM_FUNDER: u8 = 4;
pub(crate) const R_FARM_COLLECTOR: u8 = 5;

/// Hub kinds, in hub index order after the exchanges.
pub(crate) const HUB_FAUCET: usize = 0;
pub(crate) const HUB_BRIDGE: usize = 1;
pub(crate) const HUB_DEX: usize = 2;
pub(crate) const HUB_ORDERBOOK: usize = 3;
pub(crate) const PROGRAM_HUBS: [(&str, &str); 4] = [
    ("faucet", "faucet.aleo.org"),
    ("bridge", "izar_bridge.aleo"),
    ("dex", "aleoswap.aleo"),
    ("orderbook", "privx.aleo"),
];

#[derive(Clone, Debug)]
pub(crate) struct FarmPlan {
    pub(crate) id: u32,
    pub(crate) style: FarmStyle,
    /// Participating wallets (excluding funder and collector).
    pub(crate) members: u32,
    pub(crate) has_funder: bool,
    pub(crate) has_collector: bool,
    /// The exchange the farm's money comes from and goes back to.
    pub(crate) exchange: u16,
}

#[derive(Clone, Debug)]
pub(crate) enum UnitKind {
    /// One organic wallet. `forced_exchange`: funded by this exchange (so every exchange funds
    /// someone); `all_steps`: does all eleven steps.
    Organic {
        forced_exchange: Option<u16>,
        all_steps: bool,
    },
    /// A friend group of 3..=8 wallets.
    Friends,
    /// One person's 2..=3 wallets: the first funds the others.
    Multi,
    Farm(Box<FarmPlan>),
}

#[derive(Clone, Debug)]
pub(crate) struct Unit {
    pub(crate) kind: UnitKind,
    pub(crate) start: u32,
    pub(crate) len: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Hub {
    pub(crate) name: String,
    pub(crate) kind: &'static str,
    pub(crate) addr: String,
}

pub(crate) struct World {
    pub(crate) cfg: SimConfig,
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) n: u32,
    addr_text: String,
    pub(crate) role: Vec<u8>,
    pub(crate) units: Vec<Unit>,
    /// Exchanges first (`n_exchanges`), then the program hubs in `PROGRAM_HUBS` order.
    pub(crate) hubs: Vec<Hub>,
    pub(crate) n_exchanges: u16,
    pub(crate) exchange_cum: Vec<u32>,
    pub(crate) quest_ids: Vec<String>,
    pub(crate) tx_key: u64,
    /// Unit ranges `[a, b)` of each chunk.
    pub(crate) chunks: Vec<(usize, usize)>,
}

/// A valid Aleo address from a stream: random x below 2^252 (so below the modulus), retried
/// until a curve point has that x-coordinate (about half do).
pub(crate) fn aleo_address(rng: &mut Rng) -> Address {
    loop {
        let mut x = [0u8; 32];
        for c in x.chunks_mut(8) {
            c.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        x[31] &= 0x0f;
        if let Ok(a) = Address::aleo_from_x(x) {
            return a;
        }
    }
}

impl World {
    pub(crate) fn build(cfg: &SimConfig, threads: usize) -> World {
        let n = cfg.wallets as u32;
        let seed = cfg.seed;
        let mut rng = Rng::derive(seed, D_PLAN, 0);

        let n_exchanges = (n / 40_000).clamp(3, 30) as u16;
        // Exchange popularity ~ 1/rank.
        let ew: Vec<u32> = (0..n_exchanges as u32).map(|e| 1000 / (e + 1)).collect();
        let exchange_cum = cumulative(&ew);

        // ---- units ----
        let mut units: Vec<Unit> = Vec::with_capacity(n as usize);
        let mut used: u32 = 0;
        let unit = |kind, len| Unit {
            kind,
            start: 0,
            len,
        };

        // Sybil farms: ~12% of wallets.
        let sybil_budget = n * 12 / 100;
        let styles = [
            FarmStyle::Star,
            FarmStyle::Chain,
            FarmStyle::Exchange,
            FarmStyle::Stealth,
        ];
        let style_cum = cumulative(&[35, 20, 25, 20]);
        let mut farm_id = 0u32;
        let mut sybil_used = 0u32;
        loop {
            let style = if farm_id < 4 {
                styles[farm_id as usize]
            } else {
                styles[rng.weighted(&style_cum)]
            };
            let (has_funder, has_collector) = match style {
                FarmStyle::Star | FarmStyle::Stealth => (true, true),
                FarmStyle::Chain => (false, true),
                FarmStyle::Exchange => (false, false),
            };
            let extra = has_funder as u32 + has_collector as u32;
            let left = sybil_budget - sybil_used;
            if left < 5 + extra {
                break;
            }
            // Size classes: small 5-15 (45%), medium 16-60 (35%), large 61-200 (20%).
            let mut size = match rng.below(100) {
                0..=44 => rng.range(5, 15),
                45..=79 => rng.range(16, 60),
                _ => rng.range(61, 200),
            } as u32;
            if farm_id < 4 {
                // Leave room for every style to appear even in a small world.
                size = size.min((sybil_budget / 5).max(5));
            }
            size = size.min(left - extra);
            let exchange = rng.weighted(&exchange_cum) as u16;
            units.push(unit(
                UnitKind::Farm(Box::new(FarmPlan {
                    id: farm_id,
                    style,
                    members: size,
                    has_funder,
                    has_collector,
                    exchange,
                })),
                size + extra,
            ));
            sybil_used += size + extra;
            farm_id += 1;
        }
        used += sybil_used;

        // Friend groups: ~8% of wallets, 3..=8 each.
        let friends_budget = n * 8 / 100;
        let mut f_used = 0;
        while friends_budget - f_used >= 3 {
            let len = (rng.range(3, 8) as u32).min(friends_budget - f_used);
            units.push(unit(UnitKind::Friends, len));
            f_used += len;
        }
        used += f_used;

        // People with several wallets: ~5% of wallets, 2 (80%) or 3 each.
        let multi_budget = n * 5 / 100;
        let mut m_used = 0;
        while multi_budget - m_used >= 2 {
            let len = if rng.chance(800) { 2 } else { 3 }.min(multi_budget - m_used);
            units.push(unit(UnitKind::Multi, len));
            m_used += len;
        }
        used += m_used;

        // Everyone else: single organic wallets.
        for _ in used..n {
            units.push(unit(
                UnitKind::Organic {
                    forced_exchange: None,
                    all_steps: false,
                },
                1,
            ));
        }
        rng.shuffle(&mut units);

        // Start indices, roles, and the forced exchange customers.
        let mut role = vec![R_ORGANIC; n as usize];
        let mut next = 0u32;
        let mut organic_seen = 0u32;
        for u in units.iter_mut() {
            u.start = next;
            next += u.len;
            let r = &mut role[u.start as usize..(u.start + u.len) as usize];
            match &mut u.kind {
                UnitKind::Organic {
                    forced_exchange,
                    all_steps,
                } => {
                    if organic_seen < 2 * n_exchanges as u32 {
                        *forced_exchange = Some((organic_seen % n_exchanges as u32) as u16);
                    }
                    *all_steps = organic_seen < 4;
                    organic_seen += 1;
                }
                UnitKind::Friends => r.fill(R_FRIEND),
                UnitKind::Multi => r.fill(R_MULTI),
                UnitKind::Farm(f) => {
                    r.fill(R_FARM_MEMBER);
                    if f.has_funder {
                        r[0] = R_FARM_FUNDER;
                    }
                    if f.has_collector {
                        r[r.len() - 1] = R_FARM_COLLECTOR;
                    }
                }
            }
        }
        debug_assert_eq!(next, n);

        // Chunks of whole units.
        let mut chunks = Vec::new();
        let (mut a, mut w) = (0usize, 0u32);
        for (i, u) in units.iter().enumerate() {
            w += u.len;
            if w >= CHUNK_WALLETS {
                chunks.push((a, i + 1));
                a = i + 1;
                w = 0;
            }
        }
        if a < units.len() {
            chunks.push((a, units.len()));
        }

        // Hubs.
        let mut hubs = Vec::new();
        for e in 0..n_exchanges as u64 {
            let a = aleo_address(&mut Rng::derive(seed, D_HUB, e));
            hubs.push(Hub {
                name: format!("exchange_{:02}", e + 1),
                kind: "exchange",
                addr: a.to_string(),
            });
        }
        for (k, (kind, program)) in PROGRAM_HUBS.iter().enumerate() {
            let a = aleo_address(&mut Rng::derive(seed, D_HUB, 1000 + k as u64));
            hubs.push(Hub {
                name: program.to_string(),
                kind,
                addr: a.to_string(),
            });
        }

        let quest_ids = (1..=40).map(|q| format!("aleoofficial_q{q:02}")).collect();
        let window = 365 * 86_400;
        World {
            cfg: cfg.clone(),
            start: cfg.snapshot - window,
            end: cfg.snapshot,
            n,
            addr_text: wallet_addresses(seed, n, threads),
            role,
            units,
            hubs,
            n_exchanges,
            exchange_cum,
            quest_ids,
            tx_key: derive_key(seed, D_TX, 0),
            chunks,
        }
    }

    /// Canonical address text of wallet `i`.
    #[inline]
    pub(crate) fn addr(&self, i: u32) -> &str {
        let a = i as usize * ALEO_LEN;
        &self.addr_text[a..a + ALEO_LEN]
    }

    #[inline]
    pub(crate) fn exchange(&self, e: u16) -> &str {
        &self.hubs[e as usize].addr
    }

    #[inline]
    pub(crate) fn program_hub(&self, k: usize) -> &str {
        &self.hubs[self.n_exchanges as usize + k].addr
    }

    /// A wallet's own EVM (Metamask) address.
    pub(crate) fn evm_of(&self, i: u32) -> [u8; 42] {
        evm(self.cfg.seed, D_EVM, i as u64)
    }

    /// The EVM address a farm operator reuses for all its wallets.
    pub(crate) fn farm_evm(&self, farm: u32) -> [u8; 42] {
        evm(self.cfg.seed, D_FARM_EVM, farm as u64)
    }

    pub(crate) fn is_organic(&self, i: u32) -> bool {
        self.role[i as usize] <= R_MULTI
    }
}

fn evm(seed: u64, domain: u64, i: u64) -> [u8; 42] {
    let mut r = Rng::derive(seed, domain, i);
    let mut b = [0u8; 20];
    b[..8].copy_from_slice(&r.next_u64().to_le_bytes());
    b[8..16].copy_from_slice(&r.next_u64().to_le_bytes());
    b[16..].copy_from_slice(&r.next_u64().to_le_bytes()[..4]);
    crate::fmt::evm_text(&b)
}

/// The scalar field modulus r of Edwards-BLS12-377 (the base field of the account curve),
/// little-endian 64-bit limbs.
const MODULUS: [u64; 4] = [
    0x0a11_8000_0000_0001,
    0x59aa_76fe_d000_0001,
    0x60b4_4d1e_5c37_b001,
    0x12ab_655e_9a2c_a556,
];

/// `r - x` for `0 < x < r`, as little-endian bytes.
fn negate(x: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0u64;
    for (k, m) in MODULUS.iter().enumerate() {
        let xi = u64::from_le_bytes(x[k * 8..k * 8 + 8].try_into().expect("8 bytes"));
        let (d1, b1) = m.overflowing_sub(xi);
        let (d2, b2) = d1.overflowing_sub(borrow);
        borrow = (b1 | b2) as u64;
        out[k * 8..k * 8 + 8].copy_from_slice(&d2.to_le_bytes());
    }
    out
}

/// Address pair `k`: a random on-curve x from stream `k`, and its negation `r - x` (a point
/// exists for x exactly when one exists for -x, since the curve equation only involves x²,
/// so one curve check serves two wallets).
fn address_pair(seed: u64, k: u64) -> (Address, Address) {
    let mut rng = Rng::derive(seed, D_ADDR, k);
    loop {
        let a = aleo_address(&mut rng);
        let x = match a {
            Address::Aleo(x) => x,
            Address::Evm(_) => continue,
        };
        if x == [0; 32] {
            continue;
        }
        return (a, Address::Aleo(negate(&x)));
    }
}

/// All wallet addresses, 63 bytes each, computed in parallel. Each pair depends only on
/// (seed, pair index) and the dealing order only on the seed, so the result does not depend
/// on `threads`.
fn wallet_addresses(seed: u64, n: u32, threads: usize) -> String {
    let pairs = (n as usize).div_ceil(2);
    let mut text = vec![0u8; pairs * 2 * ALEO_LEN];
    let per = pairs.div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        for (t, part) in text.chunks_mut(per * 2 * ALEO_LEN).enumerate() {
            s.spawn(move || {
                for (j, slot) in part.chunks_mut(2 * ALEO_LEN).enumerate() {
                    let (a, b) = address_pair(seed, (t * per + j) as u64);
                    slot[..ALEO_LEN].copy_from_slice(a.to_string().as_bytes());
                    slot[ALEO_LEN..].copy_from_slice(b.to_string().as_bytes());
                }
            });
        }
    });
    // Deal the addresses out in a random order, so that the two halves of a pair land in
    // unrelated units (a pair must not hint that two wallets belong together).
    let mut order: Vec<u32> = (0..n).collect();
    Rng::derive(seed, D_ADDR_ORDER, 0).shuffle(&mut order);
    let mut dealt = Vec::with_capacity(n as usize * ALEO_LEN);
    for &slot in &order {
        let a = slot as usize * ALEO_LEN;
        dealt.extend_from_slice(&text[a..a + ALEO_LEN]);
    }
    // Bech32 text is ASCII.
    String::from_utf8(dealt).expect("bech32 text is ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negated_x_is_on_the_curve_too() {
        for k in 0..50 {
            let (a, b) = address_pair(9, k);
            // Parsing runs the full check (below the modulus, point on the curve).
            let b2: Address = b.to_string().parse().unwrap();
            assert_eq!(b, b2);
            assert_ne!(a, b);
        }
    }
}
