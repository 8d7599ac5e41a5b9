// Scenario 12 at startup: a channel whose funding transaction the node does not know was built on a
// chain that is gone (a regtest btcd wipes its chain when it restarts). Carrying on would treat
// vanished money as real, so the hub stops loudly. A wipe loses every funding transaction at once, so
// a sample is enough: a few RPCs, not one per channel. (The wallet checks its own checkpoints and final
// transactions when it opens; the chain follower watches from then on.)
import type { ChainBackend } from '../../host/chain/backend.ts'
import type { ManagedChannel } from '../channels/manager.ts'

/** Funding transactions looked up: spread over the channels, newest included (the likeliest to be
 *  shallow). */
const FUNDING_SAMPLE = 16

/** Why the chain under these channels is gone (the first funding transaction the node does not know),
 *  or undefined. A node that cannot answer proves nothing: only a definite "unknown" counts. */
export async function lostFunding (
  chain: Pick<ChainBackend, 'getRawTransaction'>, channels: readonly ManagedChannel[],
): Promise<string | undefined> {
  const funded = channels.filter(ch => {
    const s = ch.state
    return s.setup.funding !== undefined && s.localCommit !== undefined && s.phase !== 'awaiting_funding_depth'
  })
  // Distinct transactions (a batch transaction funds many channels), spread over the channels.
  const byTxid = new Map<string, ManagedChannel>()
  for (const ch of funded) if (!byTxid.has(ch.state.setup.funding!.txid)) byTxid.set(ch.state.setup.funding!.txid, ch)
  const distinct = [...byTxid.values()]
  const step = Math.max(1, Math.floor(distinct.length / FUNDING_SAMPLE))
  const sample = distinct.filter((_, i) => i % step === 0).slice(0, FUNDING_SAMPLE)
  const gone = await Promise.all(sample.map(async ch => {
    const s = ch.state
    const txid = s.setup.funding!.txid
    const r = await chain.getRawTransaction(txid)
    const unknown = r.ok && r.value === null
    return unknown ? `funding transaction ${txid} of channel ${s.channelId} (phase ${s.phase}) is unknown to the node` : undefined
  }))
  return gone.find(g => g !== undefined)
}
