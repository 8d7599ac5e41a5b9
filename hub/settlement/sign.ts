// The hub's signatures on a payout batch (docs/DESIGN.md "Batched settlement", message flow): once
// every peer's tx_signatures are in, each channel's funding input gets the hub's signature with that
// channel's funding key beside the peer's shared_input_signature, which makes every 2-of-2 witness.
import { withWitnesses } from '../../protocol/interactive-tx/signatures.ts'
import type { BatchTx, FundedPayout } from '../../protocol/settlement/build.ts'
import { batchInputWitnesses, type InputSignatures } from '../../protocol/settlement/witnesses.ts'
import { txHex } from '../../protocol/tx/serialize.ts'
import { hexToBytes } from '../../protocol/types.ts'
import { lazySigner } from '../channels/channel.ts'
import type { ChannelManager } from '../channels/manager.ts'

/** Every input's witness and the signed transaction; throws if a peer's signature is missing. */
export function signBatch (
  manager: Pick<ChannelManager, 'get'>, batch: BatchTx, payouts: readonly FundedPayout[],
): { witnesses: string[][]; signedHex: string } {
  const sigs: InputSignatures[] = []
  for (const p of payouts) {
    const ch = manager.get(p.channelId)!
    const s = ch.state
    const peerSig = s.splice?.session?.signing?.received?.shared_input_signature
    if (peerSig === undefined) throw new Error(`settlement: no shared_input_signature of ${p.channelId}`)
    const index = batch.inputs.findIndex(i => i.channelId === p.channelId)
    sigs.push({
      channelId: p.channelId,
      hub: { pubkey: s.setup.local.fundingPubkey, sig: lazySigner(ch.seed).signFundingInput(s.setup, batch.tx, index) },
      peer: { pubkey: s.setup.remote!.fundingPubkey, sig: peerSig },
    })
  }
  const witnesses = batchInputWitnesses(batch, sigs)
  return { witnesses, signedHex: txHex(withWitnesses(batch.tx, new Map(witnesses.map((w, k) => [k, w.map(hexToBytes)])))) }
}
