// ChainBackend blocks → the monitor's plain block shape.
import { fundingOutpoints, type MonitorBlock, type MonitorState, type MonitorTx } from '../../protocol/monitor/index.ts'
import type { ChainBlock, ChainTx } from '../chain/backend.ts'

export function monitorTxOf (tx: ChainTx): MonitorTx {
  return {
    txid: tx.txid,
    locktime: tx.locktime,
    inputs: tx.inputs.map(i => ({ txid: i.txid, vout: i.vout, sequence: i.sequence, witness: i.witness })),
    outputs: tx.outputs.map(o => ({ valueSat: o.value, script: o.scriptPubKey })),
  }
}

export function monitorBlockOf (b: ChainBlock): MonitorBlock {
  return { height: b.height, hash: b.hash, txs: b.txs.map(monitorTxOf) }
}

/**
 * The block with only the transactions a monitor can record: its funding tx, and txs spending an
 * output of the funding tx, of a splice candidate, of an older funding tx still watched, or of a tx it
 * saw (in this block too, in block order). A superset of what protocol/monitor's block step keeps, so
 * stepping it gives the same result as the whole block, without scanning every transaction once per
 * monitor.
 */
export function relevantTxs (block: MonitorBlock, s: MonitorState): MonitorBlock {
  const funding = s.setup?.funding
  if (funding === undefined) return { height: block.height, hash: block.hash, txs: [] }
  const ids = new Set<string>(fundingOutpoints(s).map(o => o.slice(0, o.indexOf(':'))))
  for (const t of s.seen) ids.add(t.txid)
  const txs: MonitorTx[] = []
  for (const tx of block.txs) {
    if (tx.txid === funding.txid || tx.inputs.some(i => ids.has(i.txid))) {
      txs.push(tx)
      ids.add(tx.txid)
    }
  }
  return { height: block.height, hash: block.hash, txs }
}
