//! The SQLite ledger: claims, the payout outbox, export batches, settings.
//!
//! WAL mode, `synchronous=FULL`: a claim is acknowledged only after the transaction that
//! holds it (and its payout row) is committed and the WAL is on disk, so it survives SIGKILL
//! and power loss. One writer thread owns the write connection and commits claims in groups
//! (every claim waiting when a transaction starts goes into it), so one fsync serves many
//! claims; readers use their own connections.
//!
//! Schema (version 3, `schema_version` table; migrations run at open, in a transaction):
//!
//! | table | columns |
//! | --- | --- |
//! | `claims` | `address` PK (canonical), `profile`, `amount` (decimal text), `receipt_id` unique, `receipt` (signed JSON), `seq` unique, `created_at` |
//! | `payouts` | `id` PK autoincrement, `address`, `amount`, `released_total` (a tranche is written once: unique with `address` among public rows, with `nullifier` among private rows), `receipt_id`, `created_at`, `batch` (NULL until exported), `nullifier` (NULL for public claims; a private claim's rows carry its nullifier, one row per vesting tranche, v3) |
//! | `private_claims` (v2) | `nullifier` unique (a nullifier is spent once), `root`, `recipient`, `denomination` (decimal text), `receipt_id` unique, `created_at`, `receipt` (signed JSON, v3; NULL for rows recorded before v3 until they are claimed again) |
//! | `batches` | `id` PK, `chain`, `path`, `rows`, `total`, `created_at`, `written_at` (NULL until the file is written) |
//! | `settings` | `key` PK, `value` (`paused` = `true`/`false`) |

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ed25519_dalek::{Signer, SigningKey};
use fairdrop_merkle::manifest::canonical_json;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::error::{ClaimError, Result};

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE claims (
        address TEXT PRIMARY KEY,
        profile TEXT NOT NULL,
        amount TEXT NOT NULL,
        receipt_id TEXT NOT NULL UNIQUE,
        receipt TEXT NOT NULL,
        seq INTEGER NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE payouts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        address TEXT NOT NULL REFERENCES claims(address),
        amount TEXT NOT NULL,
        released_total TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        batch INTEGER,
        UNIQUE(address, released_total)
    );
    CREATE INDEX payouts_batch ON payouts(batch);
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        chain TEXT NOT NULL,
        path TEXT NOT NULL,
        rows INTEGER NOT NULL,
        total TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        written_at INTEGER
    );
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    ),
    (
        2,
        // Private claims: one row per nullifier (UNIQUE), and payout rows that belong to a
        // nullifier instead of a public claim. SQLite cannot drop a foreign key in place, so
        // `payouts` is rebuilt (same ids, same rows).
        "CREATE TABLE private_claims (
        nullifier TEXT NOT NULL UNIQUE,
        root TEXT NOT NULL,
        recipient TEXT NOT NULL,
        denomination TEXT NOT NULL,
        receipt_id TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE payouts_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        address TEXT NOT NULL,
        amount TEXT NOT NULL,
        released_total TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        batch INTEGER,
        nullifier TEXT UNIQUE REFERENCES private_claims(nullifier)
    );
    INSERT INTO payouts_v2(id, address, amount, released_total, receipt_id, created_at, batch)
        SELECT id, address, amount, released_total, receipt_id, created_at, batch FROM payouts;
    DROP TABLE payouts;
    ALTER TABLE payouts_v2 RENAME TO payouts;
    CREATE INDEX payouts_batch ON payouts(batch);
    CREATE UNIQUE INDEX payouts_tranche ON payouts(address, released_total) WHERE nullifier IS NULL;",
    ),
    (
        3,
        // Private claims get signed receipts and vest like public claims: one payout row per
        // tranche, unique by (nullifier, released_total) instead of one row per nullifier.
        "ALTER TABLE private_claims ADD COLUMN receipt TEXT;
    CREATE TABLE payouts_v3 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        address TEXT NOT NULL,
        amount TEXT NOT NULL,
        released_total TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        batch INTEGER,
        nullifier TEXT REFERENCES private_claims(nullifier)
    );
    INSERT INTO payouts_v3(id, address, amount, released_total, receipt_id, created_at, batch, nullifier)
        SELECT id, address, amount, released_total, receipt_id, created_at, batch, nullifier FROM payouts;
    DROP TABLE payouts;
    ALTER TABLE payouts_v3 RENAME TO payouts;
    CREATE INDEX payouts_batch ON payouts(batch);
    CREATE UNIQUE INDEX payouts_tranche ON payouts(address, released_total) WHERE nullifier IS NULL;
    CREATE UNIQUE INDEX payouts_private_tranche ON payouts(nullifier, released_total) WHERE nullifier IS NOT NULL;",
    ),
];

/// Current schema version.
pub const SCHEMA_VERSION: i64 = 3;

fn db_err(path: &Path) -> impl Fn(rusqlite::Error) -> ClaimError + '_ {
    move |source| ClaimError::Db {
        path: path.to_path_buf(),
        source,
    }
}

/// Open (creating if needed) the ledger at `path`: WAL, `synchronous=FULL`, migrations.
pub fn open(path: &Path) -> Result<Connection> {
    let e = db_err(path);
    let mut conn = Connection::open(path).map_err(&e)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(&e)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(&e)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(ClaimError::Ledger {
            path: path.to_path_buf(),
            msg: format!("cannot switch to WAL mode (got {mode})"),
        });
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        .map_err(&e)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&e)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(&e)?;
    let current: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(&e)?;
    if current > SCHEMA_VERSION {
        return Err(ClaimError::Ledger {
            path: path.to_path_buf(),
            msg: format!(
                "schema version {current} is newer than this fairdrop ({SCHEMA_VERSION}); upgrade fairdrop"
            ),
        });
    }
    for (v, sql) in MIGRATIONS {
        if *v > current {
            tx.execute_batch(sql).map_err(&e)?;
            tx.execute("DELETE FROM schema_version", []).map_err(&e)?;
            tx.execute("INSERT INTO schema_version(version) VALUES (?1)", [v])
                .map_err(&e)?;
        }
    }
    tx.commit().map_err(&e)?;
    Ok(conn)
}

/// A claim that checked out against the root, for the writer to record.
#[derive(Clone, Debug)]
pub struct ClaimJob {
    pub address: String,
    pub profile: String,
    pub amount: u128,
    pub root: String,
    /// Amount vested now (what may be paid out now).
    pub vested: u128,
    pub now: i64,
}

/// What recording a claim did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// First time: recorded with this receipt.
    Accepted { receipt: String },
    /// The same claim again: the same receipt.
    Duplicate { receipt: String },
    /// A different claim for an address that already claimed: the existing receipt.
    Conflict { receipt: String },
    /// Claims are paused.
    Paused,
}

enum Job {
    Claim(ClaimJob, oneshot::Sender<Result<ClaimOutcome, String>>),
    Private(PrivateJob, oneshot::Sender<Result<PrivateOutcome, String>>),
    Pause(bool, oneshot::Sender<Result<(), String>>),
}

/// The service's handle on the ledger.
pub struct Ledger {
    path: PathBuf,
    tx: mpsc::Sender<Job>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    paused: Arc<AtomicBool>,
}

/// Receipt fields other than the signature.
#[derive(Serialize)]
struct ReceiptBody<'a> {
    receipt_id: &'a str,
    campaign: &'a str,
    address: &'a str,
    profile: &'a str,
    amount: String,
    root: &'a str,
    seq: i64,
    claimed_at: String,
}

/// Context the writer needs to sign receipts.
pub struct ReceiptSigner {
    pub key: SigningKey,
    pub campaign: String,
}

impl std::fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.write_str("Signer { key: <redacted> }")
    }
}

/// Receipt id: sha256 of campaign, address, profile and amount (hex, 32 digits).
pub fn receipt_id(campaign: &str, address: &str, profile: &str, amount: u128) -> String {
    let mut h = Sha256::new();
    for p in [campaign, address, profile, &amount.to_string()] {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

fn make_receipt(s: &ReceiptSigner, job: &ClaimJob, seq: i64) -> String {
    let id = receipt_id(&s.campaign, &job.address, &job.profile, job.amount);
    let body = ReceiptBody {
        receipt_id: &id,
        campaign: &s.campaign,
        address: &job.address,
        profile: &job.profile,
        amount: job.amount.to_string(),
        root: &job.root,
        seq,
        claimed_at: crate::dist::format_time(job.now),
    };
    sign_receipt(s, serde_json::to_value(&body).expect("receipt serialises"))
}

/// Canonical JSON of `v` plus `public_key` and an ed25519 `signature` over the canonical JSON
/// of `v` (what [`verify_receipt`] checks).
fn sign_receipt(s: &ReceiptSigner, mut v: Value) -> String {
    let msg = canonical_json(&v, None);
    let sig = s.key.sign(msg.as_bytes());
    if let Value::Object(m) = &mut v {
        m.insert(
            "public_key".into(),
            Value::String(hex::encode(s.key.verifying_key().as_bytes())),
        );
        m.insert(
            "signature".into(),
            Value::String(hex::encode(sig.to_bytes())),
        );
    }
    canonical_json(&v, None)
}

/// Receipt fields of a private claim other than the signature. No eligible address: the
/// receipt names what the service saw (nullifier, recipient, denomination, root).
#[derive(Serialize)]
struct PrivateReceiptBody<'a> {
    receipt_id: &'a str,
    campaign: &'a str,
    profile: &'static str,
    nullifier: &'a str,
    recipient: &'a str,
    /// The denomination, base units, decimal string.
    amount: String,
    root: &'a str,
    claimed_at: String,
}

fn make_private_receipt(s: &ReceiptSigner, job: &PrivateJob, rid: &str, at: i64) -> String {
    let body = PrivateReceiptBody {
        receipt_id: rid,
        campaign: &s.campaign,
        profile: "private",
        nullifier: &job.nullifier,
        recipient: &job.recipient,
        amount: job.denomination.to_string(),
        root: &job.root,
        claimed_at: crate::dist::format_time(at),
    };
    sign_receipt(s, serde_json::to_value(&body).expect("receipt serialises"))
}

/// Check a receipt's signature: ed25519 over the canonical JSON of every field except
/// `public_key` and `signature`. Returns the receipt as JSON.
pub fn verify_receipt(receipt: &str, key: &ed25519_dalek::VerifyingKey) -> Result<Value, String> {
    use ed25519_dalek::Verifier;
    let mut v: Value = serde_json::from_str(receipt).map_err(|e| e.to_string())?;
    let m = v.as_object_mut().ok_or("receipt is not an object")?;
    let sig = m
        .remove("signature")
        .and_then(|s| s.as_str().map(String::from))
        .ok_or("no signature")?;
    m.remove("public_key");
    let mut sb = [0u8; 64];
    hex::decode_to_slice(&sig, &mut sb).map_err(|e| e.to_string())?;
    let msg = canonical_json(&v, None);
    key.verify(msg.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sb))
        .map_err(|_| "signature does not verify".to_string())?;
    Ok(v)
}

fn sum_released(tx: &Connection, address: &str) -> rusqlite::Result<u128> {
    let mut st = tx.prepare_cached(
        "SELECT released_total FROM payouts WHERE address = ?1 AND nullifier IS NULL",
    )?;
    let rows = st.query_map([address], |r| r.get::<_, String>(0))?;
    let mut max = 0u128;
    for r in rows {
        max = max.max(r?.parse::<u128>().unwrap_or(0));
    }
    Ok(max)
}

fn release(tx: &Connection, job: &ClaimJob, receipt_id: &str) -> rusqlite::Result<()> {
    let released = sum_released(tx, &job.address)?;
    let vested = job.vested.min(job.amount);
    if vested > released {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO payouts(address, amount, released_total, receipt_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            job.address,
            (vested - released).to_string(),
            vested.to_string(),
            receipt_id,
            job.now
        ])?;
    }
    Ok(())
}

fn record_claim(
    tx: &Connection,
    s: &ReceiptSigner,
    job: &ClaimJob,
) -> rusqlite::Result<ClaimOutcome> {
    let existing: Option<(String, String, String, String)> = tx
        .prepare_cached(
            "SELECT profile, amount, receipt, receipt_id FROM claims WHERE address = ?1",
        )?
        .query_row([&job.address], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    if let Some((profile, amount, receipt, rid)) = existing {
        if profile == job.profile && amount == job.amount.to_string() {
            release(tx, job, &rid)?;
            return Ok(ClaimOutcome::Duplicate { receipt });
        }
        return Ok(ClaimOutcome::Conflict { receipt });
    }
    let seq: i64 = tx
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM claims")?
        .query_row([], |r| r.get(0))?;
    let receipt = make_receipt(s, job, seq);
    let rid = receipt_id(&s.campaign, &job.address, &job.profile, job.amount);
    tx.prepare_cached(
        "INSERT INTO claims(address, profile, amount, receipt_id, receipt, seq, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        job.address,
        job.profile,
        job.amount.to_string(),
        rid,
        receipt,
        seq,
        job.now
    ])?;
    release(tx, job, &rid)?;
    Ok(ClaimOutcome::Accepted { receipt })
}

/// A private claim whose proof verified, for the writer to record.
#[derive(Clone, Debug)]
pub struct PrivateJob {
    /// `0x` + 64 hex digits (canonical, lowercase).
    pub nullifier: String,
    pub root: String,
    /// Canonical recipient address (the payout goes there).
    pub recipient: String,
    pub denomination: u64,
    /// Amount of the denomination vested now (what may be paid out now), as for public claims.
    pub vested: u128,
    pub now: i64,
}

/// What recording a private claim did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrivateOutcome {
    /// First use of the nullifier: recorded with this signed receipt, the vested part paid.
    Accepted { receipt: String },
    /// The same claim again (same nullifier, recipient and denomination): the same receipt,
    /// and a payout row for whatever vested since (as a public claim sent again).
    Duplicate { receipt: String },
    /// The nullifier was already spent by a claim to another recipient or denomination.
    Reused,
    /// Claims are paused.
    Paused,
}

/// Receipt id of a private claim: [`receipt_id`] over (campaign, nullifier, `private`, denomination).
pub fn private_receipt_id(campaign: &str, nullifier: &str, denomination: u64) -> String {
    receipt_id(campaign, nullifier, "private", denomination as u128)
}

/// Sum released so far for a private claim (the largest `released_total` of its rows).
fn private_released(tx: &Connection, nullifier: &str) -> rusqlite::Result<u128> {
    let mut st = tx.prepare_cached("SELECT released_total FROM payouts WHERE nullifier = ?1")?;
    let rows = st.query_map([nullifier], |r| r.get::<_, String>(0))?;
    let mut max = 0u128;
    for r in rows {
        max = max.max(r?.parse::<u128>().unwrap_or(0));
    }
    Ok(max)
}

/// The private twin of `release`: a payout row to the recipient for what vested since the
/// last tranche of this nullifier.
fn release_private(tx: &Connection, job: &PrivateJob, rid: &str) -> rusqlite::Result<()> {
    let released = private_released(tx, &job.nullifier)?;
    let vested = job.vested.min(job.denomination as u128);
    if vested > released {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO payouts(address, amount, released_total, receipt_id, created_at, nullifier)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            job.recipient,
            (vested - released).to_string(),
            vested.to_string(),
            rid,
            job.now,
            job.nullifier
        ])?;
    }
    Ok(())
}

fn record_private(
    tx: &Connection,
    s: &ReceiptSigner,
    job: &PrivateJob,
) -> rusqlite::Result<PrivateOutcome> {
    type Row = (String, String, String, Option<String>, i64);
    let existing: Option<Row> = tx
        .prepare_cached(
            "SELECT recipient, denomination, receipt_id, receipt, created_at FROM private_claims WHERE nullifier = ?1",
        )?
        .query_row([&job.nullifier], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    if let Some((recipient, denomination, rid, receipt, at)) = existing {
        if recipient != job.recipient || denomination != job.denomination.to_string() {
            return Ok(PrivateOutcome::Reused);
        }
        let receipt = match receipt {
            Some(r) => r,
            None => {
                // Recorded before receipts were signed (schema v2): sign it now, once.
                let r = make_private_receipt(s, job, &rid, at);
                tx.prepare_cached("UPDATE private_claims SET receipt = ?1 WHERE nullifier = ?2")?
                    .execute(params![r, job.nullifier])?;
                r
            }
        };
        release_private(tx, job, &rid)?;
        return Ok(PrivateOutcome::Duplicate { receipt });
    }
    let rid = private_receipt_id(&s.campaign, &job.nullifier, job.denomination);
    let receipt = make_private_receipt(s, job, &rid, job.now);
    tx.prepare_cached(
        "INSERT INTO private_claims(nullifier, root, recipient, denomination, receipt_id, created_at, receipt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        job.nullifier,
        job.root,
        job.recipient,
        job.denomination.to_string(),
        rid,
        job.now,
        receipt
    ])?;
    release_private(tx, job, &rid)?;
    Ok(PrivateOutcome::Accepted { receipt })
}

fn read_paused(conn: &Connection) -> rusqlite::Result<bool> {
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = 'paused'", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .as_deref()
        == Some("true"))
}

enum Outcome {
    Claim(ClaimOutcome),
    Private(PrivateOutcome),
}

fn writer_loop(
    mut conn: Connection,
    signer: ReceiptSigner,
    mut rx: mpsc::Receiver<Job>,
    paused: Arc<AtomicBool>,
) {
    const MAX_GROUP: usize = 512;
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = rx.blocking_recv() {
        jobs.push(first);
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let mut results: Vec<Result<Option<Outcome>, String>> = Vec::with_capacity(jobs.len());
        let outcome: rusqlite::Result<()> = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut is_paused = paused.load(Ordering::SeqCst);
            for j in &jobs {
                match j {
                    Job::Claim(c, _) => {
                        if is_paused {
                            results.push(Ok(Some(Outcome::Claim(ClaimOutcome::Paused))));
                        } else {
                            results.push(Ok(Some(Outcome::Claim(record_claim(&tx, &signer, c)?))));
                        }
                    }
                    Job::Private(p, _) => {
                        if is_paused {
                            results.push(Ok(Some(Outcome::Private(PrivateOutcome::Paused))));
                        } else {
                            results
                                .push(Ok(Some(Outcome::Private(record_private(&tx, &signer, p)?))));
                        }
                    }
                    Job::Pause(p, _) => {
                        tx.execute(
                            "INSERT INTO settings(key, value) VALUES ('paused', ?1)
                             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                            [if *p { "true" } else { "false" }],
                        )?;
                        is_paused = *p;
                        results.push(Ok(None));
                    }
                }
            }
            tx.commit()?;
            paused.store(is_paused, Ordering::SeqCst);
            Ok(())
        })();
        if let Err(e) = outcome {
            tracing::error!(error = %e, "ledger transaction failed; claims in it were not recorded");
            results = jobs.iter().map(|_| Err(format!("ledger: {e}"))).collect();
            if let Ok(p) = read_paused(&conn) {
                paused.store(p, Ordering::SeqCst);
            }
        }
        for (j, r) in jobs.drain(..).zip(results) {
            match j {
                Job::Claim(_, reply) => {
                    let _ = reply.send(r.and_then(|o| match o {
                        Some(Outcome::Claim(c)) => Ok(c),
                        _ => Err("no outcome".to_string()),
                    }));
                }
                Job::Private(_, reply) => {
                    let _ = reply.send(r.and_then(|o| match o {
                        Some(Outcome::Private(p)) => Ok(p),
                        _ => Err("no outcome".to_string()),
                    }));
                }
                Job::Pause(_, reply) => {
                    let _ = reply.send(r.map(|_| ()));
                }
            }
        }
    }
}

/// A claim's status as stored.
#[derive(Clone, Debug, Serialize)]
pub struct ClaimStatus {
    pub address: String,
    pub profile: String,
    pub amount: String,
    pub receipt: Value,
    pub released: String,
    pub created_at: i64,
}

impl Ledger {
    /// Open the ledger and start its writer thread.
    pub fn start(path: &Path, signer: ReceiptSigner, readers: usize) -> Result<Ledger> {
        let conn = open(path)?;
        let e = db_err(path);
        let pinned: Option<String> = conn
            .query_row(
                "SELECT value FROM settings WHERE key = 'campaign'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(&e)?;
        match pinned {
            None => {
                conn.execute(
                    "INSERT INTO settings(key, value) VALUES ('campaign', ?1)",
                    [&signer.campaign],
                )
                .map_err(&e)?;
            }
            Some(c) if c == signer.campaign => {}
            Some(c) => {
                return Err(ClaimError::Ledger {
                    path: path.to_path_buf(),
                    msg: format!(
                        "this ledger belongs to campaign {c:?}, not {:?}; use another --db",
                        signer.campaign
                    ),
                })
            }
        }
        let paused = Arc::new(AtomicBool::new(read_paused(&conn).map_err(&e)?));
        let mut rs = Vec::new();
        for _ in 0..readers.max(1) {
            let c = Connection::open(path).map_err(&e)?;
            c.busy_timeout(std::time::Duration::from_secs(10))
                .map_err(&e)?;
            rs.push(Mutex::new(c));
        }
        let (tx, rx) = mpsc::channel(16_384);
        let p2 = paused.clone();
        std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || writer_loop(conn, signer, rx, p2))
            .map_err(|e| ClaimError::io(path, e))?;
        Ok(Ledger {
            path: path.to_path_buf(),
            tx,
            readers: rs,
            next_reader: AtomicUsize::new(0),
            paused,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether claims are paused.
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    /// Record a claim (durably, before returning).
    pub async fn claim(&self, job: ClaimJob) -> Result<ClaimOutcome, String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Job::Claim(job, tx))
            .await
            .map_err(|_| "ledger writer stopped".to_string())?;
        rx.await.map_err(|_| "ledger writer stopped".to_string())?
    }

    /// Record a private claim: the nullifier and its payout row in one transaction (durably,
    /// before returning).
    pub async fn private_claim(&self, job: PrivateJob) -> Result<PrivateOutcome, String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Job::Private(job, tx))
            .await
            .map_err(|_| "ledger writer stopped".to_string())?;
        rx.await.map_err(|_| "ledger writer stopped".to_string())?
    }

    /// Pause or resume claims (durably).
    pub async fn set_paused(&self, paused: bool) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Job::Pause(paused, tx))
            .await
            .map_err(|_| "ledger writer stopped".to_string())?;
        rx.await.map_err(|_| "ledger writer stopped".to_string())?
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, String> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let c = self.readers[i].lock().unwrap_or_else(|p| p.into_inner());
        f(&c).map_err(|e| format!("ledger: {e}"))
    }

    /// The stored claim of `address`, if any.
    pub fn status(&self, address: &str) -> Result<Option<ClaimStatus>, String> {
        self.with_reader(|c| {
            let row: Option<(String, String, String, i64)> = c
                .prepare_cached(
                    "SELECT profile, amount, receipt, created_at FROM claims WHERE address = ?1",
                )?
                .query_row([address], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let Some((profile, amount, receipt, created_at)) = row else {
                return Ok(None);
            };
            let released = sum_released(c, address)?;
            Ok(Some(ClaimStatus {
                address: address.to_string(),
                profile,
                amount,
                receipt: serde_json::from_str(&receipt).unwrap_or(Value::Null),
                released: released.to_string(),
                created_at,
            }))
        })
    }

    /// Every claim and payout row, for the admin export.
    pub fn export(&self) -> Result<Value, String> {
        self.with_reader(ledger_json)
    }

    /// Whether the ledger answers.
    pub fn ping(&self) -> bool {
        self.with_reader(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))
            .is_ok()
    }
}

fn ledger_json(c: &Connection) -> rusqlite::Result<Value> {
    let mut claims = Vec::new();
    let mut st = c.prepare("SELECT receipt FROM claims ORDER BY seq")?;
    for r in st.query_map([], |r| r.get::<_, String>(0))? {
        claims.push(serde_json::from_str::<Value>(&r?).unwrap_or(Value::Null));
    }
    let mut payouts = Vec::new();
    let mut st = c.prepare(
        "SELECT id, address, amount, released_total, receipt_id, created_at, batch, nullifier FROM payouts ORDER BY id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(json!({
            "id": r.get::<_, i64>(0)?,
            "address": r.get::<_, String>(1)?,
            "amount": r.get::<_, String>(2)?,
            "released_total": r.get::<_, String>(3)?,
            "receipt_id": r.get::<_, String>(4)?,
            "created_at": r.get::<_, i64>(5)?,
            "batch": r.get::<_, Option<i64>>(6)?,
            "nullifier": r.get::<_, Option<String>>(7)?,
        }))
    })?;
    for r in rows {
        payouts.push(r?);
    }
    let mut private = Vec::new();
    let mut st = c.prepare(
        "SELECT nullifier, root, recipient, denomination, receipt_id, created_at, receipt FROM private_claims ORDER BY rowid",
    )?;
    let rows = st.query_map([], |r| {
        Ok(json!({
            "nullifier": r.get::<_, String>(0)?,
            "root": r.get::<_, String>(1)?,
            "recipient": r.get::<_, String>(2)?,
            "denomination": r.get::<_, String>(3)?,
            "receipt_id": r.get::<_, String>(4)?,
            "created_at": r.get::<_, i64>(5)?,
            "receipt": r
                .get::<_, Option<String>>(6)?
                .and_then(|t| serde_json::from_str::<Value>(&t).ok()),
        }))
    })?;
    for r in rows {
        private.push(r?);
    }
    Ok(json!({"claims": claims, "payouts": payouts, "private_claims": private}))
}

/// Every claim and payout row of the ledger at `db` as JSON `{claims: [receipt…], payouts: […], private_claims: […]}`.
pub fn read_ledger(db: &Path) -> Result<Value> {
    let c = open(db)?;
    ledger_json(&c).map_err(db_err(db))
}

/// The chain a payout batch is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chain {
    /// A shell script of `leo execute credits.aleo::transfer_public <address> <amount>u64`
    /// calls (amounts in microcredits), see [`ALEO_BATCH_HEADER`].
    Aleo,
    /// CSV `address,amount` for EVM batch-transfer tooling.
    Evm,
    /// CSV `address,amount` for Solana tooling.
    Solana,
}

impl std::str::FromStr for Chain {
    type Err = ClaimError;
    fn from_str(s: &str) -> Result<Chain> {
        match s {
            "aleo" => Ok(Chain::Aleo),
            "evm" => Ok(Chain::Evm),
            "solana" => Ok(Chain::Solana),
            other => Err(ClaimError::Config(format!(
                "unknown chain {other:?} (expected aleo, evm or solana)"
            ))),
        }
    }
}

impl Chain {
    pub fn name(&self) -> &'static str {
        match self {
            Chain::Aleo => "aleo",
            Chain::Evm => "evm",
            Chain::Solana => "solana",
        }
    }
    fn ext(&self) -> &'static str {
        match self {
            Chain::Aleo => "sh",
            _ => "csv",
        }
    }
}

/// What [`export_payouts`] wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportSummary {
    /// Batch number (0 when there was nothing to export).
    pub batch: i64,
    pub rows: u64,
    /// Sum of the batch, base units.
    pub total: String,
    /// The batch file (None when there was nothing to export).
    pub path: Option<PathBuf>,
}

type PayoutRow = (i64, String, String);

fn payout_rows(c: &Connection, batch: Option<i64>) -> rusqlite::Result<Vec<PayoutRow>> {
    let sql = if batch.is_some() {
        "SELECT id, address, amount FROM payouts WHERE batch = ?1 ORDER BY id"
    } else {
        "SELECT id, address, amount FROM payouts WHERE batch IS NULL AND ?1 IS NULL ORDER BY id"
    };
    let mut st = c.prepare(sql)?;
    let rows = st.query_map([batch], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// The start of an Aleo batch: a POSIX shell script that Leo executes. Each row is one
/// `leo execute credits.aleo::transfer_public` from the signer's public balance, its
/// arguments passed through (`--network`, `--endpoint`; the key from Leo's own environment:
/// fairdrop never sees it). A transfer Leo reports done is recorded in `<script>.done` by
/// payout id, and a re-run skips it, so running the batch again after a failure pays the
/// rest, not the paid ones twice. (A claim through the campaign's claim program cannot be
/// paid twice at all: its `claimed` mapping refuses it on chain, docs/aleo.md.)
pub const ALEO_BATCH_HEADER: &str = r#"#!/bin/sh
# fairdrop payout batch: credits.aleo::transfer_public from the signer's public balance.
# Run with Leo 4:  sh THIS_FILE --network mainnet --endpoint https://api.explorer.provable.com/v1
# The signer's key comes from Leo's environment (PRIVATE_KEY in .env, or --private-key).
# Paid payout ids are appended to THIS_FILE.done; a re-run skips them.
set -eu
done_file="$0.done"
touch "$done_file"
pay() {
  id=$1; to=$2; amount=$3; shift 3
  if grep -qx "$id" "$done_file"; then echo "payout $id: already paid, skipped"; return 0; fi
  leo execute credits.aleo::transfer_public "$to" "$amount" --broadcast --yes "$@"
  echo "$id" >> "$done_file"
}
"#;

/// The batch file for `rows`; an error names the first row the chain cannot pay.
fn render(rows: &[PayoutRow], chain: Chain) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    if chain != Chain::Aleo {
        out.extend_from_slice(b"address,amount\n");
    } else {
        out.extend_from_slice(ALEO_BATCH_HEADER.as_bytes());
    }
    for (id, address, amount) in rows {
        match chain {
            Chain::Aleo => {
                if !address.starts_with("aleo1") {
                    return Err(format!(
                        "payout {id}: {address} is not an Aleo address; export it with the chain its profile pays on"
                    ));
                }
                let a: u64 = amount.parse().map_err(|_| {
                    format!("payout {id}: amount {amount} does not fit u64 microcredits")
                })?;
                out.extend_from_slice(format!("pay {id} {address} {a}u64 \"$@\"\n").as_bytes());
            }
            _ => out.extend_from_slice(format!("{address},{amount}\n").as_bytes()),
        }
    }
    Ok(out)
}

/// Export every payout row not yet exported into one batch file in `out_dir`
/// (`payouts-<batch>.sh` for Aleo: a script of `leo execute credits.aleo::transfer_public`
/// calls, [`ALEO_BATCH_HEADER`];
/// `payouts-<batch>.csv` otherwise), and mark the rows as exported, so each row is exported
/// exactly once.
///
/// Crash-safe: rows are first assigned to a batch in one transaction; the file is then written
/// atomically from the batch's rows and the batch marked written. If the process dies between
/// the two, the next call rewrites the same batch (same rows, same bytes) before starting a
/// new one.
pub fn export_payouts(db: &Path, out_dir: &Path, chain: Chain) -> Result<ExportSummary> {
    let e = db_err(db);
    let mut c = open(db)?;
    std::fs::create_dir_all(out_dir).map_err(|er| ClaimError::io(out_dir, er))?;
    let now = now_secs();
    // A batch assigned but not written (crash): finish it first.
    let pending: Option<(i64, String, String)> = c
        .query_row(
            "SELECT id, chain, path FROM batches WHERE written_at IS NULL ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(&e)?;
    let (batch, chain, path) = match pending {
        Some((id, ch, p)) => (id, ch.parse::<Chain>()?, PathBuf::from(p)),
        None => {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&e)?;
            let n: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM payouts WHERE batch IS NULL",
                    [],
                    |r| r.get(0),
                )
                .map_err(&e)?;
            if n == 0 {
                return Ok(ExportSummary {
                    batch: 0,
                    rows: 0,
                    total: "0".into(),
                    path: None,
                });
            }
            // Check every row can be paid on this chain before assigning any.
            let rows = payout_rows(&tx, None).map_err(&e)?;
            render(&rows, chain).map_err(|m| ClaimError::Ledger {
                path: db.to_path_buf(),
                msg: m,
            })?;
            let id: i64 = tx
                .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM batches", [], |r| {
                    r.get(0)
                })
                .map_err(&e)?;
            let path = out_dir.join(format!("payouts-{id:06}.{}", chain.ext()));
            tx.execute("UPDATE payouts SET batch = ?1 WHERE batch IS NULL", [id])
                .map_err(&e)?;
            let total = sum_amounts(&tx, id).map_err(&e)?;
            tx.execute(
                "INSERT INTO batches(id, chain, path, rows, total, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, chain.name(), path.to_string_lossy(), n, total.to_string(), now],
            )
            .map_err(&e)?;
            tx.commit().map_err(&e)?;
            (id, chain, path)
        }
    };
    let rows = payout_rows(&c, Some(batch)).map_err(&e)?;
    let bytes = render(&rows, chain).map_err(|m| ClaimError::Ledger {
        path: db.to_path_buf(),
        msg: m,
    })?;
    fairdrop_core::fsutil::write_atomic(&path, &bytes).map_err(|er| ClaimError::io(&path, er))?;
    let (rows, total): (i64, String) = c
        .query_row(
            "SELECT rows, total FROM batches WHERE id = ?1",
            [batch],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(&e)?;
    c.execute(
        "UPDATE batches SET written_at = ?1 WHERE id = ?2",
        params![now, batch],
    )
    .map_err(&e)?;
    Ok(ExportSummary {
        batch,
        rows: rows as u64,
        total,
        path: Some(path),
    })
}

fn sum_amounts(c: &Connection, batch: i64) -> rusqlite::Result<u128> {
    let mut st = c.prepare("SELECT amount FROM payouts WHERE batch = ?1")?;
    let mut t = 0u128;
    for r in st.query_map([batch], |r| r.get::<_, String>(0))? {
        t = t.saturating_add(r?.parse::<u128>().unwrap_or(0));
    }
    Ok(t)
}

/// What [`clawback_report`] found. Public claims (by wallet, against the Merkle roots) and
/// private claims (by nullifier, against the private tree) are totalled apart.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClawbackReport {
    pub campaign: String,
    pub deadline: String,
    /// True once the deadline has passed (the figures are final).
    pub after_deadline: bool,
    /// Pool in base units.
    pub pool: String,
    /// Wallets with an allocation (manifest `counts.claims`, else the largest proof store).
    pub allocated_wallets: u64,
    /// Public claims recorded.
    pub claimed_wallets: u64,
    pub unclaimed_wallets: u64,
    /// Sum of public claimed entitlements.
    pub claimed: String,
    /// pool − claimed − private.claimed: what the operator can claw back after the deadline.
    pub unclaimed: String,
    /// Sum of public payout rows written (vested and released).
    pub released: String,
    /// Private claims.
    pub private: PrivateClawback,
}

/// The private part of a [`ClawbackReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrivateClawback {
    /// Nullifiers spent (private claims recorded).
    pub claims: u64,
    /// Sum of their denominations.
    pub claimed: String,
    /// Sum of private payout rows written (vested and released).
    pub released: String,
    /// Notes in the committed private tree (`zk/tree.json`, checked against the manifest by
    /// `Dist::load`); `None` without a tree file.
    pub notes: Option<u64>,
    /// Sum of the tree's denominations.
    pub committed: Option<String>,
    /// committed − claimed: private notes nobody claimed.
    pub unclaimed: Option<String>,
}

fn sum_column(c: &Connection, sql: &str) -> rusqlite::Result<(u128, u64)> {
    let mut st = c.prepare(sql)?;
    let mut total = 0u128;
    let mut n = 0u64;
    for r in st.query_map([], |r| r.get::<_, String>(0))? {
        total = total.saturating_add(r?.parse::<u128>().unwrap_or(0));
        n += 1;
    }
    Ok((total, n))
}

/// Total what was not claimed: pool minus claimed entitlements (public and private apart),
/// counts of wallets and of private notes.
pub fn clawback_report(db: &Path, dist: &Path) -> Result<ClawbackReport> {
    let d = crate::dist::Dist::load(dist, None)?;
    let c = open(db)?;
    let e = db_err(db);
    let (claimed, n) = sum_column(&c, "SELECT amount FROM claims").map_err(&e)?;
    let (released, _) =
        sum_column(&c, "SELECT amount FROM payouts WHERE nullifier IS NULL").map_err(&e)?;
    let (p_claimed, p_n) = sum_column(&c, "SELECT denomination FROM private_claims").map_err(&e)?;
    let (p_released, _) =
        sum_column(&c, "SELECT amount FROM payouts WHERE nullifier IS NOT NULL").map_err(&e)?;
    let tpath = dist.join("zk").join(fairdrop_zk::TREE_FILE);
    let tree = if d.private.is_some() && tpath.exists() {
        let t = fairdrop_zk::TreeFile::read(&tpath)
            .map_err(|er| ClaimError::dist(&tpath, er.to_string()))?;
        let total = t
            .notes
            .iter()
            .fold(0u128, |a, n| a.saturating_add(n.1 as u128));
        Some((t.notes.len() as u64, total))
    } else {
        None
    };
    let pool = fairdrop_core::parse_amount(&d.campaign.pool).unwrap_or(0);
    let allocated = d
        .manifest
        .counts
        .get("claims")
        .copied()
        .unwrap_or_else(|| d.checkers.iter().map(|c| c.claims()).max().unwrap_or(0));
    Ok(ClawbackReport {
        campaign: d.campaign.id.clone(),
        deadline: d.campaign.claim.deadline.clone(),
        after_deadline: now_secs() >= d.deadline,
        pool: pool.to_string(),
        allocated_wallets: allocated,
        claimed_wallets: n,
        unclaimed_wallets: allocated.saturating_sub(n),
        claimed: claimed.to_string(),
        unclaimed: pool
            .saturating_sub(claimed)
            .saturating_sub(p_claimed)
            .to_string(),
        released: released.to_string(),
        private: PrivateClawback {
            claims: p_n,
            claimed: p_claimed.to_string(),
            released: p_released.to_string(),
            notes: tree.map(|t| t.0),
            committed: tree.map(|t| t.1.to_string()),
            unclaimed: tree.map(|t| t.1.saturating_sub(p_claimed).to_string()),
        },
    })
}

/// Unix seconds now.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1 ledger with a claim and a payout row opens as version 3 with the rows kept,
    /// the public tranche uniqueness kept, and private payout rows allowed beside them.
    #[test]
    fn migrates_v1_to_v2() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("claims.db");
        {
            let mut c = Connection::open(&db).unwrap();
            let tx = c.transaction().unwrap();
            tx.execute_batch(MIGRATIONS[0].1).unwrap();
            tx.execute_batch(
                "CREATE TABLE schema_version (version INTEGER NOT NULL);
                 INSERT INTO schema_version(version) VALUES (1);
                 INSERT INTO claims VALUES ('0xaa', 'oz', '10', 'r1', '{}', 1, 5);
                 INSERT INTO payouts(address, amount, released_total, receipt_id, created_at)
                     VALUES ('0xaa', '10', '10', 'r1', 5);",
            )
            .unwrap();
            tx.commit().unwrap();
        }
        let c = open(&db).unwrap();
        let v: i64 = c
            .query_row("SELECT version FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        let rows: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM payouts WHERE address = '0xaa'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(rows, 1);
        // The public tranche is still unique.
        assert!(c
            .execute(
                "INSERT INTO payouts(address, amount, released_total, receipt_id, created_at)
                 VALUES ('0xaa', '10', '10', 'r1', 6)",
                [],
            )
            .is_err());
        // A private row to the same address and amount is fine; its nullifier is unique.
        c.execute(
            "INSERT INTO private_claims(nullifier, root, recipient, denomination, receipt_id, created_at)
             VALUES ('0x01', '0x02', '0xaa', '10', 'p1', 7)",
            [],
        )
        .unwrap();
        c.execute(
            "INSERT INTO payouts(address, amount, released_total, receipt_id, created_at, nullifier)
             VALUES ('0xaa', '10', '10', 'p1', 7, '0x01')",
            [],
        )
        .unwrap();
        assert!(c
            .execute(
                "INSERT INTO payouts(address, amount, released_total, receipt_id, created_at, nullifier)
                 VALUES ('0xbb', '10', '10', 'p1', 7, '0x01')",
                [],
            )
            .is_err());
        assert!(c
            .execute(
                "INSERT INTO private_claims(nullifier, root, recipient, denomination, receipt_id, created_at)
                 VALUES ('0x01', '0x03', '0xcc', '10', 'p2', 8)",
                [],
            )
            .is_err());
        // v3: a later vesting tranche of the same nullifier is a new row; the same tranche
        // twice is not.
        c.execute(
            "INSERT INTO payouts(address, amount, released_total, receipt_id, created_at, nullifier)
             VALUES ('0xaa', '5', '15', 'p1', 9, '0x01')",
            [],
        )
        .unwrap();
        assert!(c
            .execute(
                "INSERT INTO payouts(address, amount, released_total, receipt_id, created_at, nullifier)
                 VALUES ('0xaa', '5', '15', 'p1', 9, '0x01')",
                [],
            )
            .is_err());
        assert_eq!(private_released(&c, "0x01").unwrap(), 15);
        assert_eq!(sum_released(&c, "0xaa").unwrap(), 10);
        drop(c);
        // Opening again is a no-op.
        open(&db).unwrap();
    }
}
