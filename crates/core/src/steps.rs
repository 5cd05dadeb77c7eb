//! The seed guide's eleven participation steps, and how an activity row counts toward one.
//!
//! | # | key | what the guide asks | counted from |
//! |---|-----|---------------------|--------------|
//! | 1 | `wallet_setup` | set up a Leo wallet | any activity on chain `aleo` |
//! | 2 | `greenlist` | greenlist the wallet | action `greenlist` |
//! | 3 | `aleo_faucet` | Aleo test tokens from the faucet | `faucet_claim` on chain `aleo` |
//! | 4 | `sepolia_faucet` | Sepolia ETH from the faucet | `faucet_claim` on any other chain |
//! | 5 | `bridge` | bridge ETH from Sepolia to Aleo | `bridge_in` |
//! | 6 | `swap` | swaps on AleoSwap | `swap` |
//! | 7 | `liquidity` | add liquidity | `add_liquidity` |
//! | 8 | `domain` | register an Aleo domain | `domain_register` |
//! | 9 | `token_launch` | launch a token | `token_launch` |
//! | 10 | `trade` | trade on the order-book exchange | `trade` |
//! | 11 | `quests` | Zealy quests | `quest` |
//!
//! Off-chain sources (faucet sites, the greenlist, the quest board) are keyed by the wallet
//! address the participant entered, so their rows carry that address.

use crate::actions;

/// One participation step.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// 1-based number as in the guide.
    pub number: u8,
    /// Stable key, used as the feature name `step_<key>`.
    pub key: &'static str,
    /// Short title for people.
    pub title: &'static str,
}

pub const STEPS: [Step; 11] = [
    Step {
        number: 1,
        key: "wallet_setup",
        title: "Set up a Leo wallet",
    },
    Step {
        number: 2,
        key: "greenlist",
        title: "Greenlist your wallet",
    },
    Step {
        number: 3,
        key: "aleo_faucet",
        title: "Claim Aleo test tokens",
    },
    Step {
        number: 4,
        key: "sepolia_faucet",
        title: "Claim Sepolia ETH",
    },
    Step {
        number: 5,
        key: "bridge",
        title: "Bridge ETH to Aleo",
    },
    Step {
        number: 6,
        key: "swap",
        title: "Make swaps on AleoSwap",
    },
    Step {
        number: 7,
        key: "liquidity",
        title: "Add liquidity",
    },
    Step {
        number: 8,
        key: "domain",
        title: "Register an Aleo domain",
    },
    Step {
        number: 9,
        key: "token_launch",
        title: "Launch a token",
    },
    Step {
        number: 10,
        key: "trade",
        title: "Trade on the exchange",
    },
    Step {
        number: 11,
        key: "quests",
        title: "Complete Zealy quests",
    },
];

/// Bit mask (bit `n-1` for step `n`) of the steps this one row counts toward.
pub fn steps_of(chain: &str, action: &str) -> u16 {
    let mut m = 0u16;
    if chain == "aleo" {
        m |= 1 << 0;
    }
    m |= match action {
        actions::GREENLIST => 1 << 1,
        actions::FAUCET_CLAIM if chain == "aleo" => 1 << 2,
        actions::FAUCET_CLAIM => 1 << 3,
        actions::BRIDGE_IN => 1 << 4,
        actions::SWAP => 1 << 5,
        actions::ADD_LIQUIDITY => 1 << 6,
        actions::DOMAIN_REGISTER => 1 << 7,
        actions::TOKEN_LAUNCH => 1 << 8,
        actions::TRADE => 1 << 9,
        actions::QUEST => 1 << 10,
        _ => 0,
    };
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn mapping() {
        assert_eq!(steps_of("aleo", "transfer"), 1);
        assert_eq!(steps_of("aleo", "faucet_claim"), 0b101);
        assert_eq!(steps_of("sepolia", "faucet_claim"), 0b1000);
        assert_eq!(steps_of("zealy", "quest"), 1 << 10);
        for (i, s) in STEPS.iter().enumerate() {
            assert_eq!(s.number as usize, i + 1);
        }
    }
}
