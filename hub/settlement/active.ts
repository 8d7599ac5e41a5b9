// The batch the coordinator is negotiating and signing (hub/settlement/coordinator.ts), and what is
// done to its channels' sessions as a whole: each session is given its witnesses of the signed
// transaction, and a rebuilt round waits for the aborted sessions to end.
import { quiescence } from '../../protocol/channel/index.ts'
import type { BatchRound } from '../../protocol/settlement/coordinate.ts'
import type { BatchTx, FundedPayout } from '../../protocol/settlement/build.ts'
import type { Deferred } from '../../protocol/settlement/types.ts'
import { sessionWitnesses } from '../../protocol/settlement/witnesses.ts'
import type { ChannelManager } from '../channels/manager.ts'
import type { BatchRecord } from './record.ts'

/** How long a rebuilt round waits for the aborted sessions to end (tx_abort echoed) before it starts. */
const SESSIONS_END_WAIT_MS = 30_000

/** The batch being negotiated and signed. */
export interface Active {
  record: BatchRecord
  round: BatchRound
  batch: BatchTx
  payouts: FundedPayout[]
  prevtx: Map<string, string>
  /** Channels whose machine stored the signed transaction (splice_signed). */
  stored: Set<string>
  deferred: Deferred[]
}

/** Each channel's session still signing `batch` gets its witnesses (its tx_signatures leave). */
export function giveWitnesses (
  manager: Pick<ChannelManager, 'get'>, batch: BatchTx, all: string[][], channels: readonly string[],
): void {
  for (const id of channels) {
    const ch = manager.get(id)
    if (ch?.state.splice?.session?.signing?.candidate.txid !== batch.txid) continue
    void ch.driver.command({ type: 'splice_witnesses', txid: batch.txid, witnesses: sessionWitnesses(batch, all, id) })
  }
}

/** Waits (at most SESSIONS_END_WAIT_MS) until no channel of `channels` is in a splice session or quiescent. */
export async function sessionsEnded (manager: Pick<ChannelManager, 'get'>, channels: readonly string[]): Promise<void> {
  const deadline = Date.now() + SESSIONS_END_WAIT_MS
  const busy = (): boolean => channels.some(id => {
    const s = manager.get(id)?.state
    return s !== undefined && (s.splice?.session !== undefined || s.splice?.request !== undefined || s.splice?.abortSent === true ||
      quiescence(s) !== 'none')
  })
  while (busy() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
}
