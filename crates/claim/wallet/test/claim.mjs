// Drives the participant page in Debian's Chromium (playwright-core) with a stand-in for the
// Leo Wallet extension, clicks "Claim with Leo Wallet", and prints as JSON what the page's
// bundled adapter asked the wallet for: {calls: [{connect}, {requestTransaction}], result, ok}.
//
//   node test/claim.mjs URL PAYER      a wallet whose account is PAYER
//   node test/claim.mjs URL --none     no wallet installed
//
// Used by crates/cli/tests/cli.rs (demo_then_serve_…); the stand-in only records, the
// transaction request itself is built by @demox-labs/aleo-wallet-adapter-leo and -base.
import { chromium } from "playwright-core";

const [url, payer] = process.argv.slice(2);
if (!url || !payer) {
  console.error("usage: node test/claim.mjs URL (PAYER | --none)");
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage();
  if (payer !== "--none") {
    await page.addInitScript((account) => {
      const calls = [];
      window.__walletCalls = calls;
      window.leoWallet = {
        publicKey: undefined,
        async isAvailable() { return true; },
        on() {}, off() {}, once() {}, emit() {},
        async connect(decryptPermission, network, programs) {
          calls.push({ connect: { decryptPermission, network, programs } });
          this.publicKey = account;
        },
        async requestTransaction(transaction) {
          calls.push({ requestTransaction: JSON.parse(JSON.stringify(transaction)) });
          return { transactionId: "at1standin" };
        },
        async disconnect() {},
      };
    }, payer);
  }
  await page.goto(url);
  await page.waitForSelector("#onchain:not(.hidden)", { timeout: 20000 });
  await page.click("#leo-claim");
  await page.waitForFunction(() => {
    const c = document.getElementById("leo-result").className;
    return c === "ok" || c === "no";
  }, null, { timeout: 20000 });
  const out = await page.evaluate(() => ({
    calls: window.__walletCalls || [],
    result: document.getElementById("leo-result").textContent,
    ok: document.getElementById("leo-result").className === "ok",
    fee: document.getElementById("leo-fee").textContent,
  }));
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}
