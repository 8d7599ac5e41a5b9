// Who pays for which bytes of an interactive transaction (BOLT #2 "Fee Responsibility"): "The
// *initiator* is responsible for paying the fees for the following fields, to be referred to as the
// `common fields`: version, segwit marker + flag, input count, output count, locktime. The rest of
// the transaction bytes' fees are the responsibility of the peer who contributed that input or output
// via `tx_add_input` or `tx_add_output`, at the agreed upon `feerate`." For a splice the initiator
// added the shared input and output, so it pays for them too (BOLT #2 "Channel Splicing").
//
// Weights are estimated with the largest signatures (BOLT #3 "minimum fee": an input signed with a
// shorter signature pays a little more than its share, never less).
import { feeForWeight } from '../tx/fees.ts'
import type { Sat } from '../types.ts'
import type { InputEntry, Negotiation, OutputEntry, Side } from './types.ts'
import { scriptKind } from './scripts.ts'

/** version (4) + input count (1) + output count (1) + locktime (4) bytes, × 4; segwit marker and flag
 *  (2 witness bytes). With at most 252 inputs and outputs (MAX_INTERACTIVE_INPUTS_OUTPUTS) each count
 *  is one byte. */
export const COMMON_FIELDS_WEIGHT = 10 * 4 + 2

/** An input without its witness: outpoint (36) + empty scriptSig length (1) + sequence (4), × 4. */
export const INPUT_BASE_WEIGHT = 41 * 4

/** The witness of a 2-of-2 funding input (BOLT #3): item count, the empty dummy, two signatures of at
 *  most 72 bytes (DER + sighash byte) with their lengths, the 71-byte witness script with its length. */
export const FUNDING_INPUT_WITNESS_WEIGHT = 1 + 1 + 2 * (1 + 72) + (1 + 71)

/** P2WPKH: item count, a signature of at most 72 bytes, a 33-byte key (each with a length byte). */
export const P2WPKH_WITNESS_WEIGHT = 1 + (1 + 72) + (1 + 33)

/** P2TR key path: item count, a 65-byte signature (64 + the SIGHASH_ALL byte) with its length. */
export const P2TR_WITNESS_WEIGHT = 1 + (1 + 65)

/** A segwit program whose witness we cannot know in advance (P2WSH, a future version): the least it
 *  can be, an item count. Its sender pays for the rest (BOLT #2 tx_signatures rationale: "It is the
 *  responsibility of the sending peer to correctly account for the required fee"). */
export const UNKNOWN_WITNESS_MIN_WEIGHT = 1

const varintSize = (n: number): number => (n < 0xfd ? 1 : n <= 0xffff ? 3 : 5)

export function witnessWeight (input: Pick<InputEntry, 'shared' | 'script'>): number {
  if (input.shared) return FUNDING_INPUT_WITNESS_WEIGHT
  switch (scriptKind(input.script)) {
    case 'p2wpkh': return P2WPKH_WITNESS_WEIGHT
    case 'p2tr': return P2TR_WITNESS_WEIGHT
    default: return UNKNOWN_WITNESS_MIN_WEIGHT
  }
}

export function inputWeight (input: Pick<InputEntry, 'shared' | 'script'>): number {
  return INPUT_BASE_WEIGHT + witnessWeight(input)
}

/** value (8) + script length + script, × 4. */
export function outputWeight (output: Pick<OutputEntry, 'script'>): number {
  const len = output.script.length / 2
  return (8 + varintSize(len) + len) * 4
}

/** The weight `side` pays for: its own inputs and outputs, plus the common fields (and, for a splice,
 *  the shared input and output, which the initiator added) if it is the initiator. */
export function weightOf (n: Pick<Negotiation, 'inputs' | 'outputs' | 'params'>, side: Side): number {
  const initiator: Side = n.params.role === 'initiator' ? 'local' : 'remote'
  let w = side === initiator ? COMMON_FIELDS_WEIGHT : 0
  for (const i of n.inputs) if (i.by === side) w += inputWeight(i)
  for (const o of n.outputs) if (o.by === side) w += outputWeight(o)
  return w
}

/** The whole transaction's estimated weight. */
export function totalWeight (n: Pick<Negotiation, 'inputs' | 'outputs' | 'params'>): number {
  return weightOf(n, 'local') + weightOf(n, 'remote')
}

/** The least fee `side` must pay at the agreed feerate. */
export function requiredFeeSat (n: Pick<Negotiation, 'inputs' | 'outputs' | 'params'>, side: Side): Sat {
  return feeForWeight(n.params.feeratePerKw, weightOf(n, side))
}

/** What `side` actually pays: its inputs, less its outputs, less what it adds to its channel balance
 *  (a negative contribution, a splice-out, is money it takes from the shared input). The shared input
 *  and output are left out: together they move exactly the contributions. */
export function paidFeeSat (n: Pick<Negotiation, 'inputs' | 'outputs' | 'params'>, side: Side): number {
  let fee = -n.params.contributionSat[side]
  for (const i of n.inputs) if (i.by === side && !i.shared) fee += i.valueSat
  for (const o of n.outputs) if (o.by === side && !o.shared) fee -= o.sats
  return fee
}

/** What the whole transaction pays in fees: every input less every output, shared ones included. A
 *  batched settlement's fee rule (batch.ts) is on this sum: each peer agreed to its own fee share. */
export function batchPaidFeeSat (n: Pick<Negotiation, 'inputs' | 'outputs'>): number {
  let fee = 0
  for (const i of n.inputs) fee += i.valueSat
  for (const o of n.outputs) fee -= o.sats
  return fee
}
