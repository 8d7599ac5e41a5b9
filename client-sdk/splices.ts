// HubClient's splices (client-sdk/README.md "Splicing"): spliceOut() pays part of our channel balance
// to an address without closing the channel, spliceIn() adds coins of our wallet to it. The host side
// is host/channel/splicing.ts (the same code the hub runs); this is the waiting and the typed outcome.
//
// A splice call resolves once both sides signed the transaction, it is stored, and our node answered
// its broadcast: from then on it cannot be undone, only confirmed (or replaced). Payments go on meanwhile: the
// channel is quiescent only while the transaction is negotiated and signed. untilSpliceLocked() waits
// for the confirmations after which both sides use the new funding output alone (splice_locked both
// ways). Every wait is bounded by progress (waits.ts): it fails once nothing it watches moved for the
// timeout, with a ClientError naming what it waited for.
import type { PlannedContribution, Replacement, SpliceRefusal, SpliceWish } from '../host/channel/index.ts'
import { refusalText } from '../host/channel/index.ts'
import { quiescence, type ChannelState } from '../protocol/channel/index.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../protocol/limits.ts'
import type { Result } from '../protocol/result.ts'
import type { ChannelId, Sat, Txid } from '../protocol/types.ts'
import type { ClientChannel } from './channels.ts'
import { ClientError, type ClientOperation } from './errors.ts'
import { seconds, StopSignal, unlessStalled } from './waits.ts'

/** A splice both sides signed (spliceOut(), spliceIn(), spliceRbf()). */
export interface SpliceResult {
  channelId: ChannelId
  /** The splice transaction: it spends the channel's funding output and creates the new one. */
  txid: Txid
  kind: 'out' | 'in'
  /** Paid to the address (out), or added to our balance (in). */
  amountSat: Sat
  /** What our side pays the miners. */
  feeSat: Sat
  /** What the splice moves in our balance: −(amount + fee) for a splice-out, +amount for a splice-in. */
  contributionSat: number
  /** The channel's capacity once the splice is locked. */
  capacitySat: Sat
}

/** A splice is the channel's funding now: splice_locked sent and received. */
export interface SpliceLockedInfo { channelId: ChannelId; txid: Txid; capacitySat: Sat }

export type SpliceEvents = {
  // Delivered once, as they happen (a restart does not repeat them; the channel's state says where a
  // splice is: channels(), channel_state).
  /** The transaction is negotiated and stored; its signatures are being exchanged. */
  splice_negotiated: [e: {
    channelId: ChannelId; txid: Txid; capacitySat: Sat; contributionSat: { local: number; remote: number };
    feeSat: { local: number; remote: number }
  }]
  /** Both sides signed; the transaction is broadcast. */
  splice_signed: [e: { channelId: ChannelId; txid: Txid }]
  /** Our node shows the transaction `depth` blocks deep (each new depth once). */
  splice_confirmed: [e: { channelId: ChannelId; txid: Txid; depth: number }]
  /** splice_locked both ways: the transaction's output is the channel's funding from now on. */
  splice_locked: [e: SpliceLockedInfo]
  /** A splice ended without a transaction (refused by the hub, the connection dropped before both
   *  signed, or our request lost to the hub's own splice). */
  splice_aborted: [e: { channelId: ChannelId; reason: string; byPeer: boolean }]
}

/** What the splice calls need of the client. */
export interface SpliceCallHost {
  on<K extends keyof SpliceEvents> (event: K, fn: (...args: SpliceEvents[K]) => void): () => void
  splice (
    ch: ClientChannel, wish: Exclude<SpliceWish, { kind: 'none' }>, feeratePerKw: number,
  ): Promise<Result<PlannedContribution, SpliceRefusal>>
  /** Replaces our pending splice `txid` at a higher feerate (host/channel/splicing.ts rbf). */
  rbf (ch: ClientChannel, txid: Txid, feeratePerKw: number): Promise<Result<Replacement, SpliceRefusal>>
  connected (): boolean
  tipHeight (): number
  /** Resolves once the splice transaction's broadcast was answered by our node. */
  broadcast (txid: Txid): Promise<void>
  /** How a wait of `operation` ends when the client stops (client_stopped). */
  endsOnStop (operation: ClientOperation): { signal: StopSignal; error: () => Error }
}

/** What a splice call started: its kind and amount (the wish, or the replaced splice's). */
type Started = Result<{ kind: 'out' | 'in'; amountSat: number }, SpliceRefusal>

/** Runs one splice of ours on `ch` to both signatures. */
export async function runSplice (
  host: SpliceCallHost, operation: ClientOperation, ch: ClientChannel, wish: Extract<SpliceWish, { kind: 'out' | 'in' }>,
  feeratePerKw: number, timeoutMs: number,
): Promise<SpliceResult> {
  return await runToSigned(host, operation, ch, async () => {
    const r = await host.splice(ch, wish, feeratePerKw)
    return r.ok ? { ok: true, value: { kind: wish.kind, amountSat: wish.amountSat } } : r
  }, timeoutMs)
}

/** Replaces our pending splice `txid` on `ch` at `feeratePerKw` (tx_init_rbf), to both signatures of
 *  the replacement. */
export async function runRbf (
  host: SpliceCallHost, ch: ClientChannel, txid: Txid, feeratePerKw: number, timeoutMs: number,
): Promise<SpliceResult> {
  return await runToSigned(host, 'spliceRbf', ch, async () => await host.rbf(ch, txid, feeratePerKw), timeoutMs)
}

async function runToSigned (
  host: SpliceCallHost, operation: ClientOperation, ch: ClientChannel, start: () => Promise<Started>, timeoutMs: number,
): Promise<SpliceResult> {
  const channelId = ch.driver.channelId
  let negotiated: SpliceEvents['splice_negotiated'][0] | undefined
  const offs: Array<() => void> = []
  const stop = (): void => { for (const off of offs.splice(0)) off() }
  const done = new Promise<SpliceEvents['splice_negotiated'][0]>((resolve, reject) => {
    offs.push(host.on('splice_negotiated', e => { if (e.channelId === channelId) negotiated = e }))
    offs.push(host.on('splice_signed', e => {
      if (e.channelId !== channelId || negotiated === undefined || e.txid !== negotiated.txid) return
      stop()
      const n = negotiated
      // Handed to our node before we answer: a caller that mines next finds it in the mempool.
      void host.broadcast(e.txid).then(() => resolve(n))
    }))
    offs.push(host.on('splice_aborted', e => {
      if (e.channelId !== channelId) return
      stop()
      reject(new ClientError(operation, 'splice_aborted', `${e.byPeer ? 'the hub ended the splice' : 'the splice ended'}: ${e.reason}`))
    }))
  })
  // A refusal at the command also reports an abort: the refusal is the outcome then.
  done.catch(() => {})
  const started = await start()
  if (!started.ok) {
    stop()
    throw refusalError(operation, started.error)
  }
  const n = await unlessStalled(done, {
    timeoutMs,
    progress: () => spliceProgressKey(ch.driver.state),
    stalled: idleMs => new ClientError(operation, 'hub_not_responding',
      `waiting for ${spliceAwaits(ch.driver.state)} for ${seconds(idleMs)}${host.connected() ? '' : ' (not connected to the hub)'}`),
    abandon: stop,
    stop: host.endsOnStop(operation),
  })
  return {
    channelId, txid: n.txid, kind: started.value.kind, amountSat: started.value.amountSat as Sat, feeSat: n.feeSat.local as Sat,
    contributionSat: n.contributionSat.local, capacitySat: n.capacitySat,
  }
}

/** The channel whose pending splice `txid` is (spliceRbf). */
export function channelOfSplice (channels: readonly ClientChannel[], txid: Txid): ClientChannel {
  const ch = channels.find(c => c.driver.state.splice?.candidates.some(x => x.txid === txid) === true)
  if (ch === undefined) throw new ClientError('spliceRbf', 'no_channel', `no channel has splice ${txid} pending (signed and not locked)`)
  return ch
}

/** Waits until splice `txid` is the funding of its channel (splice_locked both ways). */
export async function untilLocked (
  host: SpliceCallHost, channels: readonly ClientChannel[], txid: Txid, timeoutMs: number,
): Promise<SpliceLockedInfo> {
  const ch = channels.find(
    c => c.driver.state.setup.funding?.txid === txid || c.driver.state.splice?.candidates.some(x => x.txid === txid) === true
  )
  if (ch === undefined) throw new ClientError('untilSpliceLocked', 'no_channel', `no channel has splice ${txid} pending or as its funding`)
  const info = (): SpliceLockedInfo => ({ channelId: ch.driver.channelId, txid, capacitySat: ch.driver.state.setup.capacitySat })
  if (ch.driver.state.setup.funding?.txid === txid) return info()
  let off = (): void => {}
  const locked = new Promise<SpliceLockedInfo>((resolve, reject) => {
    const offLocked = host.on('splice_locked', e => {
      if (e.txid === txid) { off(); resolve(e); return }
      // Another candidate of the same splice (the original or an RBF replacement) confirmed first.
      if (e.channelId !== ch.driver.channelId) return
      off(); reject(new ClientError(
        'untilSpliceLocked', 'splice_aborted', `splice ${txid} will never lock: ${e.txid}, which double-spends it, locked instead`,
      ))
    })
    // A replacement (RBF) or the end of the channel: this one will never lock.
    const offAborted = host.on('splice_aborted', e => {
      if (e.channelId !== ch.driver.channelId || ch.driver.state.splice?.candidates.some(x => x.txid === txid) === true) return
      off(); reject(new ClientError('untilSpliceLocked', 'splice_aborted', `splice ${txid} is no longer pending: ${e.reason}`))
    })
    off = () => { offLocked(); offAborted() }
  })
  return await unlessStalled(locked, {
    timeoutMs,
    progress: () => `${host.tipHeight()}:${spliceProgressKey(ch.driver.state)}`,
    stalled: idleMs => {
      const sp = ch.driver.state.splice
      if (sp?.localLocked === txid) {
        return new ClientError(
          'untilSpliceLocked', 'hub_not_responding', `waiting for the hub's splice_locked for ${txid} for ${seconds(idleMs)}`,
        )
      }
      const need = ch.driver.state.policy.spliceMinimumDepth ?? DEFAULT_SPLICE_MINIMUM_DEPTH
      return new ClientError('untilSpliceLocked', 'splice_not_confirmed',
        `waiting for ${need} confirmations of splice ${txid}, chain tip ${host.tipHeight()} has not moved for ${seconds(idleMs)} — on ` +
        `regtest, mine blocks`)
    },
    abandon: () => off(),
    stop: host.endsOnStop('untilSpliceLocked'),
  })
}

/** What moves while a splice runs: quiescence, the negotiation's turns, the signatures, the locks. */
export function spliceProgressKey (s: ChannelState): string {
  const sp = s.splice
  const n = sp?.session?.negotiation
  const sg = sp?.session?.signing
  return [
    quiescence(s), s.link, sp?.session?.stage, n?.inputs.length, n?.outputs.length, n?.sentComplete, sg?.candidate.localSigs !== undefined,
    sg?.received !== undefined, sp?.candidates.length, sp?.localLocked, sp?.remoteLocked, s.setup.funding?.txid,
  ].join(':')
}

/** What a splice of ours waits for now, in words. */
export function spliceAwaits (s: ChannelState): string {
  const sp = s.splice
  const session = sp?.session
  if (s.link !== 'up') return 'the connection to the hub (a splice not signed yet is forgotten with it)'
  switch (quiescence(s)) {
    case 'requested': return 'our updates to settle before our stfu (the hub\'s revoke_and_ack)'
    case 'quiescing': return sp?.quiescence.sent === true ? 'the hub\'s stfu' : 'our updates to settle before our stfu'
    default:
  }
  if (session?.stage === 'awaiting_ack') return `the hub's ${session.rbf ? 'tx_ack_rbf' : 'splice_ack'}`
  if (session?.stage === 'constructing') return 'the hub\'s turn in the interactive transaction (tx_add_* / tx_complete)'
  if (session?.stage === 'signing') {
    const sg = session.signing!
    if (sg.candidate.localSigs === undefined) return 'the hub\'s commitment_signed for the splice'
    if (sg.witnesses === undefined) return 'our wallet\'s signatures of our inputs'
    return 'the hub\'s tx_signatures'
  }
  return 'the splice to start'
}

function refusalError (operation: ClientOperation, r: SpliceRefusal): ClientError {
  const detail = refusalText(r)
  switch (r.kind) {
    case 'insufficient_funds': return new ClientError(operation, 'insufficient_funds', `${detail}: fund it (newAddress()) and retry`, r)
    case 'chain_unavailable': return new ClientError(operation, 'chain_unavailable', detail, r)
    case 'refused': return new ClientError(operation, 'splice_refused', detail, r.error)
    case 'below_dust': return new ClientError(operation, 'splice_refused', detail, r)
  }
}
