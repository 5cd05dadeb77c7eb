//! Sybil detection: funding, sweep and transfer graphs, hub filtering, clustering, lockstep behaviour.
