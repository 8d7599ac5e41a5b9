// A simulated chain for the monitor's unit tests: blocks of MonitorTx, a mempool that takes what the
// monitors ask to broadcast (first spend of an outpoint wins, as in a node), and reorgs. Timelocks are
// not enforced here (the integration tests run the same decisions against btcd).
import { monitorStep, newMonitor, type MonitorAction, type MonitorKeys, type MonitorState, type MonitorTx } from '../../../protocol/monitor/index.ts'
import type { MonitorUpdate } from '../../../protocol/channel/index.ts'
import { parseTx, txid as txidOf } from '../../../protocol/tx/index.ts'
import type { Tx } from '../../../protocol/tx/index.ts'
import { bytesToHex } from '../../../protocol/types.ts'

export function monitorTx (tx: Tx): MonitorTx {
  return {
    txid: txidOf(tx),
    locktime: tx.locktime,
    inputs: tx.inputs.map(i => ({ txid: i.txid, vout: i.vout, sequence: i.sequence, witness: i.witness.map(bytesToHex) })),
    outputs: tx.outputs.map(o => ({ valueSat: o.valueSat, script: bytesToHex(o.script) })),
  }
}

export interface Watcher {
  name: string
  state: MonitorState
  keys: MonitorKeys
  actions: MonitorAction[]
  /** Broadcast requests seen in the last step. */
  wants: Array<Extract<MonitorAction, { kind: 'broadcast' }>>
}

export class SimChain {
  height: number
  blocks: Array<{ height: number; hash: string; txs: MonitorTx[] }> = []
  mempool = new Map<string, MonitorTx>()
  private owner = new Map<string, string>()
  watchers: Watcher[] = []
  private n = 0

  constructor (height: number) { this.height = height }

  watch (name: string, channelId: string, keys: MonitorKeys, updates: MonitorUpdate[], config: Parameters<typeof newMonitor>[1]): Watcher {
    const w: Watcher = { name, state: newMonitor(channelId, config, this.height, 'h0'), keys, actions: [], wants: [] }
    for (const u of updates) this.feed(w, { kind: 'update', update: u })
    this.watchers.push(w)
    return w
  }

  feed (w: Watcher, input: Parameters<typeof monitorStep>[1]): MonitorAction[] {
    const r = monitorStep(w.state, input, w.keys)
    w.state = r.state
    w.actions.push(...r.actions)
    w.wants = r.actions.filter((a): a is Extract<MonitorAction, { kind: 'broadcast' }> => a.kind === 'broadcast')
    for (const b of w.wants) this.submit(monitorTx(parseTx(b.hex)), w.name)
    return r.actions
  }

  /** Mempool acceptance: a spend of an output already spent in the chain is refused; a conflict with
   *  a mempool tx replaces it if both come from the same party (its fee bump), else is refused. */
  submit (tx: MonitorTx, owner = 'test'): boolean {
    if (this.confirmed(tx.txid) || this.mempool.has(tx.txid)) return false
    const spent = new Set(this.blocks.flatMap(b => b.txs.flatMap(t => t.inputs.map(i => `${i.txid}:${i.vout}`))))
    if (tx.inputs.some(i => spent.has(`${i.txid}:${i.vout}`))) return false
    const conflicts = [...this.mempool].filter(([, m]) => m.inputs.some(i => tx.inputs.some(j => i.txid === j.txid && i.vout === j.vout)))
    if (conflicts.some(([id]) => this.owner.get(id) !== owner)) return false
    for (const [id] of conflicts) this.mempool.delete(id)
    this.mempool.set(tx.txid, tx)
    this.owner.set(tx.txid, owner)
    return true
  }

  confirmed (txid: string): boolean { return this.blocks.some(b => b.txs.some(t => t.txid === txid)) }

  /** Mines a block: the given txs (in order) and then, if `mempool`, everything in the mempool whose
   *  inputs exist. Every watcher is fed the block. */
  mine (txs: MonitorTx[] = [], opts: { mempool?: boolean } = {}): string {
    const known = new Set(this.blocks.flatMap(b => b.txs.map(t => t.txid)))
    const inBlock: MonitorTx[] = []
    const spent = new Set(this.blocks.flatMap(b => b.txs.flatMap(t => t.inputs.map(i => `${i.txid}:${i.vout}`))))
    const take = (t: MonitorTx): void => {
      if (t.inputs.some(i => spent.has(`${i.txid}:${i.vout}`))) return
      for (const i of t.inputs) spent.add(`${i.txid}:${i.vout}`)
      inBlock.push(t); known.add(t.txid)
    }
    for (const t of txs) take(t)
    if (opts.mempool !== false) {
      for (let again = true; again;) {
        again = false
        for (const t of this.mempool.values()) {
          if (known.has(t.txid)) continue
          // Parents must be confirmed or in this block (unknown parents: the funding outpoint is fake).
          take(t); if (known.has(t.txid)) again = true
        }
      }
    }
    for (const t of inBlock) this.mempool.delete(t.txid)
    this.height++
    const hash = `b${this.height}-${this.n++}`
    this.blocks.push({ height: this.height, hash, txs: inBlock })
    for (const w of this.watchers) this.feed(w, { kind: 'block_connected', block: { height: this.height, hash, txs: inBlock } })
    return hash
  }

  /** Disconnects the tip block; its txs go back to the mempool. */
  reorg (): void {
    const b = this.blocks.pop()!
    this.height--
    for (const t of b.txs) this.mempool.set(t.txid, t)
    for (const w of this.watchers) this.feed(w, { kind: 'block_disconnected', height: b.height, hash: b.hash })
  }

  /** Drops mempool txs (a node that forgot them, or a reorg that conflicted them). */
  clearMempool (): void { this.mempool.clear() }
}

export const kinds = (actions: MonitorAction[]): string[] => actions.map(a => a.kind === 'broadcast' ? `broadcast:${a.reason}` : a.kind)
