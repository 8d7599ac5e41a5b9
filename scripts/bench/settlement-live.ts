// The live part of the `settlement` section of `npm run bench`: the time from a batching window's end
// to the batch transaction in our node's mempool, for N channels (100 by default), on a real btcd,
// the hub process and N SDK clients (HubClients in this process, each with its own store and
// connection). Each creator has a hub-funded channel and is paid by a platform (one faucet transaction
// funds the platform and every coin the hub opens with), sets a payout policy that is due at once, and
// the bench mines the block that ends the window:
//
//   window_to_broadcast_ms   from the window-end block's generate call to the batch in btcd's mempool
//                            (polled every MEMPOOL_POLL_MS, or the hub's broadcast line if earlier)
//   breakdown_ms             the same interval in steps, from the hub's lines and GET /settlement
//                            (polled every STATUS_POLL_MS). The clients share this process and its
//                            2 cores with the hub: a batch of peers on their own machines is faster.
//                              started      the hub planned, stored the record and started every session
//                              complete     every session's interactive construction complete
//                              signed       every peer's tx_signatures in
//                              mempool_seen   the bench saw the transaction in btcd's mempool
//                              hub_broadcast  the hub's settlement_broadcast line (every channel stored
//                                             it; our node took it): window_to_broadcast_ms is the
//                                             earlier of the two
//                            (started and hub_broadcast at the time the hub wrote its line)
//   channels_in_batch, vbytes    the batch as the hub built it, and the transaction btcd holds
//   cpu_s                    CPU seconds of the hub, this process (the clients) and btcd over that time
//
//   npx tsx scripts/bench/settlement-live.ts [--channels N] [--cpu-prof DIR]   prints the figures as JSON
//   (--cpu-prof: the hub's V8 CPU profile of the whole run, setup included, written to DIR)
import os from 'node:os'
import path from 'node:path'
import fs from 'node:fs'
import type { HubClient } from '../../client-sdk/index.ts'
import { useBtcd, type Btcd } from '../lib/btcd.ts'
import { Cleanups } from '../lib/cleanups.ts'
import { startClient } from '../lib/client.ts'
import { hubFundingAddress, startHub, type HubProcess } from '../lib/hub.ts'
import { waitFor } from '../lib/wait.ts'
import { parseTx, txWeight } from '../../protocol/tx/serialize.ts'
import { cpuSeconds } from './host.ts'
import { manyChannelHubConfig, freePort } from './idle-channels.ts'

/** Each creator's channel, funded by the hub; the creator is paid PAID_SAT and keeps KEEP_SAT after
 *  its payout. */
const CHANNEL_SAT = 400_000
const PAID_SAT = 150_000
const KEEP_SAT = 20_000
/** The platform's channel: BOLT #2's largest without large channels. */
const PLATFORM_MAX_SAT = 16_000_000
const PAY_PARALLEL = 8
/** The window the bench ends: far enough apart that setup's few blocks end none after the policies. */
const WINDOW_BLOCKS = 50
const MEMPOOL_POLL_MS = 10
const STATUS_POLL_MS = 50
/** Clients connected or opening at once. */
const PARALLEL = 20
/** Generous: 100 channels on a loaded 2-core machine. */
const SETUP_TIMEOUT_MS = 300_000
const BATCH_TIMEOUT_MS = Number(process.env.BENCH_SETTLE_TIMEOUT_MS ?? 300_000)

export interface LiveSettlementFigure {
  channels: number
  channels_in_batch: number
  window_to_broadcast_ms: number
  breakdown_ms: Record<string, number | null>
  vbytes: number
  tx_vbytes: number
  tx_inputs: number
  round: number
  setup_s: number
  cpu_s: Record<string, number>
}

/** Runs `fn` over `items`, at most `k` at a time. */
async function inParallel<T, R> (items: readonly T[], k: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(k, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]!, i) }
  }))
  return out
}

/** When the hub wrote a line (its `time`), in ms. */
const hubTime = (l: Record<string, unknown>): number => typeof l.time === 'string' ? Date.parse(l.time) : Date.now()

async function adminJson (hub: HubProcess, route: string): Promise<any> {
  const r = await hub.adminFetch(route)
  if (r.status !== 200) throw new Error(`GET ${route}: ${r.status}`)
  return await r.json()
}

async function tipHeight (btc: Btcd): Promise<number> {
  const t = await btc.chain.tip()
  if (!t.ok) throw new Error(`tip: ${t.error.detail}`)
  return t.value.height
}

/** A platform with a channel it funded, and N creators with a ready hub-funded channel each, paid
 *  PAID_SAT by the platform (the hub keeps the rest of each channel: its side stays above its reserve
 *  after the creator's payout). One faucet transaction funds the platform's wallet and every coin the
 *  hub funds a creator's channel with. */
async function openChannels (btc: Btcd, hub: HubProcess, dir: string, n: number, cleanups: Cleanups): Promise<HubClient[]> {
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, cleanups)
  const creators = await inParallel(Array.from({ length: n }, (_, k) => k), PARALLEL, async k => await startClient({
    hub, btc, dataDir: path.join(dir, `creator${k}`), role: 'creator',
  }, cleanups))
  const platformSat = Math.min(PLATFORM_MAX_SAT, n * (PAID_SAT + 10_000))
  const hubAddress = hubFundingAddress(hub)
  const coins = await btc.faucetMany([
    { to: platform.newAddress(), value: platformSat + 100_000 },
    ...creators.map(() => ({ to: hubAddress, value: CHANNEL_SAT + 100_000 })),
  ])
  await btc.mine(1)
  await waitFor(() => platform.wallet.utxos().some(u => u.txid === coins[0]!.txid), 'the platform\'s coin', SETUP_TIMEOUT_MS)
  const opening = [
    platform.openChannel({ capacitySat: platformSat, timeoutMs: SETUP_TIMEOUT_MS }),
    ...creators.map(c => c.requestChannel({ timeoutMs: SETUP_TIMEOUT_MS })),
  ]
  const all = [platform, ...creators]
  await waitFor(() => all.every(c => c.channels().some(ch => ch.fundingTxid !== null)), 'every funding transaction',
    SETUP_TIMEOUT_MS, 100)
  const fundings = all.map(c => c.channels()[0]!.fundingTxid!)
  await waitFor(async () => {
    for (const txid of fundings) { const r = await btc.chain.getRawTransaction(txid); if (!r.ok || r.value === null) return false }
    return true
  }, 'every funding transaction in btcd', SETUP_TIMEOUT_MS, 200)
  await btc.mine(1)
  await Promise.all(opening)
  await inParallel(creators, PAY_PARALLEL, async (c, k) => {
    const r = await platform.pay((await c.createInvoice({ amountMsat: PAID_SAT * 1_000 })).invoice)
    if (!r.ok) throw new Error(`payment to creator ${k}: ${r.reason} ${r.detail}`)
  })
  await waitFor(() => creators.every(c => c.channels()[0]!.settled), 'every creator\'s channel settled', SETUP_TIMEOUT_MS, 100)
  return creators
}

export async function liveSettlement (o: {
  channels: number; say: (s: string) => void; dataDir?: string
  /** Environment of the hub process (e.g. the CPU profiler's, scripts/bench/cpu-profiler.mjs). */
  hubEnv?: Record<string, string>
}): Promise<LiveSettlementFigure> {
  const cleanups = new Cleanups()
  const dir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bench-settle-'))
  fs.mkdirSync(dir, { recursive: true })
  cleanups.push(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  let hubRef: HubProcess | undefined
  try {
    const t0 = performance.now()
    const btc = await useBtcd(cleanups, { dataDir: path.join(dir, 'btcd') })
    const many = manyChannelHubConfig(1, await freePort())
    const hub = await startHub({
      dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, ...(o.hubEnv !== undefined ? { env: o.hubEnv } : {}),
      config: {
        ...many, channels: { ...(many.channels as object), fundingSat: CHANNEL_SAT },
        // Every creator's channel is idle (unpaid) until the platform pays it.
        hubFunded: { maxIdleSat: o.channels * CHANNEL_SAT },
        settlement: {
          windowBlocks: WINDOW_BLOCKS, maxChannelsPerBatch: o.channels, signTimeoutBlocks: 10,
          policy: { minThresholdSat: 10_000, minIntervalBlocks: 1, maxKeepSat: 1_000_000, minCloseIdleBlocks: 144 },
        },
      },
    }, cleanups)
    hubRef = hub
    o.say(`  settlement live: opening ${o.channels} channels …`)
    const clients = await openChannels(btc, hub, dir, o.channels, cleanups)
    // Every policy set, then the blocks up to the one before the window end.
    await inParallel(clients, PARALLEL, async c => {
      await c.setPayoutPolicy({ address: c.newAddress(), thresholdSat: 10_000, intervalBlocks: 1, keepSat: KEEP_SAT })
    })
    const h = await tipHeight(btc)
    const end = h + (WINDOW_BLOCKS - (h % WINDOW_BLOCKS))
    if (end - h > 1) await btc.mine(end - h - 1)
    const setupS = (performance.now() - t0) / 1000
    o.say(`  settlement live: ${o.channels} channels ready, policies set in ${setupS.toFixed(1)} s; mining the window end (${end}) …`)

    // The measured interval: from the window-end block's generate call to the batch in the mempool.
    const marks: Record<string, number> = {}
    const pids = { hub: hub.pid, clients: process.pid, btcd: btc.node.pid }
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid ?? null)]))
    const started = hub.waitLine(l => l.event === 'settlement_started', BATCH_TIMEOUT_MS)
      .then(l => { marks.started ??= hubTime(l); return l })
    const hubBroadcast = hub.waitLine(l => l.event === 'settlement_broadcast', BATCH_TIMEOUT_MS)
      .then(l => { marks.hub_broadcast = hubTime(l); return l })
    // Marks in wall-clock ms: the hub's own lines carry the time they were written (the bench's
    // process, busy with 100 clients, may read them and poll the node late).
    const w0 = Date.now()
    void btc.mine(1)
    const line = await started
    const txid = line.txid as string
    let stop = false
    const statusPoll = (async () => {
      while (!stop) {
        const s = await adminJson(hub, '/settlement').catch(() => undefined)
        const p = s?.in_progress
        if (p != null && p.txid === txid) {
          if (p.complete === p.channels_count) marks.complete ??= Date.now()
          if (p.signed === p.channels_count) marks.signed ??= Date.now()
        }
        await new Promise(resolve => setTimeout(resolve, STATUS_POLL_MS))
      }
    })()
    let txHex = ''
    await waitFor(async () => {
      const r = await btc.chain.getRawTransaction(txid)
      if (r.ok && r.value !== null) { txHex = r.value.tx.hex; marks.mempool = Date.now(); return true }
      return false
    }, `the batch ${txid} in btcd's mempool`, BATCH_TIMEOUT_MS, MEMPOOL_POLL_MS)
    const broadcastLine = await hubBroadcast
    stop = true
    await statusPoll
    const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [
      k, Math.round((cpuSeconds(pid ?? null) - cpuBefore[k]!) * 100) / 100,
    ]))
    const batch = (await adminJson(hub, '/settlement')).last_batches.find((b: any) => b.txid === txid)
    const since = (m: number | undefined): number | null => m === undefined ? null : Math.round(m - w0)
    const figure: LiveSettlementFigure = {
      channels: o.channels,
      channels_in_batch: Number(line.channels),
      // The hub writes settlement_broadcast once our node took the transaction: in the mempool by then.
      window_to_broadcast_ms: Math.round(Math.min(marks.mempool!, marks.hub_broadcast ?? Infinity) - w0),
      breakdown_ms: {
        started: since(marks.started), complete: since(marks.complete), signed: since(marks.signed), mempool_seen: since(marks.mempool),
        hub_broadcast: since(marks.hub_broadcast),
      },
      vbytes: Number(broadcastLine.vbytes),
      tx_vbytes: Math.ceil(txWeight(parseTx(txHex)) / 4),
      tx_inputs: parseTx(txHex).inputs.length,
      round: Number(batch?.round ?? 0),
      setup_s: Math.round(setupS * 10) / 10,
      cpu_s: cpu,
    }
    return figure
  } catch (e) {
    // What the hub said about settlement, to see where the batch stopped.
    const lines = hubRef?.lines.filter(l => typeof l.event === 'string' && /settle|splice|payout|window/.test(l.event)) ?? []
    o.say(`  settlement live failed; the hub's settlement lines:\n    ` +
      `${lines.slice(-30).map(l => JSON.stringify(l).slice(0, 300)).join('\n    ')}`)
    throw e
  } finally {
    await cleanups.run()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--channels')
  const channels = i >= 0 ? Number(process.argv[i + 1]) : 100
  const j = process.argv.indexOf('--cpu-prof')
  const hubEnv = j < 0 ? undefined : {
    NODE_OPTIONS: `--import=${path.resolve('scripts/bench/cpu-profiler.mjs')}`, BENCH_CPU_PROF_DIR: path.resolve(process.argv[j + 1]!),
  }
  liveSettlement({ channels, say: s => { process.stderr.write(s + '\n') }, ...(hubEnv !== undefined ? { hubEnv } : {}) })
    .then(
      f => { process.stdout.write(JSON.stringify(f) + '\n') },
      e => { process.stderr.write(String(e?.stack ?? e) + '\n'); process.exitCode = 1 },
    )
}
