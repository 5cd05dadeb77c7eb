// Bundles entry.js into ../src/leo-wallet.js (the service inlines it into the page).
// `node build.mjs --check` builds in memory and fails if the committed file differs.
import { build } from "esbuild";
import { readFileSync, writeFileSync } from "node:fs";

const out = await build({
  entryPoints: ["entry.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  charset: "utf8",
  legalComments: "none",
  metafile: true,
  write: false,
});
// The npm packages that went into the bundle, with their versions and licences.
const names = [
  ...new Set(
    Object.keys(out.metafile.inputs)
      .map((f) => f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1])
      .filter(Boolean),
  ),
].sort();
const parts = names.map((n) => {
  const p = JSON.parse(readFileSync(`node_modules/${n}/package.json`, "utf8"));
  return `${n} ${p.version} (${p.license})`;
});
const banner = `/* Leo Wallet adapter for the fairdrop participant page, bundled by crates/claim/wallet from: ${parts.join(", ")}. */\n`;
const text = banner + out.outputFiles[0].text;
const target = "../src/leo-wallet.js";
if (process.argv.includes("--check")) {
  const committed = readFileSync(target, "utf8");
  if (committed !== text) {
    console.error(`${target} is not what entry.js and the locked packages build to: run \`npm run build\` in crates/claim/wallet`);
    process.exit(1);
  }
  console.log(`${target}: up to date (${text.length} bytes)`);
} else {
  writeFileSync(target, text);
  console.log(`${target}: ${text.length} bytes`);
}
