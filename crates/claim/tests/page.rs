//! The participant page end to end in headless Chromium (Debian's `chromium`): the page
//! reads `?address=`, checks it, and the rendered DOM shows eligibility, amount, reasons, the
//! task checklist and the campaign key fingerprint.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use fairdrop_claim::fixture::{build_dist, FixtureOptions};

#[path = "common/chromium.rs"]
mod chromium;
use chromium::{dump_dom, CHROMIUM};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dist: &Path, db: &Path, key: &Path) -> (Server, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fairdrop-claim-testserver"))
        .args([dist, db, key])
        .arg("127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the test server");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no listening line from the server: {line:?}"));
    (Server(child), addr)
}

#[test]
fn participant_page_in_headless_chromium_shows_eligibility_amount_and_fingerprint() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium; scripts/test does (apt-get install -y chromium)"
    );
    let dir = tempfile::tempdir().unwrap();
    let fx = build_dist(
        dir.path(),
        &FixtureOptions {
            eligible: 32,
            ineligible: 4,
            ..Default::default()
        },
    )
    .unwrap();
    let (_server, addr) = start(&fx.dist, &dir.path().join("claims.db"), &fx.secret_key);
    let pk = fairdrop_merkle::manifest::read_public_key(&fx.public_key).unwrap();
    let fp = fairdrop_claim::fingerprint(&pk);

    let (a, amount) = &fx.eligible[3];
    let dom = dump_dom(&format!("http://{addr}/?address={a}"));
    assert!(dom.contains(&fp), "fingerprint missing:\n{dom}");
    assert!(dom.contains("official announcement"), "{dom}");
    assert!(
        dom.contains(r#"<span id="eligibility" class="ok">Eligible</span>"#),
        "eligibility missing:\n{dom}"
    );
    assert!(
        dom.contains(&format!("({amount} base units)")),
        "amount missing:\n{dom}"
    );
    assert!(
        dom.contains("Set up a Leo wallet"),
        "checklist missing:\n{dom}"
    );
    assert!(dom.contains("of 11 steps done"), "progress missing:\n{dom}");
    assert!(dom.contains("0x"), "proof missing:\n{dom}");
    assert!(
        dom.contains(r#"<button id="claim">Claim</button>"#),
        "claim button should be enabled:\n{dom}"
    );

    let b = &fx.ineligible[0];
    let dom = dump_dom(&format!("http://{addr}/?address={b}"));
    assert!(dom.contains(r#"class="no">Not eligible</span>"#), "{dom}");
    assert!(
        dom.contains("gate.min_active_days"),
        "reasons missing:\n{dom}"
    );
    assert!(dom.contains("Part of cluster 17"), "{dom}");
}

/// The Leo Wallet bundle inlined into the page (`src/leo-wallet.js`) is exactly what
/// `wallet/entry.js` and the locked npm packages build to (`node build.mjs --check`), so the
/// adapter code the page runs is the registry's, unmodified.
#[test]
fn leo_wallet_bundle_is_built_from_the_locked_packages() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("wallet");
    assert!(
        dir.join("node_modules/esbuild").is_dir(),
        "{}/node_modules is missing: run `npm ci` there (scripts/test does)",
        dir.display()
    );
    let out = Command::new("node")
        .args(["build.mjs", "--check"])
        .current_dir(&dir)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let bundle =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/leo-wallet.js"))
            .unwrap();
    assert!(
        bundle.contains("@demox-labs/aleo-wallet-adapter-leo 0.0.25"),
        "{}",
        &bundle[..300]
    );
    // Inlined into a <script> element: it must not close it early.
    assert!(!bundle.to_ascii_lowercase().contains("</script"));
}
