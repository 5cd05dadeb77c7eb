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
fairdrop zk codes --campaign-id aleo-airdrop-2024 --allocations dist/allocations.csv --denominations 1000000000,100000000 --out codes/   # second mode: operator-issued codes\n  \
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
    /// Second mode: issue claim codes. Splits each allocation into denominations and draws one
    /// secret per note; writes `codes.csv` (address,denomination,secret,commitment; mode 0600,
    /// sent to each holder through the operator's own channel), `notes.csv` (for `zk tree`,
    /// sorted by commitment so it does not reveal address order) and `remainders.csv` (what no
    /// denomination carries: pay publicly or forfeit, by campaign policy)
    Codes {
        #[arg(long)]
        campaign_id: String,
        /// `allocations.csv` of a run (address,amount,…)
        #[arg(long)]
        allocations: PathBuf,
        /// Denominations in base units, comma separated (the campaign's tiers)
        #[arg(long, value_delimiter = ',', required = true)]
        denominations: Vec<u64>,
        /// At most this many notes per address
        #[arg(long, default_value_t = 16)]
        max_notes: usize,
        /// Folder to create for the three files (must not exist)
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
        Cmd::Codes {
            campaign_id,
            allocations,
            denominations,
            max_notes,
            out,
        } => codes(&campaign_id, &allocations, &denominations, max_notes, &out)?,
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
                    "ok: claim of denomination {} to {recipient}, nullifier {}",
                    public.denomination, c.nullifier
                );
            } else {
                return Err(Exit(1, "invalid proof".into()).into());
            }
        }
    }
    Ok(())
}

/// `fairdrop zk codes`: see the subcommand's help.
fn codes(
    campaign_id: &str,
    allocations: &std::path::Path,
    denominations: &[u64],
    max_notes: usize,
    out: &std::path::Path,
) -> Result<()> {
    use std::io::Write;
    let cid = CampaignId::from_name(campaign_id);
    let bad = |line: u64, why: String| Exit(2, format!("{}:{line}: {why}", allocations.display()));
    let mut rdr = csv::Reader::from_path(allocations)
        .map_err(|e| Exit(2, format!("{}: {e}", allocations.display())))?;
    let headers = rdr.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(ai), Some(mi)) = (col("address"), col("amount")) else {
        return Err(bad(1, "header needs the columns address and amount".into()).into());
    };
    let mut codes = Vec::new();
    let mut notes: Vec<(String, u64)> = Vec::new();
    let mut remainders = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(0, e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let address = fairdrop_core::Address::parse(rec.get(ai).unwrap_or(""))
            .map_err(|e| bad(line, format!("address: {e} ({})", e.rule())))?;
        let amount: u64 = rec.get(mi).unwrap_or("").parse().map_err(|_| {
            bad(
                line,
                "amount: not a whole number of base units below 2^64".into(),
            )
        })?;
        let split = fairdrop_zk::split_denominations(amount, denominations, max_notes)
            .map_err(|e| bad(line, e.to_string()))?;
        if split.remainder > 0 {
            remainders.push((address, split.remainder));
        }
        for c in z(fairdrop_zk::issue_claim_codes(&address, &split, &cid))? {
            notes.push((c.commitment.to_hex(), c.denomination));
            codes.push(c);
        }
    }
    notes.sort();
    // Codes are secrets already sent to holders once written: never replace a folder. All
    // three files appear together or not at all.
    if out.exists() {
        return Err(Exit(
            2,
            format!("{}: exists; codes are never overwritten", out.display()),
        )
        .into());
    }
    let dir = fairdrop_core::fsutil::AtomicDir::create(out)
        .map_err(|e| Exit(2, format!("{}: {e}", out.display())))?;
    let tmp = dir.path().to_path_buf();
    let mut codes_csv = String::from("address,denomination,secret,commitment\n");
    for c in &codes {
        codes_csv.push_str(&format!(
            "{},{},{},{}\n",
            c.address,
            c.denomination,
            c.secret.to_hex(),
            c.commitment.to_hex()
        ));
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let cpath = tmp.join("codes.csv");
    let mut f = opts
        .open(&cpath)
        .map_err(|e| Exit(2, format!("{}: {e}", cpath.display())))?;
    f.write_all(codes_csv.as_bytes())?;
    f.sync_all()?;
    let mut notes_csv = String::from("commitment,denomination\n");
    for (c, d) in &notes {
        notes_csv.push_str(&format!("{c},{d}\n"));
    }
    fairdrop_core::fsutil::write_atomic(tmp.join("notes.csv"), notes_csv.as_bytes())?;
    let mut rem_csv = String::from("address,remainder\n");
    for (a, r) in &remainders {
        rem_csv.push_str(&format!("{a},{r}\n"));
    }
    fairdrop_core::fsutil::write_atomic(tmp.join("remainders.csv"), rem_csv.as_bytes())?;
    dir.commit()
        .map_err(|e| Exit(2, format!("{}: {e}", out.display())))?;
    let left: u128 = remainders.iter().map(|(_, r)| *r as u128).sum();
    println!(
        "{} claim codes in {} (send each to its address holder privately), notes for `zk tree` in {}, {} addresses with a remainder of {} base units in all",
        codes.len(),
        out.join("codes.csv").display(),
        out.join("notes.csv").display(),
        remainders.len(),
        left
    );
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

    /// `fairdrop zk codes` (second mode): each allocation is split into denominations, one
    /// secret per note; the notes file builds the private tree, each code's secret finds its
    /// note there, and notes + remainder add up to every allocation. Bad rows name the line.
    #[test]
    fn codes_split_allocations_into_notes_the_tree_accepts() {
        let d = tempfile::tempdir().unwrap();
        let a1 = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf";
        let a2 = "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f";
        let alloc = d.path().join("allocations.csv");
        std::fs::write(
            &alloc,
            format!("address,amount,tier\n{a1},2350,gold\n{a2},100,silver\n"),
        )
        .unwrap();
        let out = d.path().join("codes");
        let go = |out: &std::path::Path| {
            run(Args {
                cmd: Cmd::Codes {
                    campaign_id: "t-codes".into(),
                    allocations: alloc.clone(),
                    denominations: vec![1000, 100],
                    max_notes: 16,
                    out: out.to_path_buf(),
                },
            })
        };
        go(&out).unwrap();
        let codes = std::fs::read_to_string(out.join("codes.csv")).unwrap();
        let rows: Vec<Vec<&str>> = codes
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        // 2350 = 1000 + 1000 + 100 + 100 + 100 + 50 left; 100 = 100.
        assert_eq!(rows.len(), 6);
        let paid = |a: &str| {
            rows.iter()
                .filter(|r| r[0] == a)
                .map(|r| r[1].parse::<u64>().unwrap())
                .sum::<u64>()
        };
        assert_eq!((paid(a1), paid(a2)), (2300, 100));
        assert_eq!(
            std::fs::read_to_string(out.join("remainders.csv")).unwrap(),
            format!("address,remainder\n{a1},50\n")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("codes.csv"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "codes are secrets: owner only");
        }
        let notes = std::fs::read_to_string(out.join("notes.csv")).unwrap();
        let listed: Vec<&str> = notes.lines().skip(1).collect();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted, "notes sorted by commitment, not by address");
        let cid = CampaignId::from_name("t-codes");
        let tree_json = d.path().join("tree.json");
        run(Args {
            cmd: Cmd::Tree {
                campaign_id: "t-codes".into(),
                notes: out.join("notes.csv"),
                out: tree_json.clone(),
            },
        })
        .unwrap();
        let (t, _) = TreeFile::read(&tree_json).unwrap().rebuild().unwrap();
        for r in &rows {
            let s = Secret::from_hex(r[2]).unwrap();
            let c = Commitment::new(&s, &cid);
            assert_eq!(c.to_hex(), r[3]);
            assert!(
                t.index_of(&c, r[1].parse().unwrap()).is_some(),
                "note of {} in the tree",
                r[0]
            );
        }
        // The folder is never overwritten, and a bad amount names its line.
        assert!(go(&out).is_err());
        std::fs::write(&alloc, format!("address,amount\n{a1},12\n{a2},-5\n")).unwrap();
        let e = go(&d.path().join("codes2")).unwrap_err();
        let msg = e.downcast_ref::<Exit>().map(|x| x.1.clone()).unwrap();
        assert!(msg.contains("allocations.csv:3: amount"), "{msg}");
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
        // `verify-manifest` (signature only, no --campaign) checks the same files.
        let verify = || {
            crate::cmd::merkle::verify_manifest(crate::cmd::merkle::VerifyManifestArgs {
                manifest: fx.dist.join("manifest.json"),
                pubkey: Some(fx.public_key.clone()),
                campaign: None,
            })
        };
        check().unwrap();
        verify().unwrap();
        // A registrations file nobody signed is refused too.
        let reg = fx.dist.join("zk/registrations.csv");
        std::fs::write(&reg, "commitment,denomination\n").unwrap();
        let e = check().unwrap_err();
        let x = e.downcast_ref::<Exit>().unwrap();
        assert!(x.1.contains("registrations.csv"), "{}", x.1);
        std::fs::remove_file(&reg).unwrap();
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
        let e = verify().unwrap_err();
        let x = e.downcast_ref::<Exit>().unwrap();
        assert_eq!(x.0, 1);
        assert!(
            x.1.starts_with("zk:") && x.1.contains("root.txt"),
            "{}",
            x.1
        );
    }
}
