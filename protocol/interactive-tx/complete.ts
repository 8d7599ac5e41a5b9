// The negotiated transaction: the receiver rules of tx_complete that need the whole transaction
// (BOLT #2 "The `tx_complete` Message" and, for a splice, "Splice Transaction Construction"), and the
// transaction itself, built the same way by both sides: "Inputs in the constructed transaction MUST
// be sorted by `serial_id`", and so must outputs.
import { channelError, type ChannelError } from '../errors.ts'
import { MAX_INTERACTIVE_INPUTS_OUTPUTS, MAX_STANDARD_TX_WEIGHT } from '../limits.ts'
import { txid as txidOf } from '../tx/serialize.ts'
import type { Tx } from '../tx/types.ts'
import { hexToBytes, type Sat, type Txid } from '../types.ts'
import { checkBatchComplete } from './batch.ts'
import type { Negotiation, Side } from './types.ts'
import { paidFeeSat, requiredFeeSat, totalWeight } from './weight.ts'

/** Why the complete transaction is refused, or undefined. Our own side was checked when we started
 *  (startNegotiation); what the peer added is checked here. */
export function checkComplete (n: Negotiation): ChannelError | undefined {
  const p = n.params
  // BOLT #2: "there are more than 252 inputs"; "there are more than 252 outputs".
  if (n.inputs.length > MAX_INTERACTIVE_INPUTS_OUTPUTS || n.outputs.length > MAX_INTERACTIVE_INPUTS_OUTPUTS) {
    return channelError(
      'tx_too_many_inputs_outputs',
      `${n.inputs.length} inputs, ${n.outputs.length} outputs (at most ${MAX_INTERACTIVE_INPUTS_OUTPUTS} each)`,
    )
  }
  // BOLT #2: "the estimated weight of the tx is greater than 400,000 (`MAX_STANDARD_TX_WEIGHT`)".
  const weight = totalWeight(n)
  if (weight > MAX_STANDARD_TX_WEIGHT) return channelError('tx_too_heavy', `estimated weight ${weight} > ${MAX_STANDARD_TX_WEIGHT}`)
  if (p.sharedInput !== undefined) {
    // BOLT #2 (splice tx_complete): "There is not exactly one input spending the current funding
    // transaction."
    const spending = n.inputs.filter(i => i.txid === p.sharedInput!.txid && i.vout === p.sharedInput!.vout)
    if (spending.length !== 1 || !spending[0]!.shared) return channelError(
      'splice_shared_input_invalid', `${spending.length} inputs spend the current funding output`,
    )
  }
  // BOLT #2 (splice tx_complete): "There is not exactly one channel funding output using the funding
  // public keys and funding contributions from `splice_init` and `splice_ack`."
  const funding = n.outputs.filter(o => o.script === p.sharedOutput.script)
  if (funding.length !== 1) return channelError('splice_funding_output_invalid', `${funding.length} outputs pay the new funding script`)
  if (funding[0]!.sats !== p.sharedOutput.valueSat) {
    return channelError(
      'splice_funding_output_invalid',
      `the funding output holds ${funding[0]!.sats} sat, the capacity with both contributions is ${p.sharedOutput.valueSat}`,
    )
  }
  // BOLT #2: "the peer's total input satoshis is less than their outputs. One MUST account for the
  // peer's portion of the funding output when verifying compliance with this requirement. the peer's
  // paid feerate does not meet or exceed the agreed `feerate` (based on the `minimum fee`). if is the
  // *non-initiator*: the *initiator*'s fees do not cover the `common` fields" — the initiator's
  // required fee includes the common fields (weight.ts).
  // A batched settlement: the initiator's additions are paid by every peer's fee share, so the rule is
  // on the whole transaction, with the payout terms each peer agreed (batch.ts).
  if (p.batch !== undefined) return checkBatchComplete(n)
  const paid = paidFeeSat(n, 'remote')
  const required = requiredFeeSat(n, 'remote')
  if (paid < required) {
    return channelError('tx_peer_underpays', paid < 0
      ? `the peer's outputs and contribution exceed its inputs by ${-paid} sat`
      : `the peer pays ${paid} sat of fee, ${required} sat due at ${p.feeratePerKw} sat/kw`)
  }
  return undefined
}

export interface BuiltTx {
  /** Unsigned: every witness empty. */
  tx: Tx
  txid: Txid
  /** Index of the shared (new funding) output. */
  sharedOutputIndex: number
  /** Index of the shared input, if any. */
  sharedInputIndex?: number
  /** The fee each side pays (weight.ts paidFeeSat), and in all. */
  feeSat: Record<Side, number> & { total: Sat }
}

/** The transaction of a complete negotiation (BOLT #2: both "should construct the transaction"). */
export function buildTx (n: Negotiation): BuiltTx {
  const inputs = [...n.inputs].sort((a, b) => a.serialId - b.serialId)
  const outputs = [...n.outputs].sort((a, b) => a.serialId - b.serialId)
  const tx: Tx = {
    version: 2,
    locktime: n.params.locktime,
    inputs: inputs.map(i => ({ txid: i.txid, vout: i.vout, sequence: i.sequence, scriptSig: new Uint8Array(0), witness: [] })),
    outputs: outputs.map(o => ({ valueSat: o.sats, script: hexToBytes(o.script) })),
  }
  const sharedInputIndex = inputs.findIndex(i => i.shared)
  const local = paidFeeSat(n, 'local')
  const remote = paidFeeSat(n, 'remote')
  return {
    tx,
    txid: txidOf(tx),
    sharedOutputIndex: outputs.findIndex(o => o.shared),
    ...(sharedInputIndex >= 0 ? { sharedInputIndex } : {}),
    feeSat: { local, remote, total: (local + remote) as Sat },
  }
}
