// A hub, a platform that pays, and creators each with a hub-funded channel and a payout policy: the
// setting of the batched settlement tests (docs/DESIGN.md "Batched settlement"). Real btcd, the hub
// process, SDK clients.
import path from 'node:path'
import type { HubClient } from '../../../client-sdk/index.ts'
import type { SocketFactory } from '../../../client-sdk/transport/socket.ts'
import type { Teardown } from '../../../scripts/lib/cleanups.ts'
import type { Btcd } from '../../helpers/btcd.ts'
import { hookedSocketFactory } from '../../helpers/socket-hook.ts'
import {
  fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor, type HubProcess,
} from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'

export const CREATOR_CHANNEL_SAT = 400_000
export const PAID_SAT = 150_000
export const KEEP_SAT = 20_000
export const FINALITY_DEPTH = 2

/** The hub's settlement config of these tests: windows far apart (the test starts batches itself),
 *  a short finality depth. */
export const SETTLEMENT_CONFIG = {
  windowBlocks: 1_008, finalityDepth: FINALITY_DEPTH, signTimeoutBlocks: 2, maxRounds: 3,
  policy: { minThresholdSat: 10_000, minIntervalBlocks: 1, maxKeepSat: 1_000_000, minCloseIdleBlocks: 144 },
}

export interface Creator { client: HubClient; address: string; channelId: string }

export interface Setting { dir: string; hub: HubProcess; platform: HubClient; creators: Creator[] }

export async function setting (
  btc: Btcd, t: Teardown,
  o: {
    name: string; creators: number; env?: Record<string, string>; socketFactory?: (k: number) => SocketFactory | undefined;
    settlement?: Record<string, unknown>
  },
): Promise<Setting> {
  const dir = tempDir(o.name)
  const hub = await startHub({
    dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, ...(o.env !== undefined ? { env: o.env } : {}),
    config: { channels: { fundingSat: CREATOR_CHANNEL_SAT }, settlement: { ...SETTLEMENT_CONFIG, ...o.settlement } },
  }, t)
  await fundHub(btc, hub, (o.creators + 1) * CREATOR_CHANNEL_SAT + 1_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  await openFundedChannel(btc, platform, 1_000_000)
  const creators: Creator[] = []
  for (let k = 0; k < o.creators; k++) {
    const socketFactory = o.socketFactory?.(k)
    const client = await startClient({
      hub, btc, dataDir: path.join(dir, `creator${k}`), role: 'creator', ...(socketFactory !== undefined ? { socketFactory } : {}),
    }, t)
    await requestHubChannel(btc, client)
    const r = await platform.pay((await client.createInvoice({ amountMsat: (PAID_SAT + 1_000 * k) * 1_000 })).invoice)
    if (!r.ok) throw new Error(`payment to creator ${k}: ${r.reason} ${r.detail}`)
    await waitFor(() => client.channels()[0]!.settled, `creator ${k} settled`)
    creators.push({ client, address: client.newAddress(), channelId: client.channels()[0]!.channelId })
  }
  return { dir, hub, platform, creators }
}

/** GET /settlement. */
export async function settlement (hub: HubProcess): Promise<any> {
  const r = await admin(hub, '/settlement')
  if (r.status !== 200) throw new Error(`GET /settlement: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body
}

/** Waits until batch `id` is at `stage` (one of them, if several), in_progress or last_batches. */
export async function untilStage (hub: HubProcess, id: number, stage: string | string[], timeoutMs = 120_000): Promise<any> {
  const stages = Array.isArray(stage) ? stage : [stage]
  let found: any
  await waitFor(async () => {
    const s = await settlement(hub).catch(() => undefined)
    if (s === undefined) return false
    found = [s.in_progress, ...s.last_batches].find((b: any) => b !== null && b.id === id && stages.includes(b.stage))
    return found !== undefined
  }, `batch ${id} at stage ${stages.join(' or ')}`, timeoutMs, 200)
  return found
}

/** A client's connection that, once armed, acts on the first message of `type` it receives: `cut`
 *  closes the connection before it is read (the client reconnects), `swallow` drops that message and
 *  every later one of the same type (the session stalls, the connection stays). */
export interface MessageTrap { factory: SocketFactory; arm (type: string, mode: 'cut' | 'swallow'): void; readonly fired: boolean }

export function messageTrap (): MessageTrap {
  let armed: { type: string; mode: 'cut' | 'swallow' } | undefined
  let fired = false
  const factory = hookedSocketFactory(m => {
    if (armed !== undefined && m.type === armed.type && (!fired || armed.mode === 'swallow')) {
      fired = true
      if (armed.mode === 'cut') { armed = undefined; m.cut() }
      return
    }
    m.deliver()
  })
  return { factory, arm (type, mode) { armed = { type, mode }; fired = false }, get fired () { return fired } }
}
