//! `fairdrop zk …`: private claims (see docs/privacy.md).
use std::path::PathBuf;

use anyhow::Result;
use fairdrop_zk::{
    os_rng, prove, read_proving_key, read_verifying_key, setup, verify, write_keys, CampaignId,
    ClaimWitness, Commitment, Note, PrivateClaim, PrivateTree, Secret,
};

use crate::Exit;

/// Private claims with zk-SNARKs (Groth16 on BLS12-377).
#[derive(clap::Args)]
#[command(
    after_help = "Example (participant, then operator, then participant):\n  \
fairdrop zk secret --campaign-id aleo-airdrop-2024 --out my.secret      # prints the commitment to register\n  \
fairdrop zk setup --campaign-id aleo-airdrop-2024 --out zk/              # per-campaign keys (+ sha256 for the manifest)\n  \
fairdrop zk tree --campaign-id aleo-airdrop-2024 --notes notes.csv --out zk/tree.json\n  \
fairdrop zk prove --pk zk/claim.pk --tree zk/tree.json --secret my.secret --denomination 1000000000 --recipient aleo1… > claim.json\n  \
fairdrop zk verify --vk zk/claim.vk --claim claim.json"
)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Make a 251-bit secret (client side) and print its commitment
    Secret {
        #[arg(long)]
        campaign_id: String,
        /// Secret file to create (mode 0600, never overwritten)
        #[arg(long)]
        out: PathBuf,
    },
    /// Per-campaign proving and verifying keys. Production needs a multi-party ceremony.
    Setup {
        #[arg(long)]
        campaign_id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// The private tree from registered notes (CSV `commitment,denomination`)
    Tree {
        #[arg(long)]
        campaign_id: String,
        #[arg(long)]
        notes: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Prove one note is yours and send it to a recipient; prints the claim JSON
    Prove {
        #[arg(long)]
        pk: PathBuf,
        #[arg(long)]
        tree: PathBuf,
        #[arg(long)]
        secret: PathBuf,
        #[arg(long)]
        denomination: u64,
        #[arg(long)]
        recipient: String,
    },
    /// Verify a private claim JSON against the verifying key
    Verify {
        #[arg(long)]
        vk: PathBuf,
        #[arg(long)]
        claim: PathBuf,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct TreeFile {
    format: String,
    campaign_id: String,
    root: String,
    /// (commitment, denomination) in tree order.
    notes: Vec<(String, u64)>,
    bucket_sizes: Vec<(u64, usize)>,
}

fn z<T>(r: Result<T, fairdrop_zk::ZkError>) -> Result<T> {
    r.map_err(|e| Exit(2, e.to_string()).into())
}

fn read(p: &PathBuf) -> Result<String> {
    std::fs::read_to_string(p).map_err(|e| Exit(2, format!("{}: {e}", p.display())).into())
}

pub fn run(a: Args) -> Result<()> {
    match a.cmd {
        Cmd::Secret { campaign_id, out } => {
            let s = z(Secret::generate())?;
            let c = Commitment::new(&s, &CampaignId::from_name(&campaign_id));
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            use std::io::Write;
            let mut f = opts
                .open(&out)
                .map_err(|e| Exit(2, format!("{}: {e}", out.display())))?;
            writeln!(f, "{}", s.to_hex())?;
            println!("{}", c.to_hex());
            eprintln!("secret written to {} (keep it: it is the only way to claim); register the commitment above", out.display());
        }
        Cmd::Setup { campaign_id, out } => {
            let cid = CampaignId::from_name(&campaign_id);
            let (pk, vk) = z(setup(&cid, &mut z(os_rng())?))?;
            std::fs::create_dir_all(&out)?;
            let h = z(write_keys(&out, &pk, &vk))?;
            let js = serde_json::json!({"campaign_id": cid.to_hex(), "claim.pk": h.proving_key_sha256, "claim.vk": h.verifying_key_sha256});
            fairdrop_core::fsutil::write_atomic(
                out.join("keys.json"),
                serde_json::to_string_pretty(&js)?.as_bytes(),
            )?;
            println!("{}", serde_json::to_string_pretty(&js)?);
        }
        Cmd::Tree {
            campaign_id,
            notes,
            out,
        } => {
            let mut list = Vec::new();
            let mut r = csv::Reader::from_path(&notes)
                .map_err(|e| Exit(2, format!("{}: {e}", notes.display())))?;
            for (i, rec) in r.records().enumerate() {
                let rec = rec.map_err(|e| Exit(2, format!("{}: {e}", notes.display())))?;
                let line = i + 2;
                let c = Commitment::from_hex(rec.get(0).unwrap_or(""))
                    .map_err(|e| Exit(2, format!("{}:{line}: commitment: {e}", notes.display())))?;
                let d: u64 = rec.get(1).unwrap_or("").parse().map_err(|e| {
                    Exit(2, format!("{}:{line}: denomination: {e}", notes.display()))
                })?;
                list.push(Note {
                    commitment: c,
                    denomination: d,
                });
            }
            let t = z(PrivateTree::build(list))?;
            let tf = TreeFile {
                format: "fairdrop-private-tree-v1".into(),
                campaign_id: CampaignId::from_name(&campaign_id).to_hex(),
                root: fairdrop_zk::fe_to_hex(&t.root()),
                notes: t
                    .notes()
                    .iter()
                    .map(|n| (n.commitment.to_hex(), n.denomination))
                    .collect(),
                bucket_sizes: t.bucket_sizes(),
            };
            fairdrop_core::fsutil::write_atomic(
                &out,
                serde_json::to_string_pretty(&tf)?.as_bytes(),
            )?;
            println!("{}", tf.root);
            for (d, n) in &tf.bucket_sizes {
                eprintln!("  denomination {d}: anonymity set {n}");
            }
        }
        Cmd::Prove {
            pk,
            tree,
            secret,
            denomination,
            recipient,
        } => {
            let tf: TreeFile = serde_json::from_str(&read(&tree)?)
                .map_err(|e| Exit(2, format!("{}: {e}", tree.display())))?;
            let campaign = z(CampaignId::from_hex(&tf.campaign_id))?;
            let mut notes = Vec::new();
            for (c, d) in &tf.notes {
                notes.push(Note {
                    commitment: z(Commitment::from_hex(c))?,
                    denomination: *d,
                });
            }
            let t = z(PrivateTree::build(notes))?;
            if fairdrop_zk::fe_to_hex(&t.root()) != tf.root {
                return Err(Exit(
                    2,
                    format!(
                        "{}: notes do not hash to the root it states",
                        tree.display()
                    ),
                )
                .into());
            }
            let s = z(Secret::from_hex(read(&secret)?.trim()))?;
            let c = Commitment::new(&s, &campaign);
            let index = t.index_of(&c, denomination).ok_or_else(|| {
                Exit(
                    1,
                    format!("no note of denomination {denomination} for this secret in the tree"),
                )
            })?;
            let recipient = fairdrop_core::Address::parse(&recipient)
                .map_err(|e| Exit(2, format!("recipient: {e} ({})", e.rule())))?;
            let pkey = z(read_proving_key(&pk))?;
            let w = ClaimWitness {
                secret: s,
                path: z(t.path(index))?,
                root: t.root(),
                denomination,
                recipient,
                campaign,
            };
            let (proof, public) = z(prove(&pkey, &w, &mut z(os_rng())?))?;
            println!(
                "{}",
                serde_json::to_string_pretty(&PrivateClaim::new(&public, &recipient, &proof))?
            );
        }
        Cmd::Verify { vk, claim } => {
            let c: PrivateClaim = serde_json::from_str(&read(&claim)?)
                .map_err(|e| Exit(2, format!("{}: {e}", claim.display())))?;
            let (public, recipient, proof) = z(c.decode())?;
            let key = z(read_verifying_key(&vk))?;
            if z(verify(&key, &public, &proof))? {
                println!(
                    "ok: {} of denomination {} to {recipient}, nullifier {}",
                    "claim", public.denomination, c.nullifier
                );
            } else {
                return Err(Exit(1, "invalid proof".into()).into());
            }
        }
    }
    Ok(())
}
