// streamed_items_per_s: line items streamed platform → hub → creator (DESIGN.md "Streams"), end to end:
// from the first push() to the last flush(), i.e. every item in a tick (one synced write per tick),
// every tick paid by its HTLC through the hub, its items relayed to the creator and checked against the
// tick's root before the creator fulfils, and the creator's signature over every tick back at the
// platform: every item has its receipt. Then every receipt is built (item, proof, tick, signature) and a
// sample is verified offline.
//
// Two setups with the same number of items: one platform → one creator, and P platforms → C creators
// (4 → 16 unless told: each platform streams to C/P creators, each creator gets items / C). Three
// processes, as a platform, the hub and a creator are apart in production: the hub; the platforms, SDK
// clients in this process; the creators, SDK clients in a client process of their own
// (scripts/bench/client-worker.ts). Each process's CPU is reported beside the figure.
//
//   npx tsx scripts/bench/stream.ts [--json] [--items N] [--platforms P --creators C] [--cpu-prof DIR]
//
// --cpu-prof DIR writes V8 CPU profiles to DIR: this process's while it streams (clients-<setup>.cpuprofile),
// and the whole run of each hub and creators' process (hub-<pid>-<time>.cpuprofile, scripts/bench/cpu-profiler.mjs).
// Read them with scripts/bench/profile-top.ts.
//
// The many-to-many setup the figure is for: 4 platforms, 16 creators.
export const STREAM_BENCH_PLATFORMS = 4
export const STREAM_BENCH_CREATORS = 16
import fs from 'node:fs'
import { Session } from 'node:inspector'
import os from 'node:os'
import path from 'node:path'
import type { HubClient } from '../../client-sdk/index.ts'
import { verifyStreamReceipt } from '../../protocol/stream/index.ts'
import { useBtcd, type Btcd } from '../lib/btcd.ts'
import { Cleanups } from '../lib/cleanups.ts'
import { openFundedChannel, startClient } from '../lib/client.ts'
import { startHub } from '../lib/hub.ts'
import { cpuSeconds } from './host.ts'
import { WorkerProcess } from './ipc.ts'
import { fundHubCoins, openCreatorChannels } from './setup.ts'

export interface StreamBenchResult {
  platforms: number
  creators: number
  items: number
  ticks: number
  seconds: number
  items_per_s: number
  receipts_built: number
  receipts_verified: number
  receipts_per_s: number
  /** Cores used during the streaming (CPU seconds / wall seconds): the hub process, this process (the
   *  platforms) and the creators' process; `clients` is the two clients' processes together. */
  cores_used: { hub: number; clients: number; platforms: number; creators: number }
  /** CPU microseconds per item, hub and clients together: what the items cost whatever else runs on
   *  the machine (a loaded machine lowers items_per_s, much less this). */
  cpu_us_per_item: number
}

/** Items pushed ahead of their tick's durability per stream: two full ticks, so a tick is always forming. */
const WINDOW = 32_768

async function streamAll (platform: HubClient, creators: string[], items: number, tag: string): Promise<number> {
  let ticks = 0
  await Promise.all(creators.map(async (c, k) => {
    const s = platform.stream(c, { tickMs: 5 })
    const before = s.stats.ticksPaid
    let pending: Array<Promise<void>> = []
    for (let i = 0; i < items; i++) {
      pending.push(s.push({ id: `${tag}-${k}-${i}`, amountMsat: 1 + i % 7 }))
      if (pending.length === WINDOW) { await Promise.all(pending.slice(0, WINDOW / 2)); pending = pending.slice(WINDOW / 2) }
    }
    await Promise.all(pending)
    await s.flush()
    ticks += s.stats.ticksPaid - before
    if (s.stats.itemsFailed > 0) throw new Error(`stream ${tag}-${k}: ${s.stats.itemsFailed} items failed`)
  }))
  return ticks
}

async function receiptsOf (platform: HubClient, creators: string[]): Promise<{ built: number; verified: number }> {
  let built = 0
  let verified = 0
  for (const c of creators) {
    for await (const r of platform.stream(c).receipts()) {
      built++
      // Every 1,000th receipt is checked offline (a check is a BIP-340 verification: ~1 ms).
      if (built % 1_000 === 1) {
        if (!verifyStreamReceipt(r, c).ok) throw new Error(`receipt of ${r.item.id} does not verify`)
        verified++
      }
    }
  }
  return { built, verified }
}

/** Samples this process's CPU until the returned function writes the profile to `file`. */
function profileThisProcess (file: string): () => Promise<void> {
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object): Promise<unknown> => new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (e, res) => { if (e !== null) reject(e); else resolve(res) })
  })
  const started = post('Profiler.enable').then(async () => await post('Profiler.setSamplingInterval', { interval: 1000 }))
    .then(async () => await post('Profiler.start'))
  return async () => {
    await started
    const res = await post('Profiler.stop') as { profile: unknown }
    fs.writeFileSync(file, JSON.stringify(res.profile))
    session.disconnect()
  }
}

/** One setup: P platforms, C creators, `items` per creator (split over the platforms that pay it). */
export async function streamBench (btc: Btcd, o: {
  platforms: number; creators: number; items: number; dir: string; cleanups: Cleanups; cpuProf?: string
}): Promise<StreamBenchResult> {
  const hub = await startHub({ dataDir: path.join(o.dir, 'hub'), btcd: btc.node.rpc, config: {
    transport: { peerMessagesPerSecond: 100_000, peerMessageBurst: 200_000 },
  } }, o.cleanups)
  // One confirmed coin per channel the hub funds, so it funds them all at once.
  await fundHubCoins(btc, hub, o.creators, 2_100_000)
  const platforms = await Promise.all(Array.from({ length: o.platforms }, (_, i) =>
    startClient({ hub, btc, dataDir: path.join(o.dir, `platform-${i}`), role: 'platform' }, o.cleanups)))
  const worker = new WorkerProcess('creators', false)
  o.cleanups.push(() => worker.stop())
  const creators = await worker.call<string[]>('init', {
    role: 'creator', count: o.creators, hubUrl: hub.url, hubId: hub.hubId, dataDir: path.join(o.dir, 'creators'),
    btcd: { host: btc.node.rpc.host, port: btc.node.rpc.port, user: btc.node.rpc.user, pass: btc.node.rpc.pass }, verbose: false,
  })
  // The last warnings of the platforms: a failed tick says why (the stream's warning names its reason).
  const warnings: string[] = []
  for (const c of platforms) c.on('warning', w => { warnings.push(w); if (warnings.length > 20) warnings.shift() })
  for (const p of platforms) await openFundedChannel(btc, p, 5_000_000)
  await openCreatorChannels(btc, worker)
  const mine = (i: number): string[] => creators.filter((_, k) => k % o.platforms === i)
  // Warm-up: a small stream per pair (JIT, connections), not counted.
  await Promise.all(platforms.map((p, i) => streamAll(p, mine(i), 2_000, 'warm')))
  const stopProfile = o.cpuProf === undefined ? undefined
    : profileThisProcess(path.join(o.cpuProf, `clients-${o.platforms}-${o.creators}-${process.pid}.cpuprofile`))
  const cpu0 = { hub: cpuSeconds(hub.pid), platforms: cpuSeconds(process.pid), creators: cpuSeconds(worker.pid) }
  const t0 = performance.now()
  const ticks = (await Promise.all(platforms.map((p, i) => streamAll(p, mine(i), o.items, 'run'))).catch((e: unknown) => {
    throw new Error(`${String(e)}; last warnings:\n  ${warnings.join('\n  ')}`)
  })).reduce((a, b) => a + b, 0)
  const seconds = (performance.now() - t0) / 1000
  const used = (now: number, before: number): number => (now - before) / seconds
  const platformCores = used(cpuSeconds(process.pid), cpu0.platforms)
  const creatorCores = used(cpuSeconds(worker.pid), cpu0.creators)
  const cores = {
    hub: used(cpuSeconds(hub.pid), cpu0.hub), clients: platformCores + creatorCores, platforms: platformCores, creators: creatorCores,
  }
  await stopProfile?.()
  const r0 = performance.now()
  let built = 0
  let verified = 0
  for (let i = 0; i < platforms.length; i++) {
    const r = await receiptsOf(platforms[i]!, mine(i))
    built += r.built; verified += r.verified
  }
  const receiptSeconds = (performance.now() - r0) / 1000
  const total = o.items * o.creators
  await Promise.all(platforms.map(c => c.stop()))
  await worker.stop()
  await hub.stop()
  return {
    platforms: o.platforms, creators: o.creators, items: total, ticks, seconds, items_per_s: total / seconds,
    receipts_built: built, receipts_verified: verified, receipts_per_s: built / receiptSeconds, cores_used: cores,
    cpu_us_per_item: (cores.hub + cores.clients) * seconds / total * 1e6,
  }
}

const summary = (r: StreamBenchResult): string =>
  `  ${r.items_per_s.toFixed(0)} items/s (${r.ticks} ticks; ${r.receipts_built} receipts built at ${r.receipts_per_s.toFixed(0)}/s, ` +
  `${r.receipts_verified} verified; cores: hub ` +
  `${r.cores_used.hub.toFixed(2)}, platforms ${r.cores_used.platforms.toFixed(2)}, creators ${r.cores_used.creators.toFixed(2)}; ` +
  `${r.cpu_us_per_item.toFixed(1)} CPU µs/item; load ${os.loadavg()[0]!.toFixed(1)})`

/** Both setups on one btcd: 1 → 1, then P → C; `items` in each (in P → C, items / C per creator). */
export async function runStreamBenches (o: {
  items: number; platforms: number; creators: number; say: (s: string) => void; cpuProf?: string
}): Promise<{ one_to_one: StreamBenchResult; many: StreamBenchResult }> {
  if (o.cpuProf !== undefined) {
    fs.mkdirSync(o.cpuProf, { recursive: true })
    // The hub and the creators' process inherit this environment: each profiles itself.
    process.env.NODE_OPTIONS = `--import=${path.resolve('scripts/bench/cpu-profiler.mjs')}`
    process.env.BENCH_CPU_PROF_DIR = path.resolve(o.cpuProf)
  }
  const prof = o.cpuProf === undefined ? {} : { cpuProf: o.cpuProf }
  const cleanups = new Cleanups()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-stream-'))
  cleanups.push(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  try {
    const btc = await useBtcd(cleanups)
    o.say(`stream bench: 1 platform → 1 creator, ${o.items} items …`)
    const one = await streamBench(btc, { platforms: 1, creators: 1, items: o.items, dir: path.join(dir, 'one'), cleanups, ...prof })
    o.say(summary(one))
    const perCreator = Math.ceil(o.items / o.creators)
    o.say(`stream bench: ${o.platforms} platforms → ${o.creators} creators, ${perCreator} items per creator …`)
    const many = await streamBench(btc, {
      platforms: o.platforms, creators: o.creators, items: perCreator, dir: path.join(dir, 'many'), cleanups, ...prof,
    })
    o.say(summary(many))
    return { one_to_one: one, many }
  } finally {
    await cleanups.run()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2)
  const opt = (name: string, d: number): number => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : d }
  const json = argv.includes('--json')
  const say = (s: string): void => { (json ? process.stderr : process.stdout).write(s + '\n') }
  const r = await runStreamBenches({
    items: opt('--items', 200_000), platforms: opt('--platforms', STREAM_BENCH_PLATFORMS),
    creators: opt('--creators', STREAM_BENCH_CREATORS), say,
    ...(argv.includes('--cpu-prof') ? { cpuProf: argv[argv.indexOf('--cpu-prof') + 1]! } : {}),
  })
  if (json) process.stdout.write(JSON.stringify({ streamed_items_per_s: r }) + '\n')
  process.exit(0)
}
