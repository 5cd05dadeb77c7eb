//! Plain in-memory inputs: wallets interned to `u32` ids, transfer edges, activity sequences
//! and the hub / allow / candidate sets.

use fairdrop_core::Address;

/// Dense wallet id given by [`Interner`].
pub type WalletId = u32;
/// Dense id of an interned string (action, program, asset).
pub type SymbolId = u32;

pub use fairdrop_core::hash::{FxHasher, FxMap};

/// Addresses ↔ dense ids, in first-seen order.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    map: FxMap<Address, WalletId>,
    addrs: Vec<Address>,
}

impl Interner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Id of `a`, adding it if new.
    pub fn intern(&mut self, a: Address) -> WalletId {
        if let Some(&id) = self.map.get(&a) {
            return id;
        }
        let id = self.addrs.len() as WalletId;
        self.addrs.push(a);
        self.map.insert(a, id);
        id
    }

    /// Id of `a` if it was interned.
    pub fn get(&self, a: &Address) -> Option<WalletId> {
        self.map.get(a).copied()
    }

    /// The address of `id`. Panics on an id this interner never gave.
    pub fn address(&self, id: WalletId) -> &Address {
        &self.addrs[id as usize]
    }

    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// All addresses, indexed by id.
    pub fn addresses(&self) -> &[Address] {
        &self.addrs
    }
}

/// Strings (actions, programs, assets) ↔ dense ids.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    map: FxMap<Box<str>, SymbolId>,
    names: Vec<Box<str>>,
}

impl Symbols {
    pub fn intern(&mut self, s: &str) -> SymbolId {
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        let id = self.names.len() as SymbolId;
        self.names.push(s.into());
        self.map.insert(s.into(), id);
        id
    }

    /// Id of `s` if it was interned.
    pub fn get(&self, s: &str) -> Option<SymbolId> {
        self.map.get(s).copied()
    }

    pub fn name(&self, id: SymbolId) -> &str {
        self.names.get(id as usize).map(|s| &**s).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// One transfer of value (or, for edge lists without detail, one `from → to` row).
///
/// 40 bytes instead of the 64 that `Option` fields (the amount 16-byte aligned) took: the
/// 1M-wallet world holds tens of millions of transfers during detection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transfer {
    pub from: WalletId,
    pub to: WalletId,
    /// `u32::MAX` when there is no asset.
    asset: u32,
    /// Bit 0: has a timestamp; bit 1: has an amount.
    flags: u32,
    timestamp: i64,
    amount: [u64; 2],
}

impl Transfer {
    /// A transfer with what is known of it. The time is needed for funder (first sender) and
    /// sweep (last recipient) edges; without it the row order stands in for time.
    pub fn new(
        from: WalletId,
        to: WalletId,
        timestamp: Option<i64>,
        amount: Option<u128>,
        asset: Option<SymbolId>,
    ) -> Transfer {
        let a = amount.unwrap_or(0);
        Transfer {
            from,
            to,
            asset: asset.unwrap_or(u32::MAX),
            flags: timestamp.is_some() as u32 | (amount.is_some() as u32) << 1,
            timestamp: timestamp.unwrap_or(0),
            amount: [a as u64, (a >> 64) as u64],
        }
    }

    /// A bare `from → to` edge (edge lists without detail).
    pub fn edge(from: WalletId, to: WalletId) -> Transfer {
        Transfer::new(from, to, None, None, None)
    }

    /// UTC seconds, if known.
    pub fn timestamp(&self) -> Option<i64> {
        (self.flags & 1 != 0).then_some(self.timestamp)
    }

    /// Base units, if known.
    pub fn amount(&self) -> Option<u128> {
        (self.flags & 2 != 0).then(|| self.amount[0] as u128 | (self.amount[1] as u128) << 64)
    }

    pub fn asset(&self) -> Option<SymbolId> {
        (self.asset != u32::MAX).then_some(self.asset)
    }
}

/// One step of a wallet's activity (a canonical event), for the behaviour signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Activity {
    pub wallet: WalletId,
    pub action: SymbolId,
    /// `u32::MAX` when there is no program.
    program: SymbolId,
    /// 1 when there is an amount.
    has_amount: u32,
    /// UTC seconds.
    pub timestamp: i64,
    /// The amount's low and high 64 bits: 40 bytes a row instead of the 64 that
    /// `Option<u128>` (16-byte aligned) would take, at tens of millions of rows.
    amount: [u64; 2],
}

impl Activity {
    pub fn new(
        wallet: WalletId,
        timestamp: i64,
        action: SymbolId,
        program: Option<SymbolId>,
        amount: Option<u128>,
    ) -> Activity {
        let a = amount.unwrap_or(0);
        Activity {
            wallet,
            action,
            program: program.unwrap_or(u32::MAX),
            has_amount: amount.is_some() as u32,
            timestamp,
            amount: [a as u64, (a >> 64) as u64],
        }
    }
    pub fn program(&self) -> Option<SymbolId> {
        (self.program != u32::MAX).then_some(self.program)
    }
    /// Base units, if the action moves value.
    pub fn amount(&self) -> Option<u128> {
        (self.has_amount != 0).then(|| self.amount[0] as u128 | (self.amount[1] as u128) << 64)
    }
}

/// Everything the detector reads. Build it with the `add_*` methods (or the Hop loader in
/// [`crate::load`]); ids come from [`SybilInput::wallet`].
#[derive(Clone, Debug, Default)]
pub struct SybilInput {
    pub wallets: Interner,
    pub symbols: Symbols,
    /// Transfer rows, in input order.
    pub transfers: Vec<Transfer>,
    /// Where each transfer file's rows start in `transfers`: (index, source name = the file
    /// name up to its first dot), in order. Empty for event input.
    pub sources: Vec<(usize, String)>,
    /// Activity rows, any order.
    pub activity: Vec<Activity>,
    /// Candidates' activity in the detector's compact form (24 bytes a row instead of 40),
    /// for inputs too large to hold twice. When not empty, the lockstep and first-activity
    /// signals read these rows instead of deriving them from `activity`, which then need only
    /// hold the rows the same-amount bridge signal reads (it needs exact amounts). Filled by
    /// [`SybilInput::add_compact_record`]. Any order; when each wallet's rows are contiguous
    /// (as when reading address-sorted events) the detector reads them in place, otherwise it
    /// sorts a copy.
    pub compact: Vec<crate::behaviour::Row>,
    /// Known hubs (exchanges, deposit addresses, contracts, bridges...): their edges are
    /// dropped before clustering unless the wallet is allowed.
    pub hubs: Vec<WalletId>,
    /// Wallets kept in the graph although a hub list (or automatic detection) names them.
    pub allow: Vec<WalletId>,
    /// Wallets a verdict is about. Empty means every wallet is a candidate.
    pub candidates: Vec<WalletId>,
    /// Counterparties of actions that move no value between wallets of the table (e.g. the
    /// EVM wallet a bridge or a Sepolia faucet claim names): (wallet, counterparty).
    pub links: Vec<(WalletId, WalletId)>,
    /// Funders, sweep targets and degrees computed elsewhere (a warehouse's `sybil-wallets`
    /// table), indexed by wallet id: when given, the role rules and the automatic hub rule
    /// read these instead of `transfers` (which then stay empty). The transfer-graph rules
    /// of [`crate::detect::Config::default`] still need the transfers themselves.
    pub roles: Option<crate::graph::Roles>,
}

impl SybilInput {
    pub fn new() -> Self {
        Self::default()
    }

    /// Id of `a`, interning it.
    pub fn wallet(&mut self, a: Address) -> WalletId {
        self.wallets.intern(a)
    }

    /// Id of a symbol (action, program or asset name).
    pub fn symbol(&mut self, s: &str) -> SymbolId {
        self.symbols.intern(s)
    }

    /// Add a bare `from → to` edge.
    pub fn add_edge(&mut self, from: Address, to: Address) {
        let from = self.wallet(from);
        let to = self.wallet(to);
        self.transfers.push(Transfer::edge(from, to));
    }

    /// Add a transfer with its detail.
    pub fn add_transfer(&mut self, t: Transfer) {
        self.transfers.push(t);
    }

    pub fn add_activity(&mut self, a: Activity) {
        self.activity.push(a);
    }

    pub fn add_hub(&mut self, a: Address) {
        let id = self.wallet(a);
        self.hubs.push(id);
    }

    pub fn add_allow(&mut self, a: Address) {
        let id = self.wallet(a);
        self.allow.push(id);
    }

    pub fn add_candidate(&mut self, a: Address) {
        let id = self.wallet(a);
        self.candidates.push(id);
    }

    /// Add one canonical event (`shared/spec/activity-schema.md`): see [`SybilInput::add_record`].
    pub fn add_event(&mut self, e: &fairdrop_core::event::Event) {
        let wallet = self.wallet(e.address);
        let cp = e.counterparty.map(|c| self.wallet(c));
        self.add_record(
            wallet,
            e.timestamp,
            &e.action,
            cp,
            e.amount,
            e.asset.as_deref(),
            e.program.as_deref(),
        );
    }

    /// Add one canonical event row by its fields: every row becomes an activity row for the
    /// behaviour signals; a `transfer` (value sent from `wallet` to `counterparty`) also
    /// becomes a transfer edge for the graphs; any other row naming a counterparty (the EVM
    /// wallet of a bridge or faucet claim) becomes a link.
    #[allow(clippy::too_many_arguments)]
    pub fn add_record(
        &mut self,
        wallet: WalletId,
        timestamp: i64,
        action: &str,
        counterparty: Option<WalletId>,
        amount: Option<u128>,
        asset: Option<&str>,
        program: Option<&str>,
    ) {
        let action_id = self.symbol(action);
        let program = program.map(|p| self.symbol(p));
        self.activity
            .push(Activity::new(wallet, timestamp, action_id, program, amount));
        self.add_edges(wallet, timestamp, action, counterparty, amount, asset);
    }

    /// [`SybilInput::add_record`] without the activity row: for wallets that are not
    /// candidates, whose activity the behaviour signals never read (they only look at
    /// candidates), while their transfers still shape the graphs.
    /// Like [`SybilInput::add_record`], but the activity row goes to `compact`, and to
    /// `activity` as well only when `keep_exact` (the bridge actions).
    #[allow(clippy::too_many_arguments)]
    pub fn add_compact_record(
        &mut self,
        wallet: WalletId,
        timestamp: i64,
        action: &str,
        counterparty: Option<WalletId>,
        amount: Option<u128>,
        asset: Option<&str>,
        program: Option<&str>,
        keep_exact: bool,
    ) {
        // Symbols are interned in the order `add_record` interns them, so ids (and the
        // detector's hashes of them) do not depend on which form is used.
        let action_id = self.symbol(action);
        let program = program.map(|p| self.symbol(p));
        self.push_activity(wallet, timestamp, action_id, program, amount, keep_exact);
        self.add_edges(wallet, timestamp, action, counterparty, amount, asset);
    }

    /// The activity half of [`SybilInput::add_compact_record`], from symbol ids (a reader
    /// that memoises ids must intern `action`, then `program`, then the transfer's asset,
    /// at the rows where `add_compact_record` would, to get the same ids).
    pub fn push_activity(
        &mut self,
        wallet: WalletId,
        timestamp: i64,
        action: SymbolId,
        program: Option<SymbolId>,
        amount: Option<u128>,
        keep_exact: bool,
    ) {
        let a = Activity::new(wallet, timestamp, action, program, amount);
        self.compact.push(crate::behaviour::Row::of(&a));
        if keep_exact {
            self.activity.push(a);
        }
    }

    pub fn add_edges(
        &mut self,
        wallet: WalletId,
        timestamp: i64,
        action: &str,
        counterparty: Option<WalletId>,
        amount: Option<u128>,
        asset: Option<&str>,
    ) {
        if let Some(to) = counterparty {
            if action == fairdrop_core::actions::TRANSFER {
                let asset = asset.map(|a| self.symbol(a));
                self.push_transfer(wallet, to, timestamp, amount, asset);
            } else {
                self.push_link(wallet, to);
            }
        }
    }

    /// A transfer row's edge (what [`SybilInput::add_edges`] adds for `transfer`).
    pub fn push_transfer(
        &mut self,
        from: WalletId,
        to: WalletId,
        timestamp: i64,
        amount: Option<u128>,
        asset: Option<SymbolId>,
    ) {
        self.transfers
            .push(Transfer::new(from, to, Some(timestamp), amount, asset));
    }

    /// Any other action naming a counterparty: a link (none to itself).
    pub fn push_link(&mut self, from: WalletId, to: WalletId) {
        if to != from {
            self.links.push((from, to));
        }
    }

    /// Number of interned wallets.
    pub fn n_wallets(&self) -> usize {
        self.wallets.len()
    }

    /// A flag per wallet for the given id list (ids past the interner are ignored).
    pub(crate) fn mask(&self, ids: &[WalletId]) -> Vec<bool> {
        let mut m = vec![false; self.n_wallets()];
        for &i in ids {
            if let Some(x) = m.get_mut(i as usize) {
                *x = true;
            }
        }
        m
    }

    /// Candidate flag per wallet (all true when no candidate set was given).
    pub(crate) fn candidate_mask(&self) -> Vec<bool> {
        if self.candidates.is_empty() {
            vec![true; self.n_wallets()]
        } else {
            self.mask(&self.candidates)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_become_activity_and_transfers() {
        let e = |action: &str, cp: Option<Address>| fairdrop_core::event::Event {
            timestamp: 1_700_000_000,
            chain: "aleo".into(),
            tx_id: None,
            address: Address::Evm([1; 20]),
            action: action.into(),
            counterparty: cp,
            amount: Some(7),
            asset: Some("credits".into()),
            program: Some("credits.aleo".into()),
        };
        let mut inp = SybilInput::new();
        inp.add_event(&e("transfer", Some(Address::Evm([2; 20]))));
        inp.add_event(&e("swap", None));
        assert_eq!(inp.n_wallets(), 2);
        assert_eq!(inp.activity.len(), 2);
        assert_eq!(inp.transfers.len(), 1);
        let t = inp.transfers[0];
        assert_eq!(
            (t.from, t.to, t.timestamp(), t.amount()),
            (0, 1, Some(1_700_000_000), Some(7))
        );
        assert_eq!(inp.symbols.name(t.asset().unwrap_or(u32::MAX)), "credits");
        assert_eq!(inp.symbols.name(inp.activity[1].action), "swap");
        assert_eq!(std::mem::size_of::<Transfer>(), 40);
        let big = Transfer::new(3, 4, Some(i64::MIN), Some(u128::MAX), Some(0));
        assert_eq!(
            (big.timestamp(), big.amount(), big.asset()),
            (Some(i64::MIN), Some(u128::MAX), Some(0))
        );
        let bare = Transfer::edge(3, 4);
        assert_eq!(
            (bare.timestamp(), bare.amount(), bare.asset()),
            (None, None, None)
        );
        assert_eq!(inp.wallets.get(&Address::Evm([2; 20])), Some(1));
    }

    #[test]
    fn records_make_transfers_and_links() {
        let mut inp = SybilInput::new();
        let w = inp.wallet(Address::Evm([1; 20]));
        let evm = inp.wallet(Address::Evm([9; 20]));
        let to = inp.wallet(Address::Evm([2; 20]));
        inp.add_record(
            w,
            5,
            "bridge_in",
            Some(evm),
            Some(3),
            Some("ETH"),
            Some("b.aleo"),
        );
        inp.add_record(w, 6, "transfer", Some(to), Some(4), Some("credits"), None);
        inp.add_record(w, 7, "swap", None, Some(4), None, None);
        assert_eq!(inp.activity.len(), 3);
        assert_eq!(inp.links, vec![(w, evm)]);
        assert_eq!(inp.transfers.len(), 1);
        assert_eq!(
            (inp.transfers[0].to, inp.transfers[0].amount()),
            (to, Some(4))
        );
    }
}

#[cfg(test)]
mod activity_tests {
    use super::Activity;

    /// 40 bytes a row, and every field comes back as given.
    #[test]
    fn compact_and_lossless() {
        assert_eq!(std::mem::size_of::<Activity>(), 40);
        for amount in [
            None,
            Some(0),
            Some(1),
            Some(u64::MAX as u128 + 1),
            Some(u128::MAX),
        ] {
            for program in [None, Some(0), Some(7)] {
                let a = Activity::new(3, -5, 9, program, amount);
                assert_eq!((a.wallet, a.timestamp, a.action), (3, -5, 9));
                assert_eq!((a.program(), a.amount()), (program, amount));
            }
        }
    }
}
