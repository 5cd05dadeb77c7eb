//! Simulator: a deterministic Aleo ecosystem with organic users, exchanges, friend groups and sybil farms.
