//! Merkle commitments byte-compatible with OpenZeppelin, Uniswap and Jito, plus proof store.
