// One channel the hub runs, built lazily: a hub restarts with thousands of channels and most of them
// sit idle, so a channel loaded from the store is only its stored state until something needs its
// driver (its peer connects, a payment goes through it, a block matters to it). Building the driver
// is cheap (no step, no key derivation); the signer derives its keys on its first signature.
import { bolt3Signer, type ChannelSigner, type ChannelState } from '../../protocol/channel/index.ts'
import type { ChannelDriver, ChannelWriter } from '../../host/channel/index.ts'
import { channelKeys } from '../../protocol/keys/channel.ts'
import { hexToBytes, type ChannelId, type NodeId } from '../../protocol/types.ts'

export class ManagedChannel {
  /** Its durable writes (host/channel/persist.ts): the claim of its id, then one batch per write. */
  readonly writer: ChannelWriter
  private drv: ChannelDriver | undefined
  /** The state loaded from the store, until the driver is built. */
  private loaded: ChannelState | undefined
  /** Highest block height handed to the driver (queued or stepped). */
  private heightFed: number

  constructor (
    /** The node id of the counterparty: the only connection allowed to touch this channel. */
    readonly peer: NodeId,
    /** 32-byte hex seed of this channel's keys. */
    readonly seed: string,
    state: ChannelState,
    private readonly build: (ch: ManagedChannel, state: ChannelState) => ChannelDriver,
    private readonly height: () => number,
    writer: (ch: ManagedChannel) => ChannelWriter,
  ) {
    this.loaded = state
    this.writer = writer(this)
    this.heightFed = state.height
  }

  /** The channel's driver, built on first use. Before handing it out, the current block height is
   *  queued if the channel has not seen it (idle channels are not fed every block: see
   *  ChannelManager.block), so every input is stepped at the right height. */
  get driver (): ChannelDriver {
    let d = this.drv
    if (d === undefined) {
      d = this.drv = this.build(this, this.loaded!)
      this.loaded = undefined
    }
    const h = this.height()
    if (h > this.heightFed) {
      this.heightFed = h
      void d.chain({ type: 'block', height: h })
    }
    return d
  }

  /** The latest state, without building the driver. Treat as read-only. */
  get state (): ChannelState { return this.drv?.state ?? this.loaded! }
  get channelId (): ChannelId { return this.state.channelId }
  /** Whether the driver has been built (the channel has run since the hub started). */
  get running (): boolean { return this.drv !== undefined }
  /** The height was handed to the driver by someone else (ChannelManager.block). */
  fedHeight (h: number): void { if (h > this.heightFed) this.heightFed = h }
}

/** A ChannelSigner that derives the channel's keys on its first call. */
export function lazySigner (seed: string): ChannelSigner {
  let s: ChannelSigner | undefined
  const real = (): ChannelSigner => (s ??= bolt3Signer(channelKeys(hexToBytes(seed)).secrets))
  return {
    perCommitmentPoint: n => real().perCommitmentPoint(n),
    perCommitmentSecret: n => real().perCommitmentSecret(n),
    secretMatchesPoint: (secret, point) => real().secretMatchesPoint(secret, point),
    signCommitment: (setup, c) => real().signCommitment(setup, c),
    checkCommitment: (setup, c, sig, htlcSigs) => real().checkCommitment(setup, c, sig, htlcSigs),
    signClosing: (setup, c) => real().signClosing(setup, c),
    checkClosing: (setup, c, sig) => real().checkClosing(setup, c, sig),
    signFundingInput: (setup, tx, index) => real().signFundingInput(setup, tx, index),
    checkFundingInput: (setup, tx, index, sig) => real().checkFundingInput(setup, tx, index, sig),
  }
}
