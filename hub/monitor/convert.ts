// ChainBackend blocks → the monitor's plain block shape.
import type { MonitorBlock, MonitorTx } from '../../protocol/monitor/index.ts'
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
