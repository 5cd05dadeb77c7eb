//! Allocation: split a fixed pool over scored wallets exactly, in integer base units.
