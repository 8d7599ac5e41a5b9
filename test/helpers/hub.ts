// The hub as a real child process and SDK clients around it, for e2e and chaos tests:
//
//   const btc = await useBtcd(t)
//   const hub = await startHub({ dataDir, btcd: btc.node.rpc }, t)  // scripts/lib/hub.ts
//   const c = await startClient({ hub, btc, dataDir, role }, t)     // scripts/lib/client.ts
//
// What the demo and the benchmarks run too (the hub process, clients, funding, waiting, temp
// directories) lives in scripts/lib and is re-exported here; what only tests need is below: the
// hub's stored channels, a connection cut at a chosen message, raw frames, the common setup.
import path from 'node:path'
import type { HubClient } from '../../client-sdk/index.ts'
import { wsSocketFactory } from '../../client-sdk/node/socket.ts'
import type { SocketFactory, SocketLike } from '../../client-sdk/transport/socket.ts'
import { loadChannelRecords } from '../../host/channel/record.ts'
import { LevelStore } from '../../host/store/node/level-store.ts'
import type { ChannelState } from '../../protocol/channel/index.ts'
import type { Teardown } from '../../scripts/lib/cleanups.ts'
import { openFundedChannel, requestHubChannel, startClient } from '../../scripts/lib/client.ts'
import { fundHub, HUB_STORE_DIR, startHub, type HubProcess } from '../../scripts/lib/hub.ts'
import { tempDir } from '../../scripts/lib/temp-dir.ts'
import type { Btcd } from './btcd.ts'

export { mineTx } from '../../scripts/lib/btcd.ts'
export { openFundedChannel, randomKey, requestHubChannel, startClient, type StartClientOptions } from '../../scripts/lib/client.ts'
export { fundHub, HUB_STORE_DIR, HUB_WALLET_DIR, startHub, type HubProcess, type StartHubOptions } from '../../scripts/lib/hub.ts'
export { tempDir } from '../../scripts/lib/temp-dir.ts'
export { waitFor } from '../../scripts/lib/wait.ts'

/** The hub's channel states by channel id, read from its store (the hub must be stopped). */
export async function hubChannelStates (hub: HubProcess): Promise<Map<string, ChannelState>> {
  const store = await LevelStore.open(HUB_STORE_DIR(hub))
  try {
    const out = new Map<string, ChannelState>()
    for (const r of await loadChannelRecords(store)) out.set(r.state.channelId, r.state)
    return out
  } finally { await store.close() }
}

// ── Cutting the connection at a chosen message (scenario 2 over real sockets) ──

export type Direction = 'out' | 'in'
/** Cut the connection at the `index`-th (0-based) channel message seen in `direction` after `arm()`:
 *  'before' drops it (it never reaches the other side), 'after' lets it through, then cuts. */
export interface CutPlan { direction: Direction; index: number; timing: 'before' | 'after' }

/** Message types that belong to a payment's dance (pings, policy and reestablish are not counted). */
export const DANCE_TYPES = new Set(['update_add_htlc', 'update_fulfill_htlc', 'update_fail_htlc', 'commitment_signed', 'revoke_and_ack'])

export interface CutSwitch {
  factory: SocketFactory
  /** Starts counting dance messages (and cutting, if a plan is given). */
  arm (plan?: CutPlan): void
  /** The dance messages seen since arm(), in order, with their direction. */
  readonly trace: Array<{ direction: Direction; type: string }>
  /** Whether the armed plan fired. */
  readonly fired: boolean
}

export function cutSwitch (): CutSwitch {
  let plan: CutPlan | undefined
  let counts = { in: 0, out: 0 }
  let trace: Array<{ direction: Direction; type: string }> = []
  let fired = false
  const typeOf = (data: unknown): string | undefined => {
    try {
      const t = (JSON.parse(String(data)) as { type?: unknown }).type; return typeof t === 'string' ? t : undefined
    } catch { return undefined }
  }
  /** true: cut now (before); 'after': cut after delivery; false: nothing. */
  const decide = (direction: Direction, data: unknown): false | 'before' | 'after' => {
    const type = typeOf(data)
    if (type === undefined || !DANCE_TYPES.has(type)) return false
    trace.push({ direction, type })
    const i = counts[direction]++
    if (plan === undefined || fired || plan.direction !== direction || plan.index !== i) return false
    fired = true
    return plan.timing
  }
  const factory: SocketFactory = async url => {
    const ws = await wsSocketFactory(url) as SocketLike & { terminate?: () => void }
    const cut = (): void => { if (ws.terminate !== undefined) ws.terminate(); else ws.close(4000, 'cut') }
    const wrapped: SocketLike = {
      get readyState () { return ws.readyState },
      get bufferedAmount () { return ws.bufferedAmount },
      send (data: string) {
        const d = decide('out', data)
        if (d === 'before') { cut(); return }
        ws.send(data)
        if (d === 'after') cut()
      },
      close: (code?: number, reason?: string) => ws.close(code, reason),
      addEventListener (type: string, fn: (ev: never) => void) {
        if (type !== 'message') { (ws.addEventListener as (t: string, f: unknown) => void)(type, fn); return }
        ws.addEventListener('message', (ev: { data: unknown }) => {
          const d = decide('in', ev.data)
          if (d === 'before') { cut(); return }
          ;(fn as (e: { data: unknown }) => void)(ev)
          if (d === 'after') cut()
        })
      },
    } as SocketLike
    return wrapped
  }
  return {
    factory,
    arm (p?: CutPlan) { plan = p; counts = { in: 0, out: 0 }; trace = []; fired = false },
    get trace () { return trace },
    get fired () { return fired },
  }
}

// ── Raw frames over an authenticated connection (bad-input tests) ──

export interface Injector {
  factory: SocketFactory
  /** Sends a raw text frame on the current connection (bypassing the codec). */
  sendRaw (text: string): void
  /** Frames received since the last clear(), parsed (or { raw } when not JSON). */
  readonly received: Array<Record<string, unknown>>
  /** Close codes seen on connections opened through this factory. */
  readonly closes: number[]
  clear (): void
}

export function injector (): Injector {
  let current: SocketLike | undefined
  let received: Array<Record<string, unknown>> = []
  const closes: number[] = []
  const factory: SocketFactory = async url => {
    const ws = await wsSocketFactory(url)
    current = ws
    ws.addEventListener('message', ev => {
      try { received.push(JSON.parse(String(ev.data)) as Record<string, unknown>) } catch { received.push({ raw: String(ev.data) }) }
    })
    ws.addEventListener('close', ev => { closes.push(ev.code) })
    return ws
  }
  return {
    factory,
    sendRaw (text: string) {
      if (current === undefined) throw new Error('injector: no connection yet')
      current.send(text)
    },
    get received () { return received },
    get closes () { return closes },
    clear () { received = [] },
  }
}

/** The setup most hub tests share: a funded hub process, a platform with its own funded channel and a
 *  creator with a hub-funded channel, all ready. */
export async function startHubPlatformCreator (
  btc: Btcd, t: Teardown, o: { name: string; hubSat: number; platformCapacitySat: number; hubConfig?: Record<string, unknown> },
): Promise<{ dir: string; hub: HubProcess; platform: HubClient; creator: HubClient }> {
  const dir = tempDir(o.name)
  const hub = await startHub(
    { dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, ...(o.hubConfig !== undefined ? { config: o.hubConfig } : {}) }, t,
  )
  await fundHub(btc, hub, o.hubSat)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  await openFundedChannel(btc, platform, o.platformCapacitySat)
  await requestHubChannel(btc, creator)
  return { dir, hub, platform, creator }
}
