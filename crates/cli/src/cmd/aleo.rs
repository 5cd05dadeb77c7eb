//! `fairdrop aleo …`: the campaign's Aleo claim program and what the operator does with it
//! (docs/aleo.md).
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::Result;
use fairdrop_core::Address;
use fairdrop_zk::aleo::AleoProof;
use fairdrop_zk::program::{program_name, ClaimProgram};

use crate::Exit;

/// The Aleo claim program of a campaign committed with the `aleo` profile.
#[derive(clap::Args)]
#[command(after_help = "Example:\n  \
fairdrop aleo program --dist dist --admin aleo1… --out dist/aleo/program   # Leo package + build/main.aleo\n  \
fairdrop aleo plan --dist dist --start 2000000 --end 2500000                # deploy, fund, open, reclaim\n\n\
`fairdrop run` writes the program itself (dist/aleo/program) when the campaign file has \
[aleo] admin = \"aleo1…\", and the signed manifest binds the sha256 of build/main.aleo.")]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Generate the claim program (program.json, src/main.leo, build/main.aleo) from dist/aleo/tree.json
    Program {
        /// The run's output folder (holds aleo/tree.json)
        #[arg(long)]
        dist: PathBuf,
        /// The operator's Aleo address: opens the claim window, reclaims the rest
        #[arg(long)]
        admin: String,
        /// Program name without .aleo (default fairdrop_ + 10 hex digits of the campaign tag)
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// What the operator does, in order: deploy, fund, open the window, reclaim
    Plan {
        /// The run's output folder (aleo/tree.json, proofs-aleo.jsonl)
        #[arg(long)]
        dist: PathBuf,
        /// The program folder (default DIST/aleo/program)
        #[arg(long)]
        program: Option<PathBuf>,
        #[arg(long, default_value = "mainnet")]
        network: String,
        #[arg(long, default_value = "https://api.explorer.provable.com/v1")]
        endpoint: String,
        /// First block height claims are accepted at
        #[arg(long)]
        start: Option<u32>,
        /// Last block height claims are accepted at
        #[arg(long)]
        end: Option<u32>,
    },
}

pub fn run(a: Args) -> Result<()> {
    match a.cmd {
        Cmd::Program {
            dist,
            admin,
            name,
            out,
        } => {
            let meta = TreeMeta::read(&dist)?;
            let admin = Address::parse(&admin)
                .map_err(|e| Exit(2, format!("--admin: {e} ({})", e.rule())))?;
            let name = name.unwrap_or_else(|| program_name(&meta.campaign_id));
            let p = ClaimProgram::new(&name, &meta.campaign_id, meta.root, meta.leaves, admin)
                .map_err(|e| Exit(2, e.to_string()))?;
            if p.campaign != meta.campaign || p.depth != meta.depth {
                return Err(Exit(
                    2,
                    format!(
                        "{}: campaign tag or depth do not follow from campaign_id and leaves",
                        meta.path.display()
                    ),
                )
                .into());
            }
            let sha = p.write(&out).map_err(|e| Exit(2, e.to_string()))?;
            println!("{}", p.id());
            eprintln!(
                "program {} ({} leaves, depth {}) → {}; build/main.aleo sha256 {sha}",
                p.id(),
                p.leaves,
                p.depth,
                out.display()
            );
            Ok(())
        }
        Cmd::Plan {
            dist,
            program,
            network,
            endpoint,
            start,
            end,
        } => plan(&dist, program, &network, &endpoint, start, end),
    }
}

/// `aleo/tree.json` as `fairdrop run` / `fairdrop tree --profile aleo` write it.
pub struct TreeMeta {
    pub path: PathBuf,
    pub campaign_id: String,
    pub campaign: u128,
    pub root: fairdrop_zk::Fr,
    pub depth: usize,
    pub leaves: u32,
}

impl TreeMeta {
    pub fn read(dist: &Path) -> Result<TreeMeta> {
        let path = dist.join("aleo").join("tree.json");
        let bad = |what: &str| Exit(2, format!("{}: {what}", path.display()));
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Exit(
                2,
                format!(
                    "{}: {e} (commit the campaign with the aleo profile first)",
                    path.display()
                ),
            )
        })?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(&format!("not JSON: {e}")))?;
        if v["format"] != "fairdrop-aleo-v2" {
            return Err(bad("format is not fairdrop-aleo-v2 (re-run the commit)").into());
        }
        let s = |k: &str| {
            v[k].as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("no {k}")))
        };
        let campaign_id = s("campaign_id")?;
        let campaign: u128 = s("campaign")?
            .parse()
            .map_err(|_| bad("campaign is not a decimal u128"))?;
        let root = fairdrop_zk::fe_from_hex(&s("root")?).map_err(|e| bad(&format!("root: {e}")))?;
        let depth = v["depth"].as_u64().ok_or_else(|| bad("no depth"))? as usize;
        let leaves = v["leaves"]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| bad("leaves is not a u32"))?;
        Ok(TreeMeta {
            path,
            campaign_id,
            campaign,
            root,
            depth,
            leaves,
        })
    }
}

/// Every proof in `dist/proofs-aleo.jsonl`, in leaf order, passed to `f`.
pub fn for_each_proof(dist: &Path, mut f: impl FnMut(AleoProof) -> bool) -> Result<()> {
    let path = dist.join("proofs-aleo.jsonl");
    let file =
        std::fs::File::open(&path).map_err(|e| Exit(2, format!("{}: {e}", path.display())))?;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Exit(2, format!("{}:{}: {e}", path.display(), i + 1)))?;
        let p: AleoProof = serde_json::from_str(&line).map_err(|e| {
            Exit(
                2,
                format!("{}:{}: not an aleo proof: {e}", path.display(), i + 1),
            )
        })?;
        if !f(p) {
            break;
        }
    }
    Ok(())
}

/// The proof of `address` in `dist/proofs-aleo.jsonl`.
pub fn find_proof(dist: &Path, address: &Address) -> Result<Option<AleoProof>> {
    let want = address.to_string();
    let mut found = None;
    for_each_proof(dist, |p| {
        if p.address == want {
            found = Some(p);
            false
        } else {
            true
        }
    })?;
    Ok(found)
}

/// The program id of the campaign in `dist`: from `aleo/program/program.json` when the
/// program was generated there, else the default name.
pub fn program_id(dist: &Path, meta: &TreeMeta) -> String {
    read_program_id(&dist.join("aleo").join("program"))
        .unwrap_or_else(|| format!("{}.aleo", program_name(&meta.campaign_id)))
}

fn read_program_id(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("program.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["program"].as_str().map(str::to_string)
}

fn plan(
    dist: &Path,
    program: Option<PathBuf>,
    network: &str,
    endpoint: &str,
    start: Option<u32>,
    end: Option<u32>,
) -> Result<()> {
    if network != "mainnet" && network != "testnet" && network != "canary" {
        return Err(Exit(
            2,
            format!("--network {network}: expected mainnet, testnet or canary"),
        )
        .into());
    }
    let meta = TreeMeta::read(dist)?;
    let dir = program.unwrap_or_else(|| dist.join("aleo").join("program"));
    let main = dir.join("build").join("main.aleo");
    let source = std::fs::read_to_string(&main).map_err(|e| {
        Exit(
            2,
            format!(
                "{}: {e} (generate it with `fairdrop aleo program --dist {} --admin aleo1… --out {}`)",
                main.display(),
                dist.display(),
                dir.display()
            ),
        )
    })?;
    let id = read_program_id(&dir).ok_or_else(|| {
        Exit(
            2,
            format!("{}: no program name", dir.join("program.json").display()),
        )
    })?;
    if !source.contains(&format!("program {id};")) {
        return Err(Exit(2, format!("{}: is not the program {id}", main.display())).into());
    }
    let root = fairdrop_zk::psd2::field_plaintext(&meta.root);
    if !source.contains(&root) {
        return Err(Exit(
            1,
            format!(
                "{} does not check the root of {} ({root}): regenerate the program",
                main.display(),
                meta.path.display()
            ),
        )
        .into());
    }
    let mut total: u128 = 0;
    let mut n = 0u64;
    for_each_proof(dist, |p| {
        total += p.amount as u128;
        n += 1;
        true
    })?;
    if n != meta.leaves as u64 {
        return Err(Exit(
            2,
            format!(
                "{} has {n} proofs, {} says {} leaves",
                dist.join("proofs-aleo.jsonl").display(),
                meta.path.display(),
                meta.leaves
            ),
        )
        .into());
    }
    let total = u64::try_from(total).map_err(|_| {
        Exit(
            2,
            "the leaves sum to more than a u64 of microcredits".to_string(),
        )
    })?;
    let sha = fairdrop_merkle::manifest::sha256_file(&main).map_err(|e| Exit(2, e.to_string()))?;
    let common = format!("--network {network} --endpoint {endpoint} --broadcast");
    let (s, e) = (
        start.map_or("START".to_string(), |h| h.to_string()),
        end.map_or("END".to_string(), |h| h.to_string()),
    );
    if let (Some(a), Some(b)) = (start, end) {
        if a > b {
            return Err(Exit(2, format!("--start {a} is after --end {b}")).into());
        }
    }
    println!(
        "Aleo claim plan: campaign {:?}, program {id} ({} leaves, depth {}, build/main.aleo sha256 {sha})\n",
        meta.campaign_id, meta.leaves, meta.depth
    );
    println!(
        "Every step is signed by the operator's key, which leo reads from its own environment \
(PRIVATE_KEY in .env or --private-key); fairdrop never sees it.\n"
    );
    println!(
        "1. Deploy (once; the admin address in the program is the only one that can open and reclaim):\n   \
cd {} && leo deploy {common}\n   \
leo prints the deployment fee (storage, synthesis and namespace cost) and asks before it broadcasts; \
docs/aleo.md has the fee measured for this program's shape.\n",
        dir.display()
    );
    println!(
        "2. Fund the program with the pool, {total} microcredits (the sum of the {n} leaves), from the signer's public balance:\n   \
leo execute fund {total}u64 {common}\n"
    );
    println!(
        "3. Open the claim window, once (finalize refuses a second call):\n   \
leo execute open {s}u32 {e}u32 {common}\n"
    );
    println!(
        "4. Participants claim at heights {s}..={e}; each finds their call with\n   \
fairdrop proof --profile aleo --dist {} ADDRESS --format aleo\n   \
and submits it (leo execute claim '<leaf>' '<siblings>' {common}, or a wallet). \
An operator who pays instead runs the same call for each leaf: anyone may submit a leaf, the credits \
go to its recipient, and `claimed` makes a second submission fail.\n",
        dist.display()
    );
    println!(
        "5. After height {e}: take back what is left (the program's balance, \
{endpoint}/{network}/program/credits.aleo/mapping/account/<program address>; the program address is the \
destination of the transfer_public_as_signer in step 2's transaction). To call the campaign off before \
step 3, open 0u32 0u32 and reclaim:\n   \
leo execute reclaim AMOUNTu64 {common}"
    );
    Ok(())
}
