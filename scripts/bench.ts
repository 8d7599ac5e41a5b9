// `npm run bench [-- --json] [-- --quick]`: how fast the hub is, on this machine, with every party
// on it. Starts a regtest btcd, the hub (a child process, tsx hub/main.ts) and client processes (SDK
// HubClients: P platforms in one process, C creators in another), opens and confirms the channels,
// then measures (each figure: median, min and max of --runs runs, at least 3):
//   payments_per_s (+ _trimmed / _untrimmed)  payer → hub → payee payments, P×concurrency in flight
//   latency_ms_p50 / latency_ms_p99           one payment at a time, pay() call to fulfil at the payer
//   hub_rss_bytes_per_channel                 (hub RSS − RSS before any channel) / channels, idle
//   restart_to_serving_s                      SIGKILL the hub, restart, until a payment succeeds
//   split_payments_per_s, split_latency_ms_p50 / _p99   3-way atomic splits (scripts/bench/split.ts)
//   streamed_items_per_s                      stream line items with receipts, 1 → 1 and 4 → 16 (scripts/bench/stream.ts)
// and prints a table; with --json the LAST stdout line is one JSON object. At the end it checks that
// the hub and every client agree on every channel's balances, that nothing is in flight, and that
// balances sum to the capacities; it exits 1 otherwise.
//
//   --quick            1 platform, 2 creators, small runs (smoke test, ~1 min)
//   --runs N           runs per figure (default 3, minimum 3)
//   --platforms P --creators C --concurrency K (payments in flight per platform)
//   --payments N       payments per throughput run (default: sized from a warm-up to last ~--run-seconds)
//   --cpu-prof DIR     profile the hub (V8 CPU profile, as `node --cpu-prof`; written to DIR when it
//                      stops cleanly; read it with scripts/bench/profile-top.ts)
//   --idle-channels N  idle, connected channels for the memory figure and the restart (default 10,000;
//                      --quick 200), opened by the lightweight many-channel client
//                      (scripts/bench/many-channels-worker.ts); hub RSS is read at 0, 1,000 and N
//   --per-node K       idle channels per node id, i.e. per WebSocket connection (default 10)
//   --verbose          client warnings and hub log lines on stderr
// The `settlement` section (scripts/bench/settlement.ts) is computed in-process: payout batches of 10,
// 50 and 100 channels, built and signed, their vbytes against separate splices and close + reopen.
// Without --quick it also runs one batch live (scripts/bench/settlement-live.ts, a btcd, hub and
// clients of its own, several minutes of setup): settlement.window_to_broadcast_ms_N, the time from the
// window-end block to the batch in btcd's mempool for N channels, with its steps (live_N).
//   --settlement-channels N   channels of the live batch (default 100; 0 skips it; --quick: 0)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { useBtcd } from './lib/btcd.ts'
import { Cleanups } from './lib/cleanups.ts'
import { startHub, type HubProcess } from './lib/hub.ts'
import { WorkerProcess, type PayOutcome } from './bench/ipc.ts'
import { cpuSeconds, fsyncMs } from './bench/host.ts'
import { fundHubCoins, openCreatorChannels, openPlatformChannels } from './bench/setup.ts'
import { figure, percentile, table, type Figure } from './bench/stats.ts'
import { settlementFigures } from './bench/settlement.ts'
import { liveSettlement, type LiveSettlementFigure } from './bench/settlement-live.ts'
import { benchSplits } from './bench/split.ts'
import { runStreamBenches, STREAM_BENCH_CREATORS, STREAM_BENCH_PLATFORMS } from './bench/stream.ts'
import {
  checkBalances, freePort, manyChannelHubConfig, openIdleChannels, restartWaiting, steadyRss, startManyChannels, timeRestart,
  type ManyChannels,
} from './bench/idle-channels.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
const flag = (name: string): boolean => argv.includes(name)
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined }
const intOpt = (name: string, dflt: number, min: number, max: number): number => {
  const v = opt(name)
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`${name}: must be an integer in [${min}, ${max}]\n`); process.exit(2)
  }
  return n
}

const JSON_OUT = flag('--json')
const QUICK = flag('--quick')
const VERBOSE = flag('--verbose')
const CPU_PROF = opt('--cpu-prof')
const RUNS = intOpt('--runs', 3, 3, 100)
const PLATFORMS = intOpt('--platforms', QUICK ? 1 : 4, 1, 64)
const CREATORS = intOpt('--creators', QUICK ? 2 : 16, 1, 256)
const CONCURRENCY = intOpt('--concurrency', QUICK ? 8 : 24, 1, 400)
const FIXED_PAYMENTS = opt('--payments') !== undefined ? intOpt('--payments', 0, 1, 1_000_000) : undefined
const RUN_SECONDS = intOpt('--run-seconds', QUICK ? 1 : 5, 1, 600)
const LATENCY_PAYMENTS = intOpt('--latency-payments', QUICK ? 10 : 100, 3, 100_000)
const IDLE_CHANNELS = intOpt('--idle-channels', QUICK ? 200 : 10_000, 0, 100_000)
const PER_NODE = intOpt('--per-node', 10, 1, 100)
const SETTLEMENT_CHANNELS = intOpt('--settlement-channels', QUICK ? 0 : 100, 0, 126)
/** Idle channel counts at which the hub's memory is read (the goal names 1,000 and 10,000). */
const IDLE_COUNTS = [...new Set([1_000, IDLE_CHANNELS].filter(n => n > 0 && n <= IDLE_CHANNELS))]
/** Idle channels are small (a 1% reserve must stay above the dust limit): size does not change their
 *  memory, and the faucet's coins last. */
const IDLE_CHANNEL_SAT = 100_000

/** Channel sizes: the largest BOLT #2 allows without large channels, so runs never run dry. */
const PLATFORM_CAPACITY_SAT = 16_000_000
const HUB_CHANNEL_SAT = 16_000_000
/** Below the dust limit (546 sat): the HTLC is trimmed from the commitments (no output, no HTLC
 *  signature). Above it with room for the HTLC transaction fee at 1000 sat/kw: a real HTLC output. */
const TRIMMED_MSAT = 10_000
const UNTRIMMED_MSAT = 2_000_000

const say = (s: string): void => { (JSON_OUT ? process.stderr : process.stdout).write(s + '\n') }
const cleanups = new Cleanups()

/** Environment that makes the hub profile itself (scripts/bench/cpu-profiler.mjs). */
const profileEnv = (): Record<string, string> => CPU_PROF === undefined ? {} : {
  NODE_OPTIONS: `--import=${path.join(REPO_ROOT, 'scripts/bench/cpu-profiler.mjs')}`, BENCH_CPU_PROF_DIR: path.resolve(CPU_PROF),
}


/** Spreads `n` over `k` buckets as evenly as possible. */
const spread = (n: number, k: number): number[] => Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0))

interface Parties {
  hub: HubProcess; platforms: WorkerProcess; creators: WorkerProcess; idle: WorkerProcess[]; btcdPid: () => number | null
}

/** CPU seconds used by each process while `fn` ran, and the wall time. */
async function cpuDuring<T> (p: Parties, fn: () => Promise<T>): Promise<{ value: T; wallS: number; cpu: Record<string, number> }> {
  const pids = { hub: p.hub.pid, platforms: p.platforms.pid, creators: p.creators.pid, btcd: p.btcdPid() }
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]))
  const t0 = performance.now()
  const value = await fn()
  const wallS = (performance.now() - t0) / 1000
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) - before[k]!]))
  return { value, wallS, cpu }
}

/** CPU shares (cores used) per process over the measured throughput runs, and the payments they made. */
const cpuUse: Record<string, { cpuS: number; wallS: number }> = {}
let cpuUsePayments = 0

/** Creates `n` invoices of `amountMsat` spread over the creators, interleaved, and deals them out
 *  to the platforms round-robin (so every platform pays every creator). */
async function invoicesFor (p: Parties, n: number, amountMsat: number): Promise<string[][]> {
  const perCreator = await p.creators.call<string[][]>('invoices', { perClient: spread(n, CREATORS), amountMsat })
  const flat: string[] = []
  for (let k = 0; flat.length < n; k++) for (const list of perCreator) if (list[k] !== undefined) flat.push(list[k]!)
  const perPlatform: string[][] = Array.from({ length: PLATFORMS }, () => [])
  flat.forEach((inv, i) => perPlatform[i % PLATFORMS]!.push(inv))
  return perPlatform
}

type PayReply = PayOutcome & { elapsedMs: number }
const totals = { ok: 0, failed: 0, amountMsat: 0, feeMsat: 0, failures: {} as Record<string, number> }
function account (r: PayOutcome): void {
  totals.ok += r.ok; totals.failed += r.failed; totals.amountMsat += r.amountMsat; totals.feeMsat += r.feeMsat
  for (const [k, v] of Object.entries(r.failures)) totals.failures[k] = (totals.failures[k] ?? 0) + v
}

/** One throughput run: `n` payments of `amountMsat`, all platforms at once. */
async function throughputRun (p: Parties, n: number, amountMsat: number): Promise<{ rate: number; reply: PayReply }> {
  const perPlatform = await invoicesFor(p, n, amountMsat)
  const { value: reply, wallS, cpu } = await cpuDuring(
    p, () => p.platforms.call<PayReply>('pay', { perClient: perPlatform, concurrency: CONCURRENCY }),
  )
  for (const [k, v] of Object.entries(cpu)) { const u = cpuUse[k] ??= { cpuS: 0, wallS: 0 }; u.cpuS += v; u.wallS += wallS }
  cpuUsePayments += reply.ok
  account(reply)
  if (reply.failed > 0) say(`  ${reply.failed} payments failed: ${JSON.stringify(reply.failures)}`)
  return { rate: reply.ok / (reply.elapsedMs / 1000), reply }
}

async function throughput (p: Parties, amountMsat: number, label: string): Promise<Figure> {
  let n = FIXED_PAYMENTS
  if (n === undefined) {
    // Warm-up (not counted): sizes the runs to last about RUN_SECONDS each.
    const warm = await throughputRun(p, Math.max(20, PLATFORMS * CONCURRENCY), amountMsat)
    n = Math.max(20, Math.min(50_000, Math.round(warm.rate * RUN_SECONDS)))
    say(`  ${label}: warm-up ${warm.rate.toFixed(1)} payments/s → ${n} payments per run`)
  }
  const rates: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const { rate, reply } = await throughputRun(p, n, amountMsat)
    say(`  ${label} run ${r + 1}: ${reply.ok} payments in ${(reply.elapsedMs / 1000).toFixed(2)} s = ${rate.toFixed(1)}/s (p50 ` +
      `${percentile(reply.latenciesMs.length > 0 ? reply.latenciesMs : [0], 50).toFixed(1)} ms under load)`)
    rates.push(rate)
  }
  return figure(rates)
}

async function latency (p: Parties): Promise<{ p50: Figure; p99: Figure }> {
  const p50: number[] = []
  const p99: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const perPlatform = await invoicesFor(p, LATENCY_PAYMENTS, UNTRIMMED_MSAT)
    const one = [perPlatform.flat()]
    const reply = await p.platforms.call<PayReply>('pay', { perClient: one, concurrency: 1 })
    account(reply)
    if (reply.latenciesMs.length === 0) throw new Error('latency run: no payment succeeded')
    p50.push(percentile(reply.latenciesMs, 50))
    p99.push(percentile(reply.latenciesMs, 99))
    say(`  latency run ${r + 1}: ${reply.ok} payments, p50 ${p50.at(-1)!.toFixed(2)} ms, p99 ${p99.at(-1)!.toFixed(2)} ms`)
  }
  return { p50: figure(p50), p99: figure(p99) }
}

async function restartToServing (p: Parties): Promise<{
  f: Figure; servingS: Figure; listeningS: Figure; reestablishedS: Figure; stages: string[]
}> {
  const stagesSeen: string[] = []
  const total: number[] = []
  const listening: number[] = []
  const serving: number[] = []
  const reestablished: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const invoices = (await invoicesFor(p, 600, UNTRIMMED_MSAT)).flat()
    const t = await timeRestart(p.hub, p.platforms, p.idle, invoices, profileEnv(), VERBOSE ? say : undefined)
    stagesSeen.push(t.stages)
    say(`    hub lines since the kill: ${t.stages}`)
    total.push(t.paymentS)
    listening.push(t.listeningS)
    serving.push(t.servingS)
    reestablished.push(t.reestablishedS)
    say(`  restart run ${r + 1}: serving after ${t.servingS.toFixed(2)} s, listening line ${t.listeningS.toFixed(2)} s, idle channels ` +
      `reestablished after ${t.reestablishedS.toFixed(2)} s, first payment after ${t.paymentS.toFixed(2)} s (${t.attempts} attempt(s))`)
    // Let every channel reestablish before the next run.
    await Promise.all([p.platforms, p.creators, ...p.idle].map(w => w.call('untilReestablished')))
  }
  return {
    f: figure(total), servingS: figure(serving), listeningS: figure(listening), reestablishedS: figure(reestablished), stages: stagesSeen,
  }
}

function machine (hub: HubProcess, dataDir: string): Record<string, unknown> {
  const cpus = os.cpus()
  const fsync = fsyncMs(dataDir)
  const curveLine = hub.lines.find(l => l.event === 'curve')
  return {
    cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memory_bytes: os.totalmem(), os: `${os.type()} ${os.release()}`,
    node: process.version, fsync_ms_p50: fsync.p50, fsync_ms_p99: fsync.p99,
    hub_curve: typeof curveLine?.name === 'string' ? curveLine.name : 'noble (default)', client_curve: 'tiny',
  }
}

async function main (): Promise<void> {
  const started = new Date()
  const dataDir = path.join(REPO_ROOT, '.data', `bench-${started.toISOString().replace(/[:.]/g, '-')}`)
  fs.mkdirSync(dataDir, { recursive: true })
  if (CPU_PROF !== undefined) fs.mkdirSync(CPU_PROF, { recursive: true })
  say(`bench: ${PLATFORMS} platforms, ${CREATORS} creators, ${CONCURRENCY} in flight per platform, ${RUNS} runs per figure; data in ` +
    `${path.relative(REPO_ROOT, dataDir)}`)
  cleanups.push(() => { fs.rmSync(dataDir, { recursive: true, force: true }) })

  const btc = await useBtcd(cleanups, { dataDir: path.join(dataDir, 'btcd') })
  // Many idle channels from one address, K per node id: the hub's per-address and unfunded-channel
  // limits raised through its config; a fixed admin port so its URL survives restarts.
  const many = manyChannelHubConfig(PER_NODE, await freePort())
  const hub = await startHub({
    dataDir: path.join(dataDir, 'hub'), btcd: btc.node.rpc, verbose: VERBOSE,
    config: { ...many, channels: { ...(many.channels as object), fundingSat: HUB_CHANNEL_SAT }, router: { holdMs: 60_000 } },
    env: profileEnv(),
  }, cleanups)
  say(`hub ${hub.hubId.slice(0, 16)}… on ${hub.url} (pid ${hub.pid})`)
  await fundHubCoins(btc, hub, CREATORS, HUB_CHANNEL_SAT + 200_000)

  const init = (role: 'platform' | 'creator', count: number) => ({
    role, count, hubUrl: hub.url, hubId: hub.hubId, dataDir: path.join(dataDir, `${role}s`),
    btcd: { host: btc.node.rpc.host, port: btc.node.rpc.port, user: btc.node.rpc.user, pass: btc.node.rpc.pass }, verbose: VERBOSE,
  })
  const platforms = new WorkerProcess('platforms', VERBOSE)
  const creators = new WorkerProcess('creators', VERBOSE)
  cleanups.push(() => platforms.stop(), () => creators.stop())
  await Promise.all([platforms.call('init', init('platform', PLATFORMS)), creators.call('init', init('creator', CREATORS))])
  const p: Parties = { hub, platforms, creators, idle: [], btcdPid: () => btc.node.pid }

  say('opening channels …')
  await openPlatformChannels(btc, platforms, PLATFORM_CAPACITY_SAT)
  await openCreatorChannels(btc, creators)
  const channels = PLATFORMS + CREATORS
  say(`${channels} channels open`)

  // Memory first, on a hub that has only opened channels: after the load phases its heap holds
  // garbage the GC returns at its own pace, which swamps a per-channel difference.
  say('hub memory (idle, connected) …')
  const rss0 = await steadyRss(hub.pid)
  say(`  hub RSS with no idle channel: ${(rss0.bytes / 1e6).toFixed(1)} MB`)
  const memAt: Record<string, Record<string, unknown>> = {}
  let perChannel: Figure | undefined
  let idle: ManyChannels | undefined
  let channelsNow = channels
  if (IDLE_CHANNELS > 0) {
    idle = await startManyChannels(hub, VERBOSE)
    cleanups.push(() => idle!.worker.stop())
    p.idle.push(idle.worker)
    let have = 0
    for (const target of IDLE_COUNTS) {
      say(`  opening ${target - have} idle channels (to ${target}, ${PER_NODE} per node id) …`)
      const r = await openIdleChannels(btc, hub, idle, { n: target - have, perNode: PER_NODE, capacitySat: IDLE_CHANNEL_SAT, say })
      have = target
      const rss = await steadyRss(hub.pid)
      perChannel = figure(rss.window.map(b => (b - rss0.bytes) / r.normal))
      memAt[String(target)] = {
        hub_rss_bytes_per_channel: perChannel, channels_open: r.normal, hub_rss_bytes: rss.bytes, rss_samples: rss.samples,
        per_node: PER_NODE,
        open_s: r.wallS, open_cpu_s: r.cpuS, batches: r.batches.length,
      }
      say(
        `  ${target} idle channels open in ${r.wallS.toFixed(1)} s (CPU s: hub ${r.cpuS.hub.toFixed(1)}, client ` +
        `${r.cpuS.worker.toFixed(1)}, btcd ${r.cpuS.btcd.toFixed(1)}); hub RSS ${(rss.bytes / 1e6).toFixed(1)} MB → ` +
        `${(perChannel.median / 1024).toFixed(1)} KiB per channel`
      )
    }
    channelsNow = channels + IDLE_CHANNELS
  }
  const memoryHow = `(hub RSS, once steady, with N idle connected channels − hub RSS with none) / N; ${PER_NODE} channels per ` +
    `node id (connection)`

  say('throughput …')
  const trimmed = await throughput(p, TRIMMED_MSAT, `below dust (${TRIMMED_MSAT} msat)`)
  const untrimmed = await throughput(p, UNTRIMMED_MSAT, `above dust (${UNTRIMMED_MSAT} msat)`)
  say('latency …')
  const lat = await latency(p)

  if (CPU_PROF !== undefined) {
    // A SIGKILLed process writes no profile: stop the hub cleanly once, so the load phase's profile
    // lands in CPU_PROF, and carry on with a fresh one.
    await hub.stop()
    await restartWaiting(hub, profileEnv())
    await Promise.all([platforms, creators, ...p.idle].map(w => w.call('untilReestablished')))
    say(`hub profile (load phase) written to ${CPU_PROF}`)
  }

  say('restart …')
  const restart = await restartToServing(p)
  // The same idle channels in a fresh hub process (loaded, reconnected, reestablished): no
  // high-water mark left from opening them or from the load phases.
  let afterRestart: Record<string, unknown> | undefined
  if (IDLE_CHANNELS > 0) {
    const rss = await steadyRss(hub.pid)
    afterRestart = {
      channels: IDLE_CHANNELS, hub_rss_bytes: rss.bytes, hub_rss_bytes_per_channel: (rss.bytes - rss0.bytes) / IDLE_CHANNELS,
      note: `after ${RUNS} restarts and the load phases; platforms and creators connected too`,
    }
    say(`  after the restarts: hub RSS ${(rss.bytes / 1e6).toFixed(1)} MB → ` +
      `${((rss.bytes - rss0.bytes) / IDLE_CHANNELS / 1024).toFixed(1)} KiB per idle channel`)
  }

  say('checking balances …')
  const { problems } = await checkBalances(hub, [platforms, creators, ...p.idle])

  // After the balance check above, which covers the workers' channels: the split parties have their own.
  say('splits …')
  const splits = await benchSplits({
    btc, hub, dataDir, runs: RUNS, runSeconds: RUN_SECONDS, latencySplits: QUICK ? 5 : 30, concurrency: QUICK ? 4 : 8, say, cleanups,
    hubChannelSat: HUB_CHANNEL_SAT,
  })

  const out = {
    date: started.toISOString(),
    machine: machine(hub, dataDir),
    cpu_cores_used_under_load: Object.fromEntries(Object.entries(cpuUse).map(([k, u]) => [k, u.wallS === 0 ? 0 : u.cpuS / u.wallS])),
    // CPU time per payment: what a loaded machine moves much less than payments/s.
    cpu_ms_per_payment_under_load: Object.fromEntries(Object.entries(cpuUse).map(([k, u]) => [
      k, cpuUsePayments === 0 ? 0 : Math.round((u.cpuS * 1000 / cpuUsePayments) * 100) / 100,
    ])),
    config: {
      platforms: PLATFORMS, creators: CREATORS, concurrency_per_platform: CONCURRENCY, runs: RUNS, quick: QUICK,
      trimmed_amount_msat: TRIMMED_MSAT, untrimmed_amount_msat: UNTRIMMED_MSAT, latency_payments_per_run: LATENCY_PAYMENTS,
      sync_writes: true,
    },
    payments_per_s: figure([...trimmed.runs, ...untrimmed.runs]),
    payments_per_s_trimmed: trimmed,
    payments_per_s_untrimmed: untrimmed,
    latency_ms_p50: lat.p50,
    latency_ms_p99: lat.p99,
    split_payments_per_s: splits.perS,
    split_latency_ms_p50: splits.p50,
    split_latency_ms_p99: splits.p99,
    splits: { succeeded: splits.succeeded, failed: splits.failed, balances_ok: splits.balancesOk, recipients: 3 },
    hub_rss_bytes_per_channel: perChannel === undefined ? null : {
      ...perChannel, channels: IDLE_CHANNELS, per_node: PER_NODE, how: memoryHow, hub_rss_bytes_no_idle_channels: rss0.bytes, at: memAt,
      after_restart: afterRestart,
      note: 'idle channels from the lightweight many-channel client (real auth, channel machine and funding; client state in memory, the ' +
        'client never restarts)',
    },
    restart_to_serving_s: {
      ...restart.f, channels: channelsNow, serving_s: restart.servingS, listening_s: restart.listeningS,
      idle_reestablished_s: restart.reestablishedS, hub_lines_per_run: restart.stages,
    },
    payments: {
      succeeded: totals.ok, failed: totals.failed, failures: totals.failures, amount_msat: totals.amountMsat, hub_fees_msat: totals.feeMsat,
    },
    balances_ok: problems.length === 0,
    balance_problems: problems.slice(0, 20),
    settlement: settlementFigures(),
  }

  say('')
  say(table([
    { name: 'payments_per_s', f: out.payments_per_s, unit: '/s', digits: 1, note: 'all throughput runs' },
    { name: 'payments_per_s_trimmed', f: trimmed, unit: '/s', digits: 1, note: `${TRIMMED_MSAT} msat, below dust` },
    { name: 'payments_per_s_untrimmed', f: untrimmed, unit: '/s', digits: 1, note: `${UNTRIMMED_MSAT} msat, above dust` },
    { name: 'latency_ms_p50', f: lat.p50, unit: 'ms', digits: 2, note: 'one at a time' },
    { name: 'latency_ms_p99', f: lat.p99, unit: 'ms', digits: 2 },
    { name: 'split_payments_per_s', f: splits.perS, unit: '/s', digits: 1, note: '3-way splits, all or nothing' },
    { name: 'split_latency_ms_p50', f: splits.p50, unit: 'ms', digits: 1, note: 'one 3-way split at a time' },
    { name: 'split_latency_ms_p99', f: splits.p99, unit: 'ms', digits: 1 },
    ...Object.entries(memAt).map(([n, m]) => ({
      name: 'hub_rss_bytes_per_channel', f: m.hub_rss_bytes_per_channel as Figure, unit: 'B', digits: 0,
      note: `at ${n} idle channels, ${PER_NODE} per connection`,
    })),
    { name: 'restart_to_serving_s', f: restart.f, unit: 's', digits: 2, note: `${channelsNow} channels; serving after ` +
      `${restart.servingS.median.toFixed(2)} s, idle reestablished after ${restart.reestablishedS.median.toFixed(2)} s` },
  ]))
  const m = out.machine
  say(`machine: ${String(m.cpu)}, ${String(m.cores)} cores, Node ${String(m.node)}, hub curve ${String(m.hub_curve)}, client curve ` +
    `${String(m.client_curve)}`)
  say(`disk: one synced write p50 ${Number(m.fsync_ms_p50).toFixed(2)} ms, p99 ${Number(m.fsync_ms_p99).toFixed(2)} ms`)
  say(`cores used during the throughput runs: ` +
    `${Object.entries(out.cpu_cores_used_under_load).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')} (of ${String(m.cores)})`)
  say(`CPU ms per payment during the throughput runs: ` +
    `${Object.entries(out.cpu_ms_per_payment_under_load).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`)
  say(`payments: ${totals.ok} succeeded, ${totals.failed} failed`)
  for (const [n, f] of Object.entries(out.settlement)) if (typeof f === 'object') {
    say(`settlement batch of ${n}: ${f.vbytes} vB (sum of parts ${f.sum_of_parts_vbytes}, separate splices ${f.separate_splices_vbytes}, ` +
      `close + reopen ${f.close_reopen_vbytes})`)
  }
  say(
    problems.length === 0
      ? 'balances: hub and clients agree on every channel, nothing in flight, every channel sums to its capacity'
      : `BALANCES WRONG:\n  ${problems.join('\n  ')}`
  )
  // Streams (scripts/bench/stream.ts): on a btcd and hub of their own, after the figures above.
  const streamed = await runStreamBenches({
    items: QUICK ? 20_000 : 200_000, platforms: STREAM_BENCH_PLATFORMS, creators: STREAM_BENCH_CREATORS, say,
  })
  say(`streamed_items_per_s: 1 → 1 ${streamed.one_to_one.items_per_s.toFixed(0)}/s, ${STREAM_BENCH_PLATFORMS} → ${STREAM_BENCH_CREATORS} ` +
    `${streamed.many.items_per_s.toFixed(0)}/s (every item with its receipt)`)
  // One batch live (scripts/bench/settlement-live.ts): on a btcd and hub of its own, after the rest.
  let live: LiveSettlementFigure | undefined
  if (SETTLEMENT_CHANNELS > 0) {
    say(`settlement, live: ${SETTLEMENT_CHANNELS} channels …`)
    live = await liveSettlement({ channels: SETTLEMENT_CHANNELS, say, dataDir: path.join(dataDir, 'settlement-live') })
    const b = live.breakdown_ms
    say(`settlement live: window end to the batch in the mempool ${(live.window_to_broadcast_ms / 1000).toFixed(2)} s for ` +
      `${live.channels_in_batch} of ${live.channels} channels (${live.tx_vbytes} vB, round ${live.round}); started ` +
      `${String(b.started)} ms, every session complete ${String(b.complete)} ms, every peer signed ${String(b.signed)} ms, ` +
      `seen in the mempool ${String(b.mempool_seen)} ms, hub broadcast line ${String(b.hub_broadcast)} ms; ` +
      `CPU s ${Object.entries(live.cpu_s).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  }
  const n = SETTLEMENT_CHANNELS
  const settlement = live === undefined ? out.settlement : {
    ...out.settlement, [`window_to_broadcast_ms_${n}`]: live.window_to_broadcast_ms, [`live_${n}`]: live,
  }
  if (JSON_OUT) process.stdout.write(JSON.stringify({ ...out, settlement, streamed_items_per_s: streamed }) + '\n')
  if (problems.length > 0 || totals.failed > 0 || splits.failed > 0 || !splits.balancesOk) process.exitCode = 1
}

// Ctrl-C (or a SIGTERM) stops the child processes (btcd, hub, clients) before exiting.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void cleanups.run().finally(() => process.exit(130)) })

main().then(() => cleanups.run(), async e => {
  process.stderr.write(`\nbench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  await cleanups.run()
  process.exitCode = 1
})
