// Channels and a fully signed payout batch, in memory, with real keys: what the settlement bench
// measures (the vbytes of a signed batch, with real 2-of-2 witnesses) and what the batch unit tests
// negotiate. Each channel's funding transaction is a real transaction paying the 2-of-2 P2WSH of its
// hub and peer funding keys, so it can be given as a tx_add_input `prevtx`.
import { sha256 } from '../../protocol/crypto/hash.ts'
import { getCurve } from '../../protocol/crypto/index.ts'
import { planBatch, type DueCandidate } from '../../protocol/settlement/plan.ts'
import { buildBatchTx, type BatchTx, type FundedPayout } from '../../protocol/settlement/build.ts'
import type { BatchParams, BatchPlan, ExtraOutput } from '../../protocol/settlement/types.ts'
import { fundingOutput, fundingScriptPubkey } from '../../protocol/tx/funding.ts'
import { p2wpkh } from '../../protocol/tx/script.ts'
import { txHex, txid as txidOf, txWeight } from '../../protocol/tx/serialize.ts'
import { finalizeFundingSpend, signInput } from '../../protocol/tx/sign.ts'
import { SIGHASH_ALL } from '../../protocol/tx/serialize.ts'
import type { Tx } from '../../protocol/tx/types.ts'
import { bytesToHex, type Sat, type Txid } from '../../protocol/types.ts'

export interface TestChannel {
  channelId: string
  hubPrivkey: Uint8Array
  peerPrivkey: Uint8Array
  hubPubkey: Uint8Array
  peerPubkey: Uint8Array
  /** The funding transaction (hex) and its output 0. */
  fundingTx: string
  funding: { txid: Txid; vout: number }
  capacitySat: Sat
  fundingScript: string
  payoutScript: string
}

const key = (tag: number, k: number): Uint8Array => sha256(Uint8Array.of(tag, k >> 8, k & 0xff))

/** `n` channels of `capacitySat`, each with its own keys and funding transaction. */
export function testChannels (n: number, capacitySat = 1_000_000): TestChannel[] {
  const curve = getCurve()
  return Array.from({ length: n }, (_, k) => {
    const hubPrivkey = key(1, k)
    const peerPrivkey = key(2, k)
    const hubPubkey = curve.pubkey(hubPrivkey)
    const peerPubkey = curve.pubkey(peerPrivkey)
    const script = fundingScriptPubkey(hubPubkey, peerPubkey)
    const prev: Tx = {
      version: 2, locktime: 0,
      inputs: [{ txid: bytesToHex(key(3, k)) as Txid, vout: 0, sequence: 0xffffffff, scriptSig: new Uint8Array(0), witness: [] }],
      outputs: [{ valueSat: capacitySat as Sat, script }],
    }
    return {
      channelId: bytesToHex(key(4, k)), hubPrivkey, peerPrivkey, hubPubkey, peerPubkey, fundingTx: txHex(prev),
      funding: { txid: txidOf(prev), vout: 0 }, capacitySat: capacitySat as Sat, fundingScript: bytesToHex(script),
      payoutScript: bytesToHex(p2wpkh(curve.pubkey(key(5, k)))),
    }
  })
}

/** Every channel due with `balanceSat` for its peer, keeping `keepSat`. */
export function dueOf (channels: readonly TestChannel[], balanceSat: number, keepSat = 10_000): DueCandidate[] {
  return channels.map(c => ({
    channelId: c.channelId, funding: c.funding, capacitySat: c.capacitySat, balanceSat, keepSat, payoutScript: c.payoutScript,
    thresholdSat: 1_000,
  }))
}

/** The plan's payouts with their new funding scripts (the same keys: the channel's funding keys stay). */
export function funded (plan: BatchPlan, channels: readonly TestChannel[]): FundedPayout[] {
  const byId = new Map(channels.map(c => [c.channelId, c]))
  return plan.payouts.map(p => ({ ...p, newFundingScript: byId.get(p.channelId)!.fundingScript }))
}

/** Both funding signatures on every input: the broadcastable batch. */
export function signBatch (batch: BatchTx, channels: readonly TestChannel[]): Tx {
  const byOutpoint = new Map(channels.map(c => [`${c.funding.txid}:${c.funding.vout}`, c]))
  const witnesses = batch.inputs.map((input, index) => {
    const c = byOutpoint.get(`${input.txid}:${input.vout}`)!
    const f = fundingOutput(c.funding.txid, c.funding.vout, c.capacitySat, c.hubPubkey, c.peerPubkey)
    const sign = (priv: Uint8Array): Uint8Array => signInput(batch.tx, index, f.witnessScript, c.capacitySat, priv, SIGHASH_ALL)
    const one = finalizeFundingSpend(
      { ...batch.tx, inputs: [batch.tx.inputs[index]!] }, f,
      { pubkey: c.hubPubkey, sig64: sign(c.hubPrivkey) }, { pubkey: c.peerPubkey, sig64: sign(c.peerPrivkey) },
    )
    return one.inputs[0]!.witness
  })
  return { ...batch.tx, inputs: batch.tx.inputs.map((i, k) => ({ ...i, witness: witnesses[k]! })) }
}

/** Plans, builds and signs a batch of every channel: the signed transaction and its vbytes. */
export function signedBatch (
  channels: readonly TestChannel[], balanceSat: number, params: BatchParams, extraOutputs: readonly ExtraOutput[] = [],
): { plan: BatchPlan; batch: BatchTx; signed: Tx; vbytes: number } {
  const plan = planBatch(dueOf(channels, balanceSat), { ...params, extraOutputs })
  const batch = buildBatchTx(funded(plan, channels), extraOutputs, 0)
  const signed = signBatch(batch, channels)
  return { plan, batch, signed, vbytes: Math.ceil(txWeight(signed) / 4) }
}
