// Times @openzeppelin/merkle-tree on the benchmark input (argv[2]: a JSON array of
// [address, amount] values), doing what fairdrop's bench does: build the tree, write the
// standard-v1 dump, compute every proof and write them all. Prints one JSON line of figures.
// Used by crates/merkle/benches/tree.rs.
const fs = require('fs');
const path = require('path');
const os = require('os');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const values = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-npm-bench-'));
const t0 = process.hrtime.bigint();
const tree = StandardMerkleTree.of(values, ['address', 'uint256']);
const t1 = process.hrtime.bigint();
fs.writeFileSync(path.join(dir, 'tree.json'), JSON.stringify(tree.dump()));
const t2 = process.hrtime.bigint();
const lines = [];
for (const [i, v] of tree.entries()) {
  lines.push(JSON.stringify({ address: v[0], amount: v[1], index: i, proof: tree.getProof(i) }));
}
fs.writeFileSync(path.join(dir, 'proofs.jsonl'), lines.join('\n') + '\n');
const t3 = process.hrtime.bigint();
fs.rmSync(dir, { recursive: true, force: true });
const ms = (a, b) => Number(b - a) / 1e6;
process.stdout.write(JSON.stringify({
  n: values.length,
  root: tree.root,
  build_ms: ms(t0, t1),
  dump_ms: ms(t1, t2),
  proofs_ms: ms(t2, t3),
  total_ms: ms(t0, t3),
}) + '\n');
