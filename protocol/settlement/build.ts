// The batch transaction as every session builds it (docs/DESIGN.md "Batched settlement"). BOLT #2:
// "Inputs in the constructed transaction MUST be sorted by `serial_id`", and so must outputs; the hub
// is the initiator of every session and chooses every serial id (even: BOLT #2 "the initiator ...
// even"), so it numbers the planned order — the k-th input or output gets 2k — and every session,
// whatever peer it runs with, builds this one transaction.
//
// Order: payout k's funding input is input k; its new funding output is output 2k, its payout output
// 2k + 1; the extra outputs come last.
import { MAX_INTERACTIVE_INPUT_SEQUENCE } from '../limits.ts'
import { txid as txidOf } from '../tx/serialize.ts'
import type { Tx } from '../tx/types.ts'
import { hexToBytes, type Sat, type Txid } from '../types.ts'
import type { ExtraOutput, PlannedPayout } from './types.ts'

/** A planned payout with its channel's new funding script (from the funding keys of its splice). */
export type FundedPayout = PlannedPayout & { newFundingScript: string }

export type BatchOutputRole = { kind: 'funding'; channelId: string } | { kind: 'payout'; channelId: string } | { kind: 'extra' }

export interface BatchInput { serialId: number; channelId: string; txid: Txid; vout: number; valueSat: Sat; sequence: number }
export interface BatchOutput { serialId: number; role: BatchOutputRole; script: string; sats: Sat }

export interface BatchTx {
  /** Unsigned: every witness empty. */
  tx: Tx
  txid: Txid
  inputs: BatchInput[]
  outputs: BatchOutput[]
}

/** The serial id of the k-th input or output: even, the initiator's (BOLT #2). */
export const batchSerialId = (k: number): number => 2 * k

export function buildBatchTx (payouts: readonly FundedPayout[], extraOutputs: readonly ExtraOutput[], locktime: number): BatchTx {
  const inputs: BatchInput[] = payouts.map((p, k) => ({
    serialId: batchSerialId(k), channelId: p.channelId, txid: p.funding.txid, vout: p.funding.vout, valueSat: p.capacitySat,
    sequence: MAX_INTERACTIVE_INPUT_SEQUENCE,
  }))
  const outputs: BatchOutput[] = []
  for (const p of payouts) {
    outputs.push({ serialId: 0, role: { kind: 'funding', channelId: p.channelId }, script: p.newFundingScript, sats: p.newCapacitySat })
    outputs.push({ serialId: 0, role: { kind: 'payout', channelId: p.channelId }, script: p.payoutScript, sats: p.payoutSat })
  }
  for (const o of extraOutputs) outputs.push({ serialId: 0, role: { kind: 'extra' }, script: o.script, sats: 0 as Sat })
  outputs.forEach((o, k) => { o.serialId = batchSerialId(k) })
  const tx: Tx = {
    version: 2,
    locktime,
    inputs: inputs.map(i => ({ txid: i.txid, vout: i.vout, sequence: i.sequence, scriptSig: new Uint8Array(0), witness: [] })),
    outputs: outputs.map(o => ({ valueSat: o.sats, script: hexToBytes(o.script) })),
  }
  return { tx, txid: txidOf(tx), inputs, outputs }
}
