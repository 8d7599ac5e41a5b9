// An optional miner for the managed regtest node (hub config `btcd.autoMineSeconds`): every so many
// seconds, if transactions wait in the mempool, it mines one block (btcd's `generate`, which takes the
// mempool's transactions). A newcomer's channel opens, closes and faucet payments then confirm without
// anyone mining by hand; with an empty mempool the chain stands still, so HTLC deadlines do not move
// for nothing.
import type { ChainFailure } from '../backend.ts'
import type { Result } from '../../../protocol/result.ts'
import type { BtcdChainBackend } from './backend.ts'
import { mempoolInfoSchema } from './schemas.ts'

export type AutoMinerEvent =
  | { event: 'auto_mined'; block: string; mempool: number }
  | { event: 'auto_mine_failed'; detail: string }

export class AutoMiner {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null

  constructor (
    private readonly chain: Pick<BtcdChainBackend, 'rpc' | 'generate'>,
    private readonly everyMs: number,
    private readonly log: (e: AutoMinerEvent) => void,
  ) {}

  start (): void {
    if (this.timer !== null) return
    this.timer = setInterval(() => {
      if (this.running === null) this.running = this.tick().then(() => { this.running = null })
    }, this.everyMs)
  }

  /** Stops the timer and waits for a block being mined. */
  async stop (): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /** One round: a block if the mempool holds anything. */
  async tick (): Promise<Result<string | null, ChainFailure>> {
    const info = await this.chain.rpc.request('getmempoolinfo', [], mempoolInfoSchema, { idempotent: true })
    if (!info.ok) { this.log({ event: 'auto_mine_failed', detail: info.error.detail }); return info }
    if (info.value.size === 0) return { ok: true, value: null }
    const mined = await this.chain.generate(1)
    if (!mined.ok) { this.log({ event: 'auto_mine_failed', detail: mined.error.detail }); return mined }
    const block = mined.value[0]!
    this.log({ event: 'auto_mined', block, mempool: info.value.size })
    return { ok: true, value: block }
  }
}
