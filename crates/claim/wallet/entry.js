// "Claim with Leo Wallet" on the participant page (crates/claim/src/page.html).
//
// The Leo Wallet adapter (@demox-labs/aleo-wallet-adapter-leo, the wallet's own package) finds
// the browser extension, connects, and sends the transaction request built with the adapter
// base's Transaction.createTransaction: the claim program, the function and the exact inputs
// the claim service returns (`proofs.aleo.call`), with the fee paid from the wallet's public
// balance. The page never sees a key: the wallet signs, proves and broadcasts.
//
// `npm run build` bundles this file into ../src/leo-wallet.js, which the service inlines into the
// page (no script is fetched from elsewhere). crates/cli/tests/cli.rs checks that the committed
// bundle is what this file and the locked packages build to.
import { LeoWalletAdapter } from "@demox-labs/aleo-wallet-adapter-leo";
import {
  DecryptPermission,
  Transaction,
  WalletAdapterNetwork,
  WalletReadyState,
} from "@demox-labs/aleo-wallet-adapter-base";

let adapter = null;

function getAdapter() {
  if (!adapter) adapter = new LeoWalletAdapter({ appName: document.title });
  return adapter;
}

// Resolves once the extension is detected, or after `ms` (the adapter polls every second).
function ready(a, ms) {
  if (a.readyState === WalletReadyState.Installed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(a.readyState === WalletReadyState.Installed), ms);
    a.once("readyStateChange", (s) => {
      clearTimeout(t);
      resolve(s === WalletReadyState.Installed);
    });
  });
}

// call: {program, function, inputs}; fee: microcredits. Returns {transactionId, payer}.
async function claim(call, fee) {
  const a = getAdapter();
  if (!(await ready(a, 1500))) {
    throw new Error("Leo Wallet is not installed in this browser (https://leo.app)");
  }
  const network = WalletAdapterNetwork.MainnetBeta;
  if (!a.connected) await a.connect(DecryptPermission.NoDecrypt, network, [call.program]);
  const tx = Transaction.createTransaction(
    a.publicKey,
    network,
    call.program,
    call.function,
    call.inputs,
    fee,
    false,
  );
  const transactionId = await a.requestTransaction(tx);
  return { transactionId, payer: a.publicKey };
}

window.fairdropLeoWallet = { claim };
