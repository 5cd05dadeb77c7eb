//! `fairdrop zk …`: private claims (see docs/privacy.md).
use std::path::PathBuf;

use anyhow::Result;
use fairdrop_zk::{
    os_rng, prove, read_proving_key, read_verifying_key, setup, verify, write_keys, CampaignId,
    ClaimWitness, Commitment, PrivateClaim, PrivateTree, Secret,
};
use fairdrop_zk::{read_registrations, TreeFile};

use crate::Exit;

/// Private claims with zk-SNARKs (Groth16 on BLS12-377).
#[derive(clap::Args)]
#[command(
    after_help = "Example (participant, then operator, then participant):\n  \
fairdrop zk secret --campaign-id aleo-airdrop-2024 --out my.secret      # prints the commitment to register\n  \
fairdrop zk setup --campaign-id aleo-airdrop-2024 --out zk/              # per-campaign keys (+ sha256 for the manifest)\n  \
fairdrop zk tree --campaign-id aleo-airdrop-2024 --notes notes.csv --out zk/tree.json\n  \
fairdrop zk prove --pk zk/claim.pk --tree zk/tree.json --secret my.secret --denomination 1000000000 --recipient aleo1… > claim.json\n  \
fairdrop zk verify --vk zk/claim.vk --claim claim.json\n  \
fairdrop zk check --dist dist --pubkey keys/campaign.pub                  # dist/zk against the signed manifest"
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
    /// The private tree from registrations (CSV `commitment,denomination[,address,signature]`;
    /// EVM rows with a signature column are checked: EIP-191 signer == address)
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
    /// Check a run's dist/zk files (claim.vk, root.txt, tree.json) against its signed manifest,
    /// as the claim service does at start-up
    Check {
        /// The run's output folder (holds manifest.json and zk/)
        #[arg(long)]
        dist: PathBuf,
        /// The campaign's published public key (hex file)
        #[arg(long)]
        pubkey: Option<PathBuf>,
    },
    /// Verify a private claim JSON against the verifying key
    Verify {
        #[arg(long)]
        vk: PathBuf,
        #[arg(long)]
        claim: PathBuf,
    },
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
            let cid = CampaignId::from_name(&campaign_id);
            let reg = read_registrations(&notes, &cid).map_err(|e| Exit(2, e.to_string()))?;
            if reg.evm_signed > 0 {
                eprintln!(
                    "  {} EVM registrations: EIP-191 signature checked",
                    reg.evm_signed
                );
            }
            if reg.aleo_rows > 0 {
                eprintln!(
                    "  {} Aleo registrations: bound by their registration transaction (not checked here)",
                    reg.aleo_rows
                );
            }
            let list = reg.notes;
            let t = z(PrivateTree::build(list))?;
            let tf = TreeFile::new(&t, &cid);
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
            let tf = z(TreeFile::read(&tree))?;
            let (t, campaign) = tf
                .rebuild()
                .map_err(|e| Exit(2, format!("{}: {e}", tree.display())))?;
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
        Cmd::Check { dist, pubkey } => {
            let key = match &pubkey {
                Some(p) => Some(
                    fairdrop_merkle::manifest::read_public_key(p)
                        .map_err(|e| Exit(2, e.to_string()))?,
                ),
                None => None,
            };
            let d = fairdrop_claim::Dist::load(&dist, key.as_ref())
                .map_err(|e| Exit(1, format!("invalid: {e}")))?;
            match &d.private {
                Some(p) => println!(
                    "ok: zk/claim.vk sha256 {} and private root {} match the signed manifest",
                    p.vk_sha256,
                    p.root
                        .map(|r| fairdrop_zk::fe_to_hex(&r))
                        .unwrap_or_default()
                ),
                None => {
                    return Err(Exit(
                        1,
                        format!(
                    "{}: the manifest commits to no private claims (no [zk] in the campaign)",
                    dist.display()
                ),
                    )
                    .into())
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use fairdrop_zk::evm::EvmSigningKey as SigningKey;
    use fairdrop_zk::{evm_registration_message, personal_sign};

    fn tree(notes: &std::path::Path, out: &std::path::Path) -> Result<()> {
        run(Args {
            cmd: Cmd::Tree {
                campaign_id: "t-evm".into(),
                notes: notes.to_path_buf(),
                out: out.to_path_buf(),
            },
        })
    }

    /// `fairdrop zk tree` checks EIP-191 registrations: a good file makes the tree; a row
    /// signed by another key stops with file, line and rule, and writes nothing.
    #[test]
    fn tree_checks_evm_signatures() {
        let d = tempfile::tempdir().unwrap();
        let campaign = CampaignId::from_name("t-evm");
        let mut rows = String::from("address,commitment,denomination,signature\n");
        let mut keys = Vec::new();
        for i in 1..=2u8 {
            let sk = SigningKey::from_slice(&[i + 40; 32]).unwrap();
            let addr =
                fairdrop_core::Address::Evm(fairdrop_zk::evm::evm_address_of(sk.verifying_key()));
            let c = Commitment::new(&Secret::from_random_bytes([i; 32]), &campaign);
            let sig = personal_sign(&sk, &evm_registration_message(&campaign, &c));
            rows.push_str(&format!(
                "{addr},{},1000,0x{}\n",
                c.to_hex(),
                hex::encode(sig)
            ));
            keys.push((addr, c, sk));
        }
        let notes = d.path().join("notes.csv");
        std::fs::write(&notes, &rows).unwrap();
        let out = d.path().join("tree.json");
        tree(&notes, &out).unwrap();
        let tf = TreeFile::read(&out).unwrap();
        assert_eq!(tf.notes.len(), 2);
        tf.rebuild().unwrap();

        // Row 3 signed by the first key: refused.
        let (addr, c, _) = &keys[1];
        let bad_sig = personal_sign(&keys[0].2, &evm_registration_message(&campaign, c));
        let bad = rows.replace(
            &rows.lines().nth(2).unwrap().to_string(),
            &format!("{addr},{},1000,0x{}", c.to_hex(), hex::encode(bad_sig)),
        );
        std::fs::write(&notes, bad).unwrap();
        let out2 = d.path().join("tree2.json");
        let e = tree(&notes, &out2).unwrap_err();
        let msg = e.downcast_ref::<Exit>().map(|x| x.1.clone()).unwrap();
        assert!(
            msg.contains("notes.csv:3: registration.signature.signer"),
            "{msg}"
        );
        assert!(!out2.exists());
    }

    /// `fairdrop zk check` accepts a dist whose zk files match the manifest and refuses a
    /// swapped root (exit 1).
    #[test]
    fn check_compares_dist_zk_with_the_manifest() {
        use fairdrop_claim::fixture::{build_dist, FixtureOptions, ZkFiles};
        let d = tempfile::tempdir().unwrap();
        let campaign = CampaignId::from_name("fixture-2026");
        let (pk, vk) = setup(&campaign, &mut os_rng().unwrap()).unwrap();
        let fx = build_dist(
            d.path(),
            &FixtureOptions {
                eligible: 2,
                ineligible: 0,
                zk: Some(ZkFiles {
                    vk: vk.to_bytes(),
                    root: fairdrop_zk::fe_to_hex(&fairdrop_zk::Fr::from(5u64)),
                    tree: None,
                    pk_sha256: fairdrop_zk::key_hash(&pk.to_bytes()),
                }),
                ..Default::default()
            },
        )
        .unwrap();
        let check = || {
            run(Args {
                cmd: Cmd::Check {
                    dist: fx.dist.clone(),
                    pubkey: Some(fx.public_key.clone()),
                },
            })
        };
        check().unwrap();
        std::fs::write(
            fx.dist.join("zk/root.txt"),
            format!("{}\n", fairdrop_zk::fe_to_hex(&fairdrop_zk::Fr::from(6u64))),
        )
        .unwrap();
        let e = check().unwrap_err();
        let x = e.downcast_ref::<Exit>().unwrap();
        assert_eq!(x.0, 1);
        assert!(x.1.contains("root.txt"), "{}", x.1);
    }
}
