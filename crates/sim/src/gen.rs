//! Event generation: one unit (a wallet, a friend group, a person's wallets, a farm) at a time,
//! each from its own PRNG stream, written straight into a CSV byte buffer.

use crate::fmt::{b32_8, Out};
use crate::rng::{mix64, Rng};
use crate::world::*;
use crate::FarmStyle;

pub(crate) const N_ACTIONS: usize = 17;

/// The built-in actions, in `fairdrop_core::actions::BUILTIN` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Action {
    Transfer,
    Stake,
    Unstake,
    Vote,
    FaucetClaim,
    Greenlist,
    BridgeIn,
    BridgeOut,
    Swap,
    AddLiquidity,
    RemoveLiquidity,
    DomainRegister,
    TokenLaunch,
    Trade,
    Quest,
    DeployProgram,
    NftMint,
}

impl Action {
    pub(crate) fn name(i: usize) -> &'static str {
        fairdrop_core::actions::BUILTIN[i]
    }
    fn as_str(self) -> &'static str {
        Action::name(self as usize)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chain {
    Aleo,
    Sepolia,
    Zealy,
    Greenlist,
}

// Programs and assets.
const CREDITS: &str = "credits";
const ETH: &str = "ETH";
const USDT: &str = "USDT";
const P_CREDITS: &str = "credits.aleo";
const P_FAUCET: &str = PROGRAM_HUBS[HUB_FAUCET].1;
const P_BRIDGE: &str = PROGRAM_HUBS[HUB_BRIDGE].1;
const P_ALEOSWAP: &str = PROGRAM_HUBS[HUB_DEX].1;
const P_PRIVX: &str = PROGRAM_HUBS[HUB_ORDERBOOK].1;
const P_SWAPS: [&str; 2] = [P_ALEOSWAP, "arcane_finance.aleo"];
const P_SEPOLIA_FAUCET: &str = "sepoliafaucet.com";
const P_GREENLIST: &str = "leo_wallet_greenlist";
const P_ANS: &str = "aleo_name_service_registry.aleo";
const P_TOKENS: &str = "token_registry.aleo";
const P_VOTES: [&str; 3] = [
    "aleo_governance.aleo",
    "arcane_dao.aleo",
    "aleoswap_gov.aleo",
];
const P_NFTS: [&str; 4] = [
    "leo_nft.aleo",
    "arcane_nft.aleo",
    "aleo_punks.aleo",
    "zk_art.aleo",
];

const CREDIT: u128 = 1_000_000;
const MILLI_ETH: u128 = 1_000_000_000_000_000;
/// The Aleo faucet hands out a fixed 10 credits; the Sepolia faucet 0.5 ETH.
const FAUCET_AMOUNT: u128 = 10 * CREDIT;
const SEPOLIA_AMOUNT: u128 = 500 * MILLI_ETH;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// What one wallet does at one moment; may produce more than one row (e.g. the faucet's own
/// transfer follows a claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Task {
    Greenlist,
    AleoFaucet,
    SepoliaFaucet,
    Bridge,
    Swap(u8),
    AddLiquidity,
    RemoveLiquidity,
    Domain,
    TokenLaunch,
    Trade,
    Quest(u8),
    Stake,
    Unstake,
    Vote(u8),
    Nft(u8),
    Deploy,
    BridgeOut,
}

struct Row<'a> {
    t: i64,
    chain: Chain,
    addr: &'a str,
    action: Action,
    cp: &'a str,
    amount: Option<u128>,
    asset: &'a str,
    program: &'a str,
}

/// One chunk's output.
pub(crate) struct ChunkOut {
    pub(crate) buf: Vec<u8>,
    pub(crate) rows: u64,
    pub(crate) by_action: [u64; N_ACTIONS],
}

struct Gen<'w> {
    w: &'w World,
    out: Out,
    by_action: [u64; N_ACTIONS],
    rows: u64,
    tx_base: u64,
    tx_ctr: u64,
    /// Cumulative `BACKGROUND` weights: ordinary wallets, developers.
    background: [[u32; 15]; 2],
}

fn cumulative_15(w: [u32; 15]) -> [u32; 15] {
    let mut c = w;
    for k in 1..15 {
        c[k] += c[k - 1];
    }
    c
}

fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("")
}

/// Generate chunk `ci` of the world into `buf` (a recycled buffer).
pub(crate) fn gen_chunk(w: &World, ci: usize, buf: Vec<u8>) -> ChunkOut {
    let (a, b) = w.chunks[ci];
    let wallets: u64 = w.units[a..b].iter().map(|u| u.len as u64).sum();
    let mut g = Gen {
        w,
        out: Out::reuse(buf, (wallets * 60 * 150) as usize),
        by_action: [0; N_ACTIONS],
        rows: 0,
        tx_base: 0,
        tx_ctr: 0,
        background: [
            cumulative_15(BACKGROUND.map(|b| b.1)),
            cumulative_15(BACKGROUND.map(|b| b.2)),
        ],
    };
    for ui in a..b {
        let u = &w.units[ui];
        g.tx_base = (ui as u64) << 24;
        g.tx_ctr = 0;
        let mut rng = Rng::derive(w.cfg.seed, D_UNIT, ui as u64);
        match &u.kind {
            UnitKind::Organic {
                forced_exchange,
                all_steps,
            } => {
                let exchange = match forced_exchange {
                    Some(e) => Some(*e),
                    None if rng.chance(550) => Some(rng.weighted(&w.exchange_cum) as u16),
                    None => None,
                };
                g.organic(
                    &mut rng,
                    u.start,
                    &Org {
                        exchange,
                        friends: &[],
                        owner: None,
                        all_steps: *all_steps,
                        light: false,
                    },
                );
            }
            UnitKind::Friends => {
                let members: Vec<u32> = (u.start..u.start + u.len).collect();
                for (k, &m) in members.iter().enumerate() {
                    let exchange = if k == 0 || rng.chance(400) {
                        Some(rng.weighted(&w.exchange_cum) as u16)
                    } else {
                        None
                    };
                    g.organic(
                        &mut rng,
                        m,
                        &Org {
                            exchange,
                            friends: &members,
                            owner: None,
                            all_steps: false,
                            light: false,
                        },
                    );
                }
            }
            UnitKind::Multi => {
                let main = u.start;
                let exchange = if rng.chance(700) {
                    Some(rng.weighted(&w.exchange_cum) as u16)
                } else {
                    None
                };
                g.organic(
                    &mut rng,
                    main,
                    &Org {
                        exchange,
                        friends: &[],
                        owner: None,
                        all_steps: false,
                        light: false,
                    },
                );
                for second in main + 1..main + u.len {
                    g.organic(
                        &mut rng,
                        second,
                        &Org {
                            exchange: None,
                            friends: &[],
                            owner: Some(main),
                            all_steps: false,
                            light: true,
                        },
                    );
                }
            }
            UnitKind::Farm(f) => g.farm(&mut rng, u, f),
        }
    }
    ChunkOut {
        buf: g.out.buf,
        rows: g.rows,
        by_action: g.by_action,
    }
}

struct Org<'a> {
    exchange: Option<u16>,
    /// The whole friend group (including this wallet), empty if none.
    friends: &'a [u32],
    /// Set for a person's secondary wallet: their main wallet.
    owner: Option<u32>,
    all_steps: bool,
    /// A secondary wallet: few events.
    light: bool,
}

/// Background actions (`None` = a transfer) with their weights for ordinary wallets and for
/// developers.
const BACKGROUND: [(Option<Task>, u32, u32); 15] = [
    (None, 28, 24),
    (Some(Task::Swap(0)), 20, 14),
    (Some(Task::Trade), 10, 6),
    (Some(Task::Stake), 7, 5),
    (Some(Task::Unstake), 3, 2),
    (Some(Task::Vote(0)), 6, 5),
    (Some(Task::Nft(0)), 6, 6),
    (Some(Task::AddLiquidity), 4, 3),
    (Some(Task::RemoveLiquidity), 2, 1),
    (Some(Task::Quest(0)), 4, 2),
    (Some(Task::AleoFaucet), 5, 4),
    (Some(Task::Bridge), 3, 2),
    (Some(Task::Domain), 1, 1),
    (Some(Task::BridgeOut), 1, 1),
    (Some(Task::Deploy), 0, 24),
];

impl<'w> Gen<'w> {
    fn emit(&mut self, r: Row<'_>) {
        let w = self.w;
        let t = r.t.clamp(w.start, w.end - 1);
        debug_assert!(self.tx_ctr < 1 << 24);
        let id = mix64((self.tx_base | self.tx_ctr) ^ w.tx_key);
        self.tx_ctr += 1;
        self.rows += 1;
        self.by_action[r.action as usize] += 1;
        let o = &mut self.out;
        o.timestamp(t);
        o.byte(b',');
        match r.chain {
            Chain::Aleo => {
                o.str("aleo,at1");
                o.b32_13(id);
            }
            Chain::Sepolia => {
                o.str("sepolia,0x");
                o.hex16(id);
                o.hex16(mix64(id ^ 1));
                o.hex16(mix64(id ^ 2));
                o.hex16(mix64(id ^ 3));
            }
            Chain::Zealy => {
                o.str("zealy,zq_");
                o.b32_13(id);
            }
            Chain::Greenlist => {
                o.str("greenlist,gl_");
                o.b32_13(id);
            }
        }
        o.byte(b',');
        o.str(r.addr);
        o.byte(b',');
        o.str(r.action.as_str());
        o.byte(b',');
        o.str(r.cp);
        o.byte(b',');
        if let Some(a) = r.amount {
            o.u128(a);
        }
        o.byte(b',');
        o.str(r.asset);
        o.byte(b',');
        o.str(r.program);
        o.byte(b'\n');
    }

    fn transfer(&mut self, t: i64, from: &str, to: &str, amount: u128, asset: &str) {
        self.emit(Row {
            t,
            chain: Chain::Aleo,
            addr: from,
            action: Action::Transfer,
            cp: to,
            amount: Some(amount),
            asset,
            program: P_CREDITS,
        });
    }

    fn simple(
        &mut self,
        t: i64,
        addr: &str,
        action: Action,
        amount: Option<u128>,
        asset: &str,
        program: &str,
    ) {
        self.emit(Row {
            t,
            chain: Chain::Aleo,
            addr,
            action,
            cp: "",
            amount,
            asset,
            program,
        });
    }

    /// Perform `task` for wallet `i` (address `me`, EVM wallet `evm`) at `t` with `amt`.
    #[allow(clippy::too_many_arguments)]
    fn task(&mut self, rng: &mut Rng, i: u32, me: &str, evm: &str, task: Task, t: i64, amt: u128) {
        let w = self.w;
        match task {
            Task::Greenlist => self.emit(Row {
                t,
                chain: Chain::Greenlist,
                addr: me,
                action: Action::Greenlist,
                cp: "",
                amount: None,
                asset: "",
                program: P_GREENLIST,
            }),
            Task::AleoFaucet => {
                self.simple(t, me, Action::FaucetClaim, Some(amt), CREDITS, P_FAUCET);
                // "It can take a few hours for tokens to arrive."
                let arrive = t + rng.range_i(600, 6 * HOUR);
                self.transfer(arrive, w.program_hub(HUB_FAUCET), me, amt, CREDITS);
            }
            Task::SepoliaFaucet => self.emit(Row {
                t,
                chain: Chain::Sepolia,
                addr: me,
                action: Action::FaucetClaim,
                cp: evm,
                amount: Some(amt),
                asset: ETH,
                program: P_SEPOLIA_FAUCET,
            }),
            Task::Bridge => {
                self.emit(Row {
                    t,
                    chain: Chain::Aleo,
                    addr: me,
                    action: Action::BridgeIn,
                    cp: evm,
                    amount: Some(amt),
                    asset: ETH,
                    program: P_BRIDGE,
                });
                let arrive = t + rng.range_i(120, 1800);
                self.transfer(arrive, w.program_hub(HUB_BRIDGE), me, amt, ETH);
            }
            Task::BridgeOut => self.emit(Row {
                t,
                chain: Chain::Aleo,
                addr: me,
                action: Action::BridgeOut,
                cp: evm,
                amount: Some(amt),
                asset: ETH,
                program: P_BRIDGE,
            }),
            Task::Swap(v) => {
                // "Make $ETH to $USDT swap and back."
                let p = P_SWAPS[v as usize % P_SWAPS.len()];
                self.simple(t, me, Action::Swap, Some(amt), ETH, p);
                let usdt = amt * 3000 / 1_000_000_000_000;
                let back = t + rng.range_i(60, 1800);
                self.simple(back, me, Action::Swap, Some(usdt), USDT, p);
            }
            Task::AddLiquidity => {
                self.simple(t, me, Action::AddLiquidity, Some(amt), ETH, P_ALEOSWAP)
            }
            Task::RemoveLiquidity => {
                self.simple(t, me, Action::RemoveLiquidity, Some(amt), ETH, P_ALEOSWAP);
                let pay = t + rng.range_i(30, 300);
                self.transfer(pay, w.program_hub(HUB_DEX), me, amt, ETH);
            }
            Task::Domain => self.simple(t, me, Action::DomainRegister, Some(amt), CREDITS, P_ANS),
            Task::TokenLaunch => {
                let mut sym = *b"TKN_00000000";
                sym[4..].copy_from_slice(
                    &b32_8(mix64(i as u64 ^ w.tx_key)).map(|c| c.to_ascii_uppercase()),
                );
                self.simple(t, me, Action::TokenLaunch, Some(amt), ascii(&sym), P_TOKENS);
            }
            Task::Trade => {
                // "Grab tokens in the Claim section", then trade.
                let claim = t - rng.range_i(60, 1800);
                self.transfer(claim, w.program_hub(HUB_ORDERBOOK), me, 1000 * CREDIT, USDT);
                self.simple(t, me, Action::Trade, Some(amt), USDT, P_PRIVX);
            }
            Task::Quest(q) => self.emit(Row {
                t,
                chain: Chain::Zealy,
                addr: me,
                action: Action::Quest,
                cp: "",
                amount: None,
                asset: "",
                program: &w.quest_ids[q as usize % w.quest_ids.len()],
            }),
            Task::Stake => self.simple(t, me, Action::Stake, Some(amt), CREDITS, P_CREDITS),
            Task::Unstake => self.simple(t, me, Action::Unstake, Some(amt), CREDITS, P_CREDITS),
            Task::Vote(v) => self.simple(t, me, Action::Vote, None, "", P_VOTES[v as usize % 3]),
            Task::Nft(v) => self.simple(t, me, Action::NftMint, None, "", P_NFTS[v as usize % 4]),
            Task::Deploy => {
                let mut name = *b"app_00000000_00.aleo";
                name[4..12].copy_from_slice(&b32_8(mix64(i as u64 ^ w.tx_key)));
                let k = self.tx_ctr % 100;
                name[13] = b'0' + (k / 10) as u8;
                name[14] = b'0' + (k % 10) as u8;
                self.simple(
                    t,
                    me,
                    Action::DeployProgram,
                    Some(amt),
                    CREDITS,
                    ascii(&name),
                );
            }
        }
    }

    /// An organic amount for `task` (untidy numbers, as people's are).
    fn organic_amount(rng: &mut Rng, task: Task) -> u128 {
        let messy_credits = |rng: &mut Rng, lo, hi| {
            rng.range(lo, hi) as u128 * CREDIT + rng.below(1_000_000) as u128
        };
        let messy_eth = |rng: &mut Rng, lo, hi| {
            rng.range(lo, hi) as u128 * 1_000_000_000_000 + rng.below(1_000_000_000_000) as u128
        };
        match task {
            Task::AleoFaucet => FAUCET_AMOUNT,
            Task::SepoliaFaucet => SEPOLIA_AMOUNT,
            Task::Bridge | Task::BridgeOut => messy_eth(rng, 5_000, 400_000),
            Task::Swap(_) => messy_eth(rng, 1_000, 300_000),
            Task::AddLiquidity | Task::RemoveLiquidity => messy_eth(rng, 1_000, 200_000),
            Task::Domain => rng.range(1, 20) as u128 * CREDIT,
            Task::TokenLaunch => rng.range(1, 100_000) as u128 * 1_000_000_000,
            Task::Trade => messy_credits(rng, 1, 900),
            Task::Stake | Task::Unstake => messy_credits(rng, 10, 5_000),
            Task::Deploy => messy_credits(rng, 1, 40),
            Task::Greenlist | Task::Quest(_) | Task::Vote(_) | Task::Nft(_) => 0,
        }
    }

    fn organic(&mut self, rng: &mut Rng, i: u32, o: &Org<'_>) {
        let w = self.w;
        let me = w.addr(i);
        let evm_b = w.evm_of(i);
        let evm = ascii(&evm_b);
        let n = if o.light {
            rng.range(3, 15)
        } else {
            rng.pareto43(11, 5000).max(1)
        };

        // Active window: a first day (for light wallets later months are busier) and a span
        // that grows with activity.
        let month = (w.end - w.start) / 12;
        let m = if n >= 30 {
            rng.below(12)
        } else {
            rng.below(12).max(rng.below(12))
        } as i64;
        let first = w.start + m * month + rng.below(month as u64) as i64;
        let room = (w.end - first).max(1);
        let span = (DAY * rng.range(1, 14 + 3 * n) as i64).min(room).max(HOUR);
        let at = |rng: &mut Rng| first + rng.below(span as u64) as i64;

        // Funding.
        if let Some(e) = o.exchange {
            let k = 1 + (n / 80).min(12);
            for j in 0..k {
                let t = if j == 0 {
                    first - rng.range_i(600, 6 * HOUR)
                } else {
                    at(rng)
                };
                let amount = rng.range(5, 2000) as u128 * CREDIT;
                self.transfer(t, w.exchange(e), me, amount, CREDITS);
            }
        } else if let Some(owner) = o.owner {
            let t = first - rng.range_i(300, DAY);
            let amount = rng.range(2, 200) as u128 * CREDIT + rng.below(1_000_000) as u128;
            self.transfer(t, w.addr(owner), me, amount, CREDITS);
        } else if o.friends.len() > 1 {
            let f = self.friend(rng, i, o.friends);
            let t = first - rng.range_i(HOUR, 3 * DAY);
            let amount = rng.range(2, 300) as u128 * CREDIT + rng.below(1_000_000) as u128;
            self.transfer(t, w.addr(f), me, amount, CREDITS);
        }

        // The eleven steps: a random subset, larger for more active wallets.
        let boost = (n.min(200) * 1000 / 400) as u32;
        let p = |base: u32| base + (1000 - base) * boost / 1000;
        let mut steps: [Task; 10] = [Task::Greenlist; 10];
        let mut ns = 0;
        let mut sepolia = false;
        for (task, base) in [
            (Task::Greenlist, 450),
            (Task::AleoFaucet, 600),
            (Task::SepoliaFaucet, 380),
            (Task::Bridge, 0),
            (Task::Swap(0), 500),
            (Task::AddLiquidity, 220),
            (Task::Domain, 260),
            (Task::TokenLaunch, 90),
            (Task::Trade, 280),
        ] {
            let base = match task {
                Task::Bridge if sepolia => 650,
                Task::Bridge => 80,
                _ => base,
            };
            if o.all_steps || rng.chance(p(base)) {
                let task = match task {
                    Task::Swap(_) => Task::Swap(rng.chance(200) as u8),
                    t => t,
                };
                sepolia |= task == Task::SepoliaFaucet;
                steps[ns] = task;
                ns += 1;
            }
        }
        let mut used = ns as u64;
        if ns > 0 {
            let slot = (span * 6 / 10 / ns as i64).max(60);
            for (j, &task) in steps[..ns].iter().enumerate() {
                let t = first + slot * j as i64 + rng.below(slot as u64) as i64;
                let amt = Self::organic_amount(rng, task);
                self.task(rng, i, me, evm, task, t, amt);
            }
        }
        // Quests (step 11).
        if o.all_steps || rng.chance(p(380)) {
            let k = 1 + rng.below((1 + n / 6).min(12));
            let mut done = 0u64;
            for _ in 0..k {
                let q = rng.below(40).min(rng.below(40));
                if done & (1 << q) == 0 {
                    done |= 1 << q;
                    let t = at(rng);
                    self.task(rng, i, me, evm, Task::Quest(q as u8), t, 0);
                    used += 1;
                }
            }
        }
        // Friends pay each other back now and then.
        if o.friends.len() > 1 {
            for _ in 0..rng.range(1, 4) {
                let f = self.friend(rng, i, o.friends);
                let t = at(rng);
                let amount = rng.range(1, 100) as u128 * CREDIT + rng.below(1_000_000) as u128;
                self.transfer(t, me, w.addr(f), amount, CREDITS);
                used += 1;
            }
        }

        // Everything else, in sessions of a few actions minutes apart.
        let cum = self.background[rng.chance(40) as usize];
        let mut staked: u128 = 0;
        let mut left = n.saturating_sub(used);
        while left > 0 {
            let mut t = at(rng);
            let k = rng.range(1, 5).min(left);
            for _ in 0..k {
                t += rng.range_i(30, 1200);
                let Some(task) = BACKGROUND[rng.weighted(&cum)].0 else {
                    let to = self.recipient(rng, i, o);
                    let amount = rng.range(1, 300) as u128 * CREDIT + rng.below(1_000_000) as u128;
                    self.transfer(t, me, to, amount, CREDITS);
                    continue;
                };
                let task = match task {
                    Task::Swap(_) => Task::Swap(rng.chance(200) as u8),
                    Task::Vote(_) => Task::Vote(rng.below(3) as u8),
                    Task::Nft(_) => Task::Nft(rng.below(4) as u8),
                    Task::Quest(_) => Task::Quest(rng.below(40) as u8),
                    Task::Unstake if staked == 0 => Task::Stake,
                    t => t,
                };
                let mut amt = Self::organic_amount(rng, task);
                match task {
                    Task::Stake => staked += amt,
                    Task::Unstake => {
                        amt = staked * rng.range(1, 100) as u128 / 100;
                        staked -= amt;
                    }
                    _ => {}
                }
                self.task(rng, i, me, evm, task, t, amt);
            }
            left -= k;
        }
    }

    /// Another member of the friend group.
    fn friend(&self, rng: &mut Rng, i: u32, group: &[u32]) -> u32 {
        let k = rng.below(group.len() as u64 - 1) as usize;
        let pos = group.iter().position(|&g| g == i).unwrap_or(0);
        group[if k >= pos { k + 1 } else { k }]
    }

    /// Where an organic transfer goes.
    fn recipient(&self, rng: &mut Rng, i: u32, o: &Org<'_>) -> &'w str {
        let w: &'w World = self.w;
        let r = rng.below(100);
        if o.friends.len() > 1 && r < 55 {
            return w.addr(self.friend(rng, i, o.friends));
        }
        if let Some(owner) = o.owner {
            if r < 35 {
                return w.addr(owner);
            }
        }
        if r < 75 {
            for _ in 0..8 {
                let j = rng.below(w.n as u64) as u32;
                if j != i && w.is_organic(j) {
                    return w.addr(j);
                }
            }
        }
        let e = o
            .exchange
            .unwrap_or_else(|| rng.weighted(&w.exchange_cum) as u16);
        w.exchange(e)
    }

    fn farm(&mut self, rng: &mut Rng, u: &Unit, f: &FarmPlan) {
        let w = self.w;
        let style = f.style;
        let m = f.members;
        let funder = if f.has_funder { Some(u.start) } else { None };
        let first = u.start + f.has_funder as u32;
        let collector = if f.has_collector {
            Some(first + m)
        } else {
            None
        };
        let exch = w.exchange(f.exchange);

        // The script every member runs: the steps, a few extras, fixed amounts.
        let (gap_lo, gap_hi) = match style {
            FarmStyle::Star | FarmStyle::Exchange => (300, 6 * HOUR),
            FarmStyle::Chain => (120, 2 * HOUR),
            FarmStyle::Stealth => (12 * HOUR, 3 * DAY),
        };
        let mut script: Vec<(Task, u128, i64)> = Vec::with_capacity(32);
        let mut off = 0i64;
        let swap_v = rng.chance(200) as u8;
        for (task, pm) in [
            (Task::Greenlist, 900),
            (Task::AleoFaucet, 950),
            (Task::SepoliaFaucet, 800),
            (Task::Bridge, 750),
            (Task::Swap(swap_v), 900),
            (Task::AddLiquidity, 700),
            (Task::Domain, 600),
            (Task::TokenLaunch, 350),
            (Task::Trade, 750),
            (Task::Quest(0), 900),
            (Task::Stake, 400),
            (Task::Vote(rng.below(3) as u8), 300),
            (Task::Nft(rng.below(4) as u8), 400),
        ] {
            if !rng.chance(pm) {
                continue;
            }
            let amt = match task {
                Task::AleoFaucet => FAUCET_AMOUNT,
                Task::SepoliaFaucet => SEPOLIA_AMOUNT,
                Task::Bridge => rng.range(1, 10) as u128 * 50 * MILLI_ETH,
                Task::Swap(_) => rng.range(1, 20) as u128 * 10 * MILLI_ETH,
                Task::AddLiquidity => rng.range(1, 10) as u128 * 10 * MILLI_ETH,
                Task::Domain => rng.range(1, 5) as u128 * CREDIT,
                Task::TokenLaunch => rng.range(1, 1000) as u128 * 1_000_000_000,
                Task::Trade => rng.range(10, 500) as u128 * CREDIT,
                Task::Stake => rng.range(10, 100) as u128 * CREDIT,
                _ => 0,
            };
            if let Task::Quest(_) = task {
                let k = rng.range(4, 12);
                let mut done = 0u64;
                for _ in 0..k {
                    let q = rng.below(40);
                    if done & (1 << q) == 0 {
                        done |= 1 << q;
                        off += rng.range_i(60, 600);
                        script.push((Task::Quest(q as u8), 0, off));
                    }
                }
                continue;
            }
            off += rng.range_i(gap_lo, gap_hi);
            script.push((task, amt, off));
        }
        let dur = off;

        // Money: each member gets `a`, sweeps `s` back.
        let a = rng.range(5, 60) as u128 * CREDIT;
        let s = a * rng.range(40, 80) as u128 / 100;
        let jitter = |rng: &mut Rng, v: u128| {
            v * rng.range(800, 1200) as u128 / 1000 + rng.below(1_000_000) as u128
        };
        let mm = m as i64;

        // Timing parameters and the farm's whole span, so it fits in the window.
        let df = rng.range_i(5, 60); // funding spacing
        let dm = match style {
            FarmStyle::Exchange => rng.range_i(20, 240),
            _ => rng.range_i(10, 120),
        };
        let pre = rng.range_i(HOUR, 2 * DAY);
        let post = rng.range_i(HOUR, 3 * DAY);
        let links: Vec<i64> = if style == FarmStyle::Chain {
            (0..m).map(|_| rng.range_i(20 * 60, 8 * HOUR)).collect()
        } else {
            Vec::new()
        };
        let total = match style {
            FarmStyle::Star | FarmStyle::Exchange => {
                mm * df.max(dm) * 3 + pre + dur + post + 2 * DAY
            }
            FarmStyle::Stealth => 5 * DAY + 2 * DAY + dur + 12 * HOUR + 3 * DAY + 7 * DAY + 3 * DAY,
            FarmStyle::Chain => links.iter().sum::<i64>() + HOUR + dur + 2 * DAY + 3 * DAY,
        };
        let lo = w.start + 6 * DAY;
        let hi = (w.end - total - DAY).max(lo);
        let tf = rng.range_i(lo, hi);

        let shared_evm = w.farm_evm(f.id);
        let evm_for = |i: u32| match style {
            FarmStyle::Star | FarmStyle::Chain => shared_evm,
            _ => w.evm_of(i),
        };

        match style {
            FarmStyle::Star | FarmStyle::Exchange => {
                let t0 = tf + mm * df + pre;
                if let Some(fu) = funder {
                    let fa = w.addr(fu);
                    let t = tf - rng.range_i(HOUR, 2 * DAY);
                    self.transfer(
                        t,
                        exch,
                        fa,
                        a * m as u128 + rng.range(1, 50) as u128 * CREDIT,
                        CREDITS,
                    );
                    for k in 0..m {
                        self.transfer(tf + k as i64 * df, fa, w.addr(first + k), a, CREDITS);
                    }
                } else {
                    // Batch withdrawals from the exchange: the funding graph shows only a hub.
                    for k in 0..m {
                        self.transfer(tf + k as i64 * dm, exch, w.addr(first + k), a, CREDITS);
                    }
                }
                for k in 0..m {
                    let i = first + k;
                    let me = w.addr(i);
                    let evm_b = evm_for(i);
                    for &(task, amt, o) in &script {
                        let t = t0 + o + k as i64 * dm + rng.range_i(0, 20);
                        self.task(rng, i, me, ascii(&evm_b), task, t, amt);
                    }
                }
                let ts = t0 + dur + mm * dm + post;
                let sink = match collector {
                    Some(c) => w.addr(c),
                    None => exch,
                };
                for k in 0..m {
                    self.transfer(ts + k as i64 * dm, w.addr(first + k), sink, s, CREDITS);
                }
                if let Some(c) = collector {
                    let t = ts + mm * dm + rng.range_i(HOUR, DAY);
                    self.transfer(t, w.addr(c), exch, s * m as u128, CREDITS);
                }
            }
            FarmStyle::Stealth => {
                let fa = w.addr(funder.unwrap_or(first));
                for _ in 0..rng.range(2, 3) {
                    let t = tf - rng.range_i(DAY, 5 * DAY);
                    self.transfer(t, exch, fa, jitter(rng, a * m as u128 / 2), CREDITS);
                }
                for k in 0..m {
                    let t = tf + rng.range_i(0, 5 * DAY);
                    self.transfer(t, fa, w.addr(first + k), jitter(rng, a), CREDITS);
                }
                let t0 = tf + 5 * DAY + pre;
                for k in 0..m {
                    let i = first + k;
                    let me = w.addr(i);
                    let evm_b = evm_for(i);
                    for &(task, amt, o) in &script {
                        if rng.chance(150) {
                            continue;
                        }
                        let t = t0 + o + rng.range_i(0, 12 * HOUR);
                        let amt = match task {
                            Task::AleoFaucet | Task::SepoliaFaucet => amt,
                            _ if amt > 0 => jitter(rng, amt),
                            _ => 0,
                        };
                        self.task(rng, i, me, ascii(&evm_b), task, t, amt);
                    }
                }
                let ts = t0 + dur + 12 * HOUR + rng.range_i(DAY, 3 * DAY);
                let c = w.addr(collector.unwrap_or(first));
                for k in 0..m {
                    let t = ts + rng.range_i(0, 7 * DAY);
                    self.transfer(t, w.addr(first + k), c, jitter(rng, s), CREDITS);
                }
                for _ in 0..2 {
                    let t = ts + 7 * DAY + rng.range_i(DAY, 3 * DAY);
                    self.transfer(t, c, exch, jitter(rng, s * m as u128 / 2), CREDITS);
                }
            }
            FarmStyle::Chain => {
                // A funds B funds C …: each passes on what the rest of the chain needs.
                let mut fk = tf;
                self.transfer(fk, exch, w.addr(first), a * m as u128, CREDITS);
                for k in 0..m {
                    let i = first + k;
                    let me = w.addr(i);
                    let evm_b = evm_for(i);
                    for &(task, amt, o) in &script {
                        let t = fk + HOUR + o + rng.range_i(0, 60);
                        self.task(rng, i, me, ascii(&evm_b), task, t, amt);
                    }
                    let next = fk + links[k as usize];
                    if k + 1 < m {
                        let rest = (m - k - 1) as u128 * a;
                        self.transfer(next, me, w.addr(i + 1), rest, CREDITS);
                    }
                    fk = next;
                }
                if let Some(c) = collector {
                    let last = w.addr(first + m - 1);
                    let t = fk + dur + HOUR + rng.range_i(HOUR, DAY);
                    self.transfer(t, last, w.addr(c), s, CREDITS);
                    let t2 = t + rng.range_i(DAY, 3 * DAY);
                    self.transfer(t2, w.addr(c), exch, s, CREDITS);
                }
            }
        }
    }
}
