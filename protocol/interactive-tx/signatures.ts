// BOLT #2 "The `tx_signatures` Message": who signs first, the receiver's checks on the witnesses, and
// the signed transaction. The shared input (a splice's current funding output) is signed apart, with
// the channel's funding keys (tx_signatures `shared_input_signature`); `witnesses` cover only the
// sender's other inputs.
import { equalBytes, hash160 } from '../crypto/hash.ts'
import { channelError, type ChannelError } from '../errors.ts'
import { p2pkh } from '../tx/script.ts'
import { SIGHASH_ALL } from '../tx/serialize.ts'
import { parseWitnessSig, verifyInput } from '../tx/sign.ts'
import type { Tx } from '../tx/types.ts'
import { hexToBytes, type NodeId } from '../types.ts'
import type { BuiltTx } from './complete.ts'
import { scriptKind } from './scripts.ts'
import type { InputEntry, Negotiation, Side } from './types.ts'

/** BOLT #2 (tx_signatures, sender): "if it has the lowest total satoshis contributed, as defined by
 *  total `tx_add_input` values, or both peers have contributed equal amounts but it has the lowest
 *  `node_id` (sorted lexicographically): MUST transmit their `tx_signatures` first". For a splice,
 *  "100% of the previous channel capacity is attributed to the initiator" (it added the shared input). */
export function weSignFirst (n: Negotiation, nodeIds: { local: NodeId; remote: NodeId }): boolean {
  const total = (side: Side): number => n.inputs.reduce((a, i) => (i.by === side ? a + i.valueSat : a), 0)
  const ours = total('local')
  const theirs = total('remote')
  if (ours !== theirs) return ours < theirs
  return nodeIds.local < nodeIds.remote
}

/** The inputs `side` added and signs in `witnesses`, in serial id order (BOLT #2: "MUST order the
 *  `witnesses` by the `serial_id` of the input they correspond to"), with their index in the tx. */
export function signedInputs (n: Negotiation, side: Side): Array<{ index: number; input: InputEntry }> {
  const sorted = [...n.inputs].sort((a, b) => a.serialId - b.serialId)
  return sorted.map((input, index) => ({ index, input })).filter(x => x.input.by === side && !x.input.shared)
}

/** BOLT #2 (tx_signatures, receiver): "MUST fail the negotiation if: the message contains an empty
 *  `witness`; the number of `witnesses` does not equal the number of inputs added by the sending node;
 *  the `txid` does not match the txid of the transaction; the `witnesses` are non-standard; a
 *  signature uses a flag that is not `SIGHASH_ALL` (0x01)". Also used on the witnesses our own host
 *  returns for our inputs, before we send them. P2WPKH signatures are verified; a P2TR one is checked
 *  for its shape (a bad one only keeps the transaction from confirming, which RBF or the old funding
 *  survives). */
export function checkWitnesses (
  n: Negotiation, built: BuiltTx, side: Side, txid: string, witnesses: readonly (readonly string[])[],
): ChannelError | undefined {
  const bad = (detail: string): ChannelError => channelError('tx_signatures_invalid', detail)
  if (txid !== built.txid) return bad(`txid ${txid} is not the negotiated ${built.txid}`)
  const inputs = signedInputs(n, side)
  if (witnesses.length !== inputs.length) return bad(`${witnesses.length} witnesses for ${inputs.length} inputs`)
  for (let k = 0; k < inputs.length; k++) {
    const { index, input } = inputs[k]!
    const w = witnesses[k]!
    if (w.length === 0) return bad(`empty witness for input ${index}`)
    const why = checkWitness(built.tx, index, input, w.map(hexToBytes))
    if (why !== undefined) return bad(`input ${index}: ${why}`)
  }
  return undefined
}

function checkWitness (tx: Tx, index: number, input: InputEntry, w: Uint8Array[]): string | undefined {
  switch (scriptKind(input.script)) {
    case 'p2wpkh': {
      if (w.length !== 2) return `a P2WPKH witness has 2 items, not ${w.length}`
      const sig = parseWitnessSig(w[0]!)
      const pubkey = w[1]!
      if (sig === undefined) return 'not a DER signature'
      if (sig.hashType !== SIGHASH_ALL) return `sighash flag ${sig.hashType}, not SIGHASH_ALL`
      if (pubkey.length !== 33 ||
        !equalBytes(hash160(pubkey), hexToBytes(input.script.slice(4)))) return 'the key does not match the spent output'
      if (!verifyInput(tx, index, p2pkh(pubkey), input.valueSat, sig.sig64, pubkey)) return 'invalid signature'
      return undefined
    }
    case 'p2tr': {
      if (w.length !== 1) return `a P2TR key-path witness has 1 item, not ${w.length}`
      const sig = w[0]!
      if (sig.length === 65 && sig[64] !== SIGHASH_ALL) return `sighash flag ${sig[64]}, not SIGHASH_ALL`
      if (sig.length !== 64 && sig.length !== 65) return `a ${sig.length}-byte Schnorr signature`
      return undefined
    }
    default:
      return undefined
  }
}

/** The transaction with every input's witness: `witnesses` maps input index → witness. */
export function withWitnesses (tx: Tx, witnesses: ReadonlyMap<number, readonly Uint8Array[]>): Tx {
  return { ...tx, inputs: tx.inputs.map((i, n) => ({ ...i, witness: witnesses.get(n) ?? i.witness })) }
}
