// How the client's calls wait (client-sdk/README.md "Timeouts"): every wait ends, with what it waited
// for or with a ClientError that says what did not come.
//
// A wait for a channel (openChannel, requestChannel, close) is bounded by progress, not by a total
// time: it fails once nothing it watches has moved for the timeout — no step of the channel, and
// while the funding waits for confirmations, no new block. A funding that needs six blocks on a chain
// that mines one a minute never fails a 60 s bound, and a hub that stopped answering or a regtest
// node nobody mines on fails it within that bound. What each phase of an opening waits for is named
// here, so the error says which message or which confirmations did not come.
import { requiredFundingDepth } from '../protocol/channel/funding-check.ts'
import type { ChannelState, Phase } from '../protocol/channel/index.ts'
import { ClientError, type ClientOperation } from './errors.ts'

/** Progress is looked at this often (or more often, for short timeouts): a wait fails at most this
 *  late after its bound. */
const CHECK_EVERY_MS = 250

/** The client's stop(), as the waits see it: every wait still running when the client stops ends then,
 *  with the error its caller gave (client_stopped), instead of running on to its timeout. */
export class StopSignal {
  private readonly waits = new Set<() => void>()
  private stopped = false

  /** Runs `end` when the client stops (at once if it has); the returned function forgets it. */
  onStop (end: () => void): () => void {
    if (this.stopped) { end(); return () => {} }
    this.waits.add(end)
    return () => { this.waits.delete(end) }
  }

  stop (): void {
    this.stopped = true
    const ends = [...this.waits]
    this.waits.clear()
    for (const end of ends) end()
  }
}

/**
 * `work`, unless `progress()` (a key of everything the wait watches move) stays the same for
 * `timeoutMs` first: then it rejects with what `stalled(timeoutMs)` builds, and `abandon()` lets `work`
 * drop its listeners. With `stop`, it rejects with `stop.error()` as soon as the client stops.
 */
export async function unlessStalled<T> (work: Promise<T>, o: {
  progress: () => string
  timeoutMs: number
  stalled: (forMs: number) => Error
  abandon?: () => void
  stop?: { signal: StopSignal; error: () => Error }
}): Promise<T> {
  let key = o.progress()
  let since = Date.now()
  let timer: ReturnType<typeof setInterval> | undefined
  let forget = (): void => {}
  const stalled = new Promise<never>((_resolve, reject) => {
    timer = setInterval(() => {
      const k = o.progress()
      if (k !== key) { key = k; since = Date.now(); return }
      const idle = Date.now() - since
      if (idle >= o.timeoutMs) { clearInterval(timer); o.abandon?.(); reject(o.stalled(o.timeoutMs)) }
    }, Math.max(10, Math.min(CHECK_EVERY_MS, Math.floor(o.timeoutMs / 4))))
    if (o.stop !== undefined) {
      const { error } = o.stop
      forget = o.stop.signal.onStop(() => { clearInterval(timer); o.abandon?.(); reject(error()) })
    }
  })
  try {
    return await Promise.race([work, stalled])
  } finally {
    clearInterval(timer)
    forget()
  }
}

/** `work`, or a rejection with `timedOut()` once `timeoutMs` passed. */
export async function withinTime<T> (work: Promise<T>, timeoutMs: number, timedOut: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(timedOut()), timeoutMs) })
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
  }
}

/** What moves while a channel opens: its phase, the channel_ready exchange, and while the funding
 *  waits for depth, the chain tip. */
export function openingProgress (s: ChannelState, tipHeight: number): string {
  const tip = s.phase === 'awaiting_funding_depth' ? tipHeight : -1
  return `${s.phase}:${s.channelReady.sent}:${s.channelReady.received}:${tip}`
}

/** The message of the hub an opening channel waits for in `phase` (undefined: it waits for the chain
 *  or for us). */
const HUB_MESSAGE_AWAITED: Partial<Record<Phase, string>> = {
  awaiting_accept: 'accept_channel',
  awaiting_funding_created: 'funding_created',
  awaiting_funding_signed: 'funding_signed',
}

/** A duration for people: "60 s", "2.5 s". */
export const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`

/**
 * Why an opening channel that has not moved for `idleMs` is not ready: its funding lacks
 * confirmations while the tip stands still (funding_not_confirmed), or the hub's next message did not
 * come (hub_not_responding).
 */
export function openingStalled (
  operation: ClientOperation, s: ChannelState, o: { tipHeight: number; connected: boolean; idleMs: number },
): ClientError {
  const link = o.connected ? '' : ' (not connected to the hub)'
  const funding = s.setup.funding
  if (s.phase === 'awaiting_funding_depth' && funding !== undefined && !s.channelReady.sent) {
    const need = requiredFundingDepth(s)
    return new ClientError(operation, 'funding_not_confirmed',
      `waiting for ${need} confirmation${need === 1 ? '' : 's'} of the funding ${funding.txid}:${funding.outputIndex} of ` +
      `channel ${s.channelId}, ` +
      `chain tip ${o.tipHeight} has not moved for ${seconds(o.idleMs)} — on regtest, mine blocks`, { phase: s.phase })
  }
  const awaited = s.phase === 'awaiting_funding_depth'
    ? 'channel_ready (the funding has its confirmations on our node)'
    : HUB_MESSAGE_AWAITED[s.phase]
  const what = awaited !== undefined ? `the hub's ${awaited}` : `channel ${s.channelId} to leave ${s.phase}`
  return new ClientError(operation, 'hub_not_responding', `waiting for ${what} for ${seconds(o.idleMs)}${link}`, { phase: s.phase })
}

/** What a closing channel waits for: its shutdown answered, its HTLCs settled, the fee agreed. */
export function closingAwaits (s: ChannelState): string {
  if (s.phase === 'normal') return 'our shutdown to be sent'
  if (s.phase === 'shutting_down') {
    const htlcs = (s.localCommit?.spec.htlcs.length ?? 0)
    if (s.closing.remoteScript === undefined) return 'the hub\'s shutdown'
    return htlcs > 0 ? `${htlcs} HTLC${htlcs === 1 ? '' : 's'} in flight to settle` : 'the hub\'s closing_signed'
  }
  if (s.phase === 'negotiating_close') return 'the hub\'s closing_signed'
  return `the closing transaction (phase ${s.phase})`
}
