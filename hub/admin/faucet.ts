// The regtest faucet (admin POST /regtest/faucet, `hub faucet`): pays any address from the hub's
// wallet, and mines when the wallet lacks mature coins: blocks whose coinbases pay the hub's wallet,
// then enough more for the first of them to be spendable (consensus: COINBASE_MATURITY). By default it
// then confirms the payment in a block of its own, and answers once the hub's wallet has seen it.
//
// Regtest only: on any other chain the coins are real and nobody can mine them, so main.ts builds no
// faucet there and the route answers 409. Every block is mined with submitblock (block-builder.ts),
// which needs no `--miningaddr` and works on any regtest node, managed or external.
//
// Mining moves the chain: every HTLC deadline comes that many blocks closer. On a hub with payments in
// flight, keep the wallet funded (the faucet mines only when it must).
import { regtestSubsidy } from '../../host/chain/btcd/block-builder.ts'
import type { RegtestControl, BlockRef, ChainFailure } from '../../host/chain/backend.ts'
import type { Result } from '../../protocol/result.ts'
import { COINBASE_MATURITY, type Wallet } from '../../host/wallet/wallet.ts'
import { MAX_FAUCET_BLOCKS } from '../../protocol/limits.ts'

/** An address the faucet can pay (host/wallet/address.ts). */
export { regtestAddress } from '../../host/wallet/address.ts'

export interface FaucetChain extends Pick<RegtestControl, 'submitBlock'> {
  tip (): Promise<Result<BlockRef, ChainFailure>>
  /** Resolves once every follower (the wallet's among them) has seen the node's current chain. */
  syncFollowers (): Promise<Result<void, ChainFailure>>
}

export interface FaucetPayment {
  txid: string
  /** The output paying the address. */
  vout: number
  amount_sat: number
  fee_sat: number
  /** Blocks mined to fund the payment, and to confirm it. */
  blocks_mined: number
  /** Whether the payment is in a block (false when the caller asked for no confirmation). */
  confirmed: boolean
  height: number
}

/** 409: the request was valid, but the faucet cannot serve it (detail says why). */
export type FaucetResult = { ok: true; value: FaucetPayment } | { ok: false; status: 400 | 409 | 503; error: string }

export class Faucet {
  /** One request at a time: each one's mining decision sees the coins the previous one left. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor (private readonly wallet: Pick<Wallet, 'buildTx' | 'broadcast' | 'newAddress'>, private readonly chain: FaucetChain) {}

  send (address: string, amountSat: number, confirm: boolean): Promise<FaucetResult> {
    const run = this.queue.then(async () => await this.sendNow(address, amountSat, confirm))
    this.queue = run.catch(() => {})
    return run
  }

  private async sendNow (address: string, amountSat: number, confirm: boolean): Promise<FaucetResult> {
    let mined = 0
    let built = this.wallet.buildTx([{ address, value: amountSat }])
    if (!built.ok && built.error.kind === 'insufficient_funds') {
      const shortfall = built.error.needed - built.error.available
      const funded = await this.mineCoins(shortfall)
      if (!funded.ok) return funded
      mined += funded.value
      built = this.wallet.buildTx([{ address, value: amountSat }])
    }
    if (!built.ok) {
      const e = built.error
      switch (e.kind) {
        case 'invalid_output': return {
          ok: false, status: 400, error: e.detail.replace(/^payments\.0\.value/, 'amount_sat').replace(/^payments\.0\.address/, 'address'),
        }
        case 'insufficient_funds': return {
          ok: false, status: 409,
          error: `faucet: the hub's wallet has ${e.available} sat spendable, needs ${e.needed} (after mining ${mined} blocks)`,
        }
        case 'chain_wiped': return { ok: false, status: 409, error: `faucet: ${e.detail}` }
        case 'broadcast_failed': return { ok: false, status: 503, error: `faucet: ${JSON.stringify(e.failure)}` }
      }
    }
    const tx = built.value
    const sent = await this.wallet.broadcast(tx.txid)
    if (!sent.ok) return { ok: false, status: 503, error: `faucet: broadcast: ${JSON.stringify(sent.error)}` }
    let confirmed = false
    if (confirm) {
      // The wallet spends only confirmed coins, so a block holding just this transaction is valid.
      const b = await this.chain.submitBlock([tx.hex], { coinbaseScript: this.wallet.newAddress().script })
      if (!b.ok) return {
        ok: false, status: 503,
        error: `faucet: mining the confirming block: ${b.error.detail} (the payment ${tx.txid} waits in the mempool)`,
      }
      mined++
      confirmed = true
    }
    const synced = await this.chain.syncFollowers()
    if (!synced.ok) return { ok: false, status: 503, error: `faucet: ${synced.error.detail}` }
    const tip = await this.chain.tip()
    if (!tip.ok) return { ok: false, status: 503, error: `faucet: ${tip.error.detail}` }
    return {
      ok: true,
      value: { txid: tx.txid, vout: 0, amount_sat: amountSat, fee_sat: tx.fee, blocks_mined: mined, confirmed, height: tip.value.height },
    }
  }

  /** Mines coinbases worth `shortfall` to the hub's wallet and makes the first of them spendable;
   *  resolves with the number of blocks mined once the wallet has seen them. */
  private async mineCoins (shortfall: number): Promise<{ ok: true; value: number } | { ok: false; status: 409 | 503; error: string }> {
    const tip = await this.chain.tip()
    if (!tip.ok) return { ok: false, status: 503, error: `faucet: ${tip.error.detail}` }
    // Coinbases needed at the subsidy of the next blocks (it halves every 150 blocks on regtest), then
    // COINBASE_MATURITY − 1 more: the coinbase at height h is spendable in block h + COINBASE_MATURITY.
    let coinbases = 0
    for (let sum = 0, h = tip.value.height + 1; sum < shortfall && coinbases <= MAX_FAUCET_BLOCKS; h++, coinbases++) {
      sum += regtestSubsidy(h)
    }
    const blocks = coinbases + COINBASE_MATURITY - 1
    if (blocks > MAX_FAUCET_BLOCKS) {
      return {
        ok: false, status: 409,
        error: `faucet: the regtest block subsidy at height ${tip.value.height + 1} is ${regtestSubsidy(tip.value.height + 1)} sat: ` +
          `${shortfall} sat more would take more than ${MAX_FAUCET_BLOCKS} blocks; ask for less`,
      }
    }
    const coinbaseScript = this.wallet.newAddress().script
    for (let i = 0; i < blocks; i++) {
      const b = await this.chain.submitBlock([], { coinbaseScript })
      if (!b.ok) return { ok: false, status: 503, error: `faucet: mining block ${i + 1} of ${blocks}: ${b.error.detail}` }
    }
    const synced = await this.chain.syncFollowers()
    if (!synced.ok) return { ok: false, status: 503, error: `faucet: ${synced.error.detail}` }
    return { ok: true, value: blocks }
  }
}
