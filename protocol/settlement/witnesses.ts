// The hub's witnesses in a batched settlement (docs/DESIGN.md "Batched settlement"). In session k the
// hub signs, besides its own channel's shared input (the channel machine does that), every other
// channel's funding input — a 2-of-2 whose witness needs that channel's peer's signature, which came in
// that channel's session (tx_signatures `shared_input_signature`, checked by that channel's machine).
// So the hub gives any session its witnesses only once every peer has signed: then each input's
// witness is complete (BOLT #3: "0 <signature_for_pubkey1> <signature_for_pubkey2>", pubkey1 the
// lexicographically lesser funding key, then the witness script).
import { compareBytes } from '../crypto/hash.ts'
import { fundingWitnessScript } from '../tx/script.ts'
import { SIGHASH_ALL } from '../tx/serialize.ts'
import { witnessSig } from '../tx/sign.ts'
import { bytesToHex, hexToBytes } from '../types.ts'
import type { BatchTx } from './build.ts'

/** One channel's two signatures (64-byte compact, hex) on its funding input of the batch. */
export interface InputSignatures { channelId: string; hub: { pubkey: string; sig: string }; peer: { pubkey: string; sig: string } }

/** The full witness (hex items) of every input of the batch, in input order; throws if a channel's
 *  signatures are missing (the caller waits for every peer first). */
export function batchInputWitnesses (batch: BatchTx, sigs: readonly InputSignatures[]): string[][] {
  const byChannel = new Map(sigs.map(s => [s.channelId, s]))
  return batch.inputs.map(input => {
    const s = byChannel.get(input.channelId)
    if (s === undefined) throw new Error(`batchInputWitnesses: no signatures for channel ${input.channelId}`)
    const hub = { pubkey: hexToBytes(s.hub.pubkey), sig: hexToBytes(s.hub.sig) }
    const peer = { pubkey: hexToBytes(s.peer.pubkey), sig: hexToBytes(s.peer.sig) }
    const [first, second] = compareBytes(hub.pubkey, peer.pubkey) <= 0 ? [hub, peer] : [peer, hub]
    return [
      '', bytesToHex(witnessSig(first.sig, SIGHASH_ALL)), bytesToHex(witnessSig(second.sig, SIGHASH_ALL)),
      bytesToHex(fundingWitnessScript(hub.pubkey, peer.pubkey)),
    ]
  })
}

/** The witnesses the hub gives channel `channelId`'s session: every other input's, in serial id
 *  order (BOLT #2: "MUST order the `witnesses` by the `serial_id` of the input they correspond to");
 *  its own shared input is signed by the channel machine (`shared_input_signature`). */
export function sessionWitnesses (batch: BatchTx, all: readonly string[][], channelId: string): string[][] {
  return batch.inputs
    .map((input, k) => ({ input, w: all[k]! }))
    .filter(x => x.input.channelId !== channelId)
    .sort((a, b) => a.input.serialId - b.input.serialId)
    .map(x => x.w)
}
