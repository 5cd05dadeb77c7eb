use std::io::Read;
use std::path::PathBuf;

use anyhow::Result;
use fairdrop_merkle::profile::{
    build_from_csv, read_allocations, verify_record, Profile, ProofRecord,
};

use crate::Exit;

fn profile(s: &str) -> Result<Profile> {
    s.parse::<Profile>()
        .map_err(|e| Exit(2, e.to_string()).into())
}

/// Build a Merkle tree from allocations in a profile's format, with its proof store.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop tree --allocations dist/allocations.csv --profile oz --out dist/oz\n\n\
Profiles: oz (OpenZeppelin StandardMerkleTree standard-v1 → tree.json), uniswap (MerkleDistributor → \
uniswap.json), jito (Solana distributor → jito.json), each with proofs.store (O(1) lookup); aleo (snarkVM's \
hash.psd2, depth from the size, needs --campaign-id → aleo/tree.json + proofs-aleo.jsonl)."
)]
pub struct TreeArgs {
    /// allocations.csv (address,amount[,tier]; amounts in base units)
    #[arg(long)]
    pub allocations: PathBuf,
    #[arg(long)]
    pub profile: String,
    /// The campaign id (aleo profile: every leaf carries its tag)
    #[arg(long)]
    pub campaign_id: Option<String>,
    #[arg(long)]
    pub out: PathBuf,
}

fn campaign_id(id: &Option<String>) -> Result<&str> {
    id.as_deref().ok_or_else(|| {
        Exit(
            2,
            "the aleo profile needs --campaign-id (each leaf carries the campaign's tag)".into(),
        )
        .into()
    })
}

/// Read `address,amount[,tier]` for the aleo profile: Aleo addresses, u64 microcredits, sorted.
fn aleo_allocations(path: &std::path::Path) -> Result<Vec<(fairdrop_core::Address, u64)>> {
    let mut r =
        csv::Reader::from_path(path).map_err(|e| Exit(2, format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| Exit(2, format!("{}:{line}: {e}", path.display())))?;
        let a = fairdrop_core::Address::parse(rec.get(0).unwrap_or("")).map_err(|e| {
            Exit(
                2,
                format!("{}:{line}: address: {e} ({})", path.display(), e.rule()),
            )
        })?;
        if !a.is_aleo() {
            return Err(Exit(
                2,
                format!(
                    "{}:{line}: the aleo profile takes Aleo addresses",
                    path.display()
                ),
            )
            .into());
        }
        let amt: u64 = rec.get(1).unwrap_or("").parse().map_err(|e| {
            Exit(
                2,
                format!("{}:{line}: amount: {e} (u64 microcredits)", path.display()),
            )
        })?;
        out.push((a, amt));
    }
    out.sort_by_key(|(a, _)| a.to_string());
    Ok(out)
}

pub fn tree(a: TreeArgs) -> Result<()> {
    if a.profile == "aleo" {
        let entries = aleo_allocations(&a.allocations)?;
        std::fs::create_dir_all(&a.out)?;
        let id = campaign_id(&a.campaign_id)?;
        let root = fairdrop_pipeline::commit::write_aleo(id, &entries, &a.out)
            .map_err(|e| Exit(2, e.to_string()))?;
        println!("{root}");
        eprintln!(
            "tree: {} leaves, profile aleo → {}",
            entries.len(),
            a.out.display()
        );
        return Ok(());
    }
    let p = profile(&a.profile)?;
    let t = std::time::Instant::now();
    let tree = build_from_csv(&a.allocations, p, &a.out).map_err(|e| Exit(2, e.to_string()))?;
    println!("{}", fairdrop_merkle::hash::hex32(&tree.root()));
    eprintln!(
        "tree: {} leaves, profile {}, in {:.2}s → {}",
        tree.len(),
        p.name(),
        t.elapsed().as_secs_f64(),
        a.out.display()
    );
    Ok(())
}

/// Print one claim's proof as JSON (what `fairdrop verify` reads), or for the aleo profile the
/// claim program's call.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  fairdrop proof --allocations dist/allocations.csv --profile oz 0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f > proof.json\n  \
fairdrop proof --dist dist --profile aleo aleo1… --format aleo\n\n\
--format aleo prints {\"program\", \"function\", \"inputs\"}: the exact inputs of the claim program's \
transition (`leo execute claim '<inputs[0]>' '<inputs[1]>'`, or a wallet's transaction request)."
)]
pub struct ProofArgs {
    /// allocations.csv (address,amount[,tier]); or --dist
    #[arg(long)]
    pub allocations: Option<PathBuf>,
    /// The run's output folder: its allocations.csv, or for aleo its proofs-aleo.jsonl
    #[arg(long, conflicts_with = "allocations")]
    pub dist: Option<PathBuf>,
    #[arg(long)]
    pub profile: String,
    /// The campaign id (aleo profile with --allocations)
    #[arg(long)]
    pub campaign_id: Option<String>,
    /// json (the proof record) or aleo (the claim program's call; aleo profile)
    #[arg(long, default_value = "json")]
    pub format: String,
    /// With --format aleo: claim (public payout), claim_private (a private record) or verify
    #[arg(long, default_value = "claim")]
    pub function: String,
    pub address: String,
}

pub fn proof(a: ProofArgs) -> Result<()> {
    if a.format != "json" && a.format != "aleo" {
        return Err(Exit(2, format!("--format {}: expected json or aleo", a.format)).into());
    }
    if a.profile == "aleo" {
        let want = fairdrop_core::Address::parse(&a.address)
            .map_err(|e| Exit(2, format!("{e} ({})", e.rule())))?;
        let (p, root, program) = match (&a.dist, &a.allocations) {
            (Some(dist), _) => {
                let meta = super::aleo::TreeMeta::read(dist)?;
                let p = super::aleo::find_proof(dist, &want)?
                    .ok_or_else(|| Exit(1, format!("{want} has no allocation")))?;
                let program = super::aleo::program_id(dist, &meta);
                (p, meta.root, program)
            }
            (None, Some(alloc)) => {
                let id = campaign_id(&a.campaign_id)?;
                let entries = aleo_allocations(alloc)?;
                let i = entries
                    .iter()
                    .position(|(x, _)| *x == want)
                    .ok_or_else(|| Exit(1, format!("{want} has no allocation")))?;
                let t = fairdrop_zk::aleo::AleoTree::build(
                    fairdrop_zk::aleo::campaign_tag(id),
                    &entries,
                )
                .map_err(|e| Exit(2, e.to_string()))?;
                let p = t.proof(i).map_err(|e| Exit(2, e.to_string()))?;
                let program = format!("{}.aleo", fairdrop_zk::program::program_name(id));
                (p, t.root(), program)
            }
            (None, None) => {
                return Err(Exit(2, "give --dist or --allocations".into()).into());
            }
        };
        if a.format == "aleo" {
            let call = fairdrop_zk::program::ClaimCall::new(&program, &a.function, &p)
                .map_err(|e| Exit(2, e.to_string()))?;
            println!("{}", serde_json::to_string_pretty(&call)?);
            return Ok(());
        }
        let mut v = serde_json::to_value(&p)?;
        v["profile"] = "aleo".into();
        v["root"] = fairdrop_zk::fe_to_hex(&root).into();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if a.format == "aleo" {
        return Err(Exit(2, "--format aleo is for the aleo profile".into()).into());
    }
    let p = profile(&a.profile)?;
    let alloc = match (&a.allocations, &a.dist) {
        (Some(f), _) => f.clone(),
        (None, Some(d)) => d.join("allocations.csv"),
        (None, None) => return Err(Exit(2, "give --allocations or --dist".into()).into()),
    };
    let rows = read_allocations(&alloc, p).map_err(|e| Exit(2, e.to_string()))?;
    let tree = fairdrop_merkle::profile::build(p, &rows).map_err(|e| Exit(2, e.to_string()))?;
    let rec = tree
        .proof_record(&a.address)
        .map_err(|e| Exit(1, e.to_string()))?;
    println!("{}", serde_json::to_string_pretty(&rec)?);
    Ok(())
}

/// Check a claim: leaf + proof + root → ok, or which check failed.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop proof ... > proof.json && fairdrop verify proof.json\n\n\
Reads the JSON `fairdrop proof` prints (profile, root, address, amount, index, leaf, proof). \
Exit 0 and `ok` when every check passes, exit 1 naming the first check that failed."
)]
pub struct VerifyArgs {
    /// Proof JSON file, or - for standard input
    pub proof: PathBuf,
}

pub fn verify(a: VerifyArgs) -> Result<()> {
    let mut text = String::new();
    if a.proof.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(&a.proof)
            .map_err(|e| Exit(2, format!("{}: {e}", a.proof.display())))?;
    }
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Exit(2, format!("{}: not JSON: {e}", a.proof.display())))?;
    if v.get("profile").and_then(|p| p.as_str()) == Some("aleo") {
        let root = v
            .get("root")
            .and_then(|r| r.as_str())
            .ok_or_else(|| Exit(2, "aleo proof without a root".to_string()))?;
        let root = fairdrop_zk::fe_from_hex(root).map_err(|e| Exit(2, format!("root: {e}")))?;
        let mut body = v.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove("profile");
            o.remove("root");
        }
        let p: fairdrop_zk::aleo::AleoProof = serde_json::from_value(body)
            .map_err(|e| Exit(2, format!("{}: not an aleo proof: {e}", a.proof.display())))?;
        // The path's length is the depth: the root pins the tree, so a path of another length
        // cannot reach it (the claim program fixes the depth in its type).
        return match fairdrop_zk::aleo::verify_aleo_proof(&root, p.path.depth(), p.campaign, &p) {
            Ok(()) => {
                println!(
                    "ok: {} is owed {} under root {} (aleo)",
                    p.address,
                    p.amount,
                    fairdrop_zk::fe_to_hex(&root)
                );
                Ok(())
            }
            Err(e) => Err(Exit(1, format!("invalid: {e}")).into()),
        };
    }
    let rec: ProofRecord = serde_json::from_str(&text)
        .map_err(|e| Exit(2, format!("{}: not a proof record: {e}", a.proof.display())))?;
    match verify_record(&rec) {
        Ok(()) => {
            println!(
                "ok: {} is owed {} under root {} ({})",
                rec.address, rec.amount, rec.root, rec.profile
            );
            Ok(())
        }
        Err(e) => Err(Exit(1, format!("invalid: {e}")).into()),
    }
}

/// Make an ed25519 key pair for signing a campaign's manifest and claim receipts.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop keygen --out keys/\n\nWrites keys/campaign.key (secret, mode 0600, never overwritten) and keys/campaign.pub."
)]
pub struct KeygenArgs {
    #[arg(long)]
    pub out: PathBuf,
}

pub fn keygen(a: KeygenArgs) -> Result<()> {
    std::fs::create_dir_all(&a.out)?;
    let pk =
        fairdrop_merkle::manifest::keygen(&a.out.join("campaign.key"), &a.out.join("campaign.pub"))
            .map_err(|e| Exit(2, e.to_string()))?;
    println!("{}", hex::encode(pk.as_bytes()));
    Ok(())
}

/// Check a manifest's signature and, given the campaign, recompute everything and compare.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  fairdrop verify-manifest --manifest dist/manifest.json --pubkey keys/campaign.pub --campaign campaign.toml\n\n\
Without --campaign the signature is checked, and the private-claim files in zk/ beside the \
manifest (if any) against the hashes it signs. With it, the whole run is recomputed from the \
inputs into a temporary folder and the manifests compared: `reproduced`, or the first field that differs."
)]
pub struct VerifyManifestArgs {
    #[arg(long)]
    pub manifest: PathBuf,
    /// The campaign's published public key (hex file); without it the key in the manifest is reported
    #[arg(long)]
    pub pubkey: Option<PathBuf>,
    /// Recompute the run from this campaign file and compare
    #[arg(long)]
    pub campaign: Option<PathBuf>,
}

pub fn verify_manifest(a: VerifyManifestArgs) -> Result<()> {
    use fairdrop_merkle::manifest::{compare, read_public_key, Manifest};
    let m = Manifest::read(&a.manifest).map_err(|e| Exit(2, e.to_string()))?;
    let expected = match &a.pubkey {
        Some(p) => Some(read_public_key(p).map_err(|e| Exit(2, e.to_string()))?),
        None => None,
    };
    let key = m
        .verify_signature(expected.as_ref())
        .map_err(|e| Exit(1, format!("signature: {e}")))?;
    println!("signature ok: key {}", hex::encode(key.as_bytes()));
    // Private-claim files beside the manifest (`zk/`) must be the ones it commits to.
    let dir = a
        .manifest
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(std::path::Path::new("."));
    match fairdrop_claim::dist::PrivateClaims::load(dir, &m.campaign, &m) {
        Ok(Some(p)) => println!(
            "zk ok: zk/claim.vk sha256 {} and zk/root.txt match the manifest",
            p.vk_sha256
        ),
        Ok(None) => {}
        Err(e) => return Err(Exit(1, format!("zk: {e}")).into()),
    }
    // The Aleo claim program beside the manifest must be the one it binds.
    for (k, want) in &m.inputs {
        let Some(id) = k.strip_prefix("aleo:") else {
            continue;
        };
        let main = dir
            .join("aleo")
            .join("program")
            .join("build")
            .join("main.aleo");
        if !main.exists() {
            println!(
                "aleo: the manifest binds {id} (build/main.aleo sha256 {want}); no {} to compare",
                main.display()
            );
            continue;
        }
        let got =
            fairdrop_merkle::manifest::sha256_file(&main).map_err(|e| Exit(2, e.to_string()))?;
        if &got != want {
            return Err(Exit(
                1,
                format!(
                    "aleo: {} has sha256 {got}, the manifest binds {id} to {want}",
                    main.display()
                ),
            )
            .into());
        }
        println!(
            "aleo ok: {} is {id}, sha256 {got} as the manifest binds",
            main.display()
        );
    }
    if let Some(cp) = &a.campaign {
        let c = super::run::load(cp)?;
        let tmp = tempdir_near(&a.manifest)?;
        let opts = fairdrop_pipeline::RunOptions {
            out: Some(tmp.clone()),
            progress: false,
            batch_rows: None,
        };
        let res = fairdrop_pipeline::run(&c, &opts);
        let again = res.and_then(|_| {
            Manifest::read(&tmp.join("manifest.json"))
                .map_err(|e| fairdrop_pipeline::RunError::Commit(e.to_string()))
        });
        let _ = std::fs::remove_dir_all(&tmp);
        let again = again.map_err(|e| Exit(2, format!("recomputing: {e}")))?;
        match compare(&m, &again) {
            None => println!("reproduced"),
            Some(d) => return Err(Exit(1, format!("differs: {d}")).into()),
        }
    }
    Ok(())
}

fn tempdir_near(p: &std::path::Path) -> Result<PathBuf> {
    let base = std::env::temp_dir().join(format!("fairdrop-verify-{}", std::process::id()));
    let _ = p;
    Ok(base)
}
