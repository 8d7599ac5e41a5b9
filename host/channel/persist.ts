// A channel's durable writes, the same for the hub and the SDK: what ChannelDriver ports.persist does
// (DESIGN.md rule 2). Each write is ONE atomic batch:
//
//   chan/<id>/state                 the channel record (record.ts): peer, seed, the whole state
//   chan/<id>/monitor/<seq>         the write's monitor updates, numbered, append-only
//   preimage/<payment hash>         an index entry for each preimage among them
//   chan-index/<id>                 the channel's plain index entry, on its first full write only
//   + what the host carries along   the hub's audit-log entry; the SDK's payment records and events
//
// Before its first full write a new channel claims its id with a create-only write of its own
// (record.ts says why it is separate); every write handed in before the claim is durable waits for it,
// so if the claim is refused (StoreConflict: the id is taken) none of them lands. The first write to
// continue after the claim is the first full write (writes continue in call order).
//
// Once a batch is durable, its monitor updates go to the chain monitors (host/monitor/channel-monitors.ts);
// the crash points `persist:<kind>` (host/crash-points.ts) sit right before and right after the write.
import type { MonitorUpdate } from '../../protocol/channel/index.ts'
import type { NodeId } from '../../protocol/types.ts'
import { put, type StoreOp } from '../store/store.ts'
import type { CrashPoint } from '../crash-points.ts'
import type { PersistRequest } from './driver.ts'
import { channelIndexOp, channelStateKey, claimChannelOp, monitorKey, preimageOps, type ChannelRecord } from './record.ts'

/** Records a host writes in the same atomic batch as a channel write, told how that batch ended. */
export interface Carried {
  ops: StoreOp[]
  /** The batch is durable. */
  durable?: () => void
  /** The batch failed (its outcome is unknown; the store refuses every later write). */
  failed?: (e: unknown) => void
}

/** What the channel writes need from their host (one object for all of the host's channels). */
export interface ChannelWriteHost {
  /** Writes `ops` atomically and durably (the host's Store write, or a wrapper that watches it). */
  write (ops: readonly StoreOp[]): Promise<void>
  /** What rides on this write. Called in the same synchronous turn as `write`, after the `before`
   *  crash point: records that must reach the store in call order (the hub's audit entries) do. */
  carry? (req: PersistRequest, peer: NodeId): Carried | undefined
  crashPoint?: CrashPoint
  /** The batch with these monitor updates is durable (the chain monitors' feed). */
  persisted? (channelId: string, updates: readonly MonitorUpdate[]): void
}

export class ChannelWriter {
  private claim: Promise<void> | undefined
  /** The channel owns its id in the store: loaded from it, or its claim is durable and its first full
   *  write has started. */
  private ownsId: boolean
  private readonly firstWrite: (() => void) | undefined

  /**
   * `stored`: the channel was loaded from the store (its id is claimed and its record written).
   * `firstWrite`, if given, is called when the new channel's first full write starts (its claim is
   * durable): from then on the channel is the owner of its id in the store.
   */
  constructor (
    readonly peer: NodeId,
    readonly seed: string,
    private readonly host: ChannelWriteHost,
    opts: { stored: boolean; firstWrite?: () => void },
  ) {
    this.ownsId = opts.stored
    this.firstWrite = opts.firstWrite
  }

  /** Its id is claimed and its first full write is on its way or done. */
  get stored (): boolean { return this.ownsId }

  /** ports.persist of the channel's driver. Rejects with the store's error (a StoreConflict when the
   *  claim found its id taken). */
  async persist (req: PersistRequest): Promise<void> {
    let firstFull = false
    if (!this.ownsId) {
      this.claim ??= this.host.write([claimChannelOp(req.channelId, this.peer)])
      await this.claim
      if (!this.ownsId) {
        this.ownsId = true
        firstFull = true
        this.firstWrite?.()
      }
    }
    const point = `persist:${req.monitor[0]?.kind ?? 'state'}`
    this.host.crashPoint?.('before', point)
    const record: ChannelRecord = { v: 1, peer: this.peer, seed: this.seed, state: req.state }
    const carried = this.host.carry?.(req, this.peer)
    const ops = [
      put(channelStateKey(req.channelId), record),
      ...req.monitor.map(m => put(monitorKey(req.channelId, m.seq), m)),
      ...preimageOps(req.monitor),
      ...(carried?.ops ?? []),
    ]
    // Replaces the claim's entry with the plain one (the record exists from this write on).
    if (firstFull) ops.push(channelIndexOp(req.channelId, this.peer))
    try {
      await this.host.write(ops)
    } catch (e) {
      carried?.failed?.(e)
      throw e
    }
    this.host.crashPoint?.('after', point)
    carried?.durable?.()
    this.host.persisted?.(req.channelId, req.monitor)
  }
}
