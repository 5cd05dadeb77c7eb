//! Actions with built-in meaning (see `shared/spec/activity-schema.md`).
//!
//! Any other action matching `[a-z][a-z0-9_]{0,31}` is a valid custom action.

pub const TRANSFER: &str = "transfer";
pub const STAKE: &str = "stake";
pub const UNSTAKE: &str = "unstake";
pub const VOTE: &str = "vote";
pub const FAUCET_CLAIM: &str = "faucet_claim";
pub const GREENLIST: &str = "greenlist";
pub const BRIDGE_IN: &str = "bridge_in";
pub const BRIDGE_OUT: &str = "bridge_out";
pub const SWAP: &str = "swap";
pub const ADD_LIQUIDITY: &str = "add_liquidity";
pub const REMOVE_LIQUIDITY: &str = "remove_liquidity";
pub const DOMAIN_REGISTER: &str = "domain_register";
pub const TOKEN_LAUNCH: &str = "token_launch";
pub const TRADE: &str = "trade";
pub const QUEST: &str = "quest";
pub const DEPLOY_PROGRAM: &str = "deploy_program";
pub const NFT_MINT: &str = "nft_mint";

/// Every built-in action, in a fixed order (used for feature columns).
pub const BUILTIN: [&str; 17] = [
    TRANSFER,
    STAKE,
    UNSTAKE,
    VOTE,
    FAUCET_CLAIM,
    GREENLIST,
    BRIDGE_IN,
    BRIDGE_OUT,
    SWAP,
    ADD_LIQUIDITY,
    REMOVE_LIQUIDITY,
    DOMAIN_REGISTER,
    TOKEN_LAUNCH,
    TRADE,
    QUEST,
    DEPLOY_PROGRAM,
    NFT_MINT,
];

/// `[a-z][a-z0-9_]{0,31}`
pub fn is_valid_action(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// `[a-z0-9_-]{1,32}`
pub fn is_valid_chain(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn grammar() {
        for a in BUILTIN {
            assert!(is_valid_action(a));
        }
        assert!(!is_valid_action("Swap"));
        assert!(!is_valid_action("1swap"));
        assert!(!is_valid_action(&"a".repeat(33)));
        assert!(is_valid_chain("aleo"));
        assert!(is_valid_chain("zk-sync_2"));
        assert!(!is_valid_chain("Aleo"));
        assert!(!is_valid_chain(""));
    }
}
