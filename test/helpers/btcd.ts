// One real regtest btcd per test file (never a mock): `const btc = await useBtcd(t)` at the top of an
// integration test file starts it, mines past coinbase maturity, and registers its stop with `t`.
// The node, its miner and faucet, and the chain helpers live in scripts/lib/btcd.ts (the demo and the
// benchmarks run on them too); see there for what `btc` offers.
export { mineTx, mineUntilHeight, tipHeight, useBtcd, type Btcd, type FaucetOutput } from '../../scripts/lib/btcd.ts'
