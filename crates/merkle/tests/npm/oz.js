// Runs the real @openzeppelin/merkle-tree on cases from a JSON file (argv[2]) and prints, per
// case, the root, JSON.stringify(tree.dump()), getProof(i) for every value and, if asked, a
// multiproof. Used by crates/merkle/tests/npm_compat.rs.
const fs = require('fs');
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = input.cases.map(c => {
  const t = StandardMerkleTree.of(c.values, c.leafEncoding);
  const res = {
    root: t.root,
    dump: JSON.stringify(t.dump()),
    proofs: c.values.map((_, i) => t.getProof(i)),
  };
  if (c.multi) {
    const m = t.getMultiProof(c.multi);
    res.multiproof = { leaves: m.leaves, proof: m.proof, proofFlags: m.proofFlags };
  }
  return res;
});
process.stdout.write(JSON.stringify(out));
