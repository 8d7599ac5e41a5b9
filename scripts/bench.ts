// `npm run bench [-- --json] [-- --quick]`: how fast the hub is, on this machine, with every party
// on it. Starts a regtest btcd, the hub (a child process, tsx hub/main.ts) and client processes (SDK
// HubClients: P platforms in one process, C creators in another), opens and confirms the channels,
// then measures (each figure: median, min and max of --runs runs, at least 3):
//   payments_per_s (+ _trimmed / _untrimmed)  payer → hub → payee payments, P×concurrency in flight
//   latency_ms_p50 / latency_ms_p99           one payment at a time, pay() call to fulfil at the payer
//   hub_rss_bytes_per_channel                 (hub RSS − RSS before any channel) / channels, idle
//   restart_to_serving_s                      SIGKILL the hub, restart, until a payment succeeds
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
//   --idle-channels N  extra idle, connected channels (SDK clients, 100 per process) for the memory
//                      figure and the restart (default 200; --quick 4)
//   --verbose          client warnings and hub log lines on stderr
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { useBtcd } from '../test/helpers/btcd.ts'
import { startHub, type HubProcess } from '../test/helpers/hub.ts'
import { WorkerProcess, type PayOutcome } from './bench/ipc.ts'
import { cpuSeconds, fsyncMs, rssBytes } from './bench/host.ts'
import { fundHubCoins, openCreatorChannels, openPlatformChannels } from './bench/setup.ts'
import { balanceProblems, figure, percentile, table, type ChannelView, type Figure } from './bench/stats.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
const flag = (name: string): boolean => argv.includes(name)
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined }
const intOpt = (name: string, dflt: number, min: number, max: number): number => {
  const v = opt(name)
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) { process.stderr.write(`${name}: must be an integer in [${min}, ${max}]\n`); process.exit(2) }
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
const IDLE_CHANNELS = intOpt('--idle-channels', QUICK ? 4 : 200, 0, 20_000)
/** Idle SDK clients per client process (each has its own LevelDB store and wallet). */
const IDLE_PER_PROCESS = 100
/** Idle channels are small (a 1% reserve must stay above the 546 sat dust limit): size does not change
 *  their memory, and the faucet's coins last. */
const IDLE_CHANNEL_SAT = 100_000

/** Channel sizes: the largest BOLT #2 allows without large channels, so runs never run dry. */
const PLATFORM_CAPACITY_SAT = 16_000_000
const HUB_CHANNEL_SAT = 16_000_000
/** Below the dust limit (546 sat): the HTLC is trimmed from the commitments (no output, no HTLC
 *  signature). Above it with room for the HTLC transaction fee at 1000 sat/kw: a real HTLC output. */
const TRIMMED_MSAT = 10_000
const UNTRIMMED_MSAT = 2_000_000

const say = (s: string): void => { (JSON_OUT ? process.stderr : process.stdout).write(s + '\n') }
const cleanups: Array<() => Promise<void> | void> = []
const teardown = { teardown: (fn: () => Promise<void> | void) => { cleanups.push(fn) } }

/** Environment that makes the hub profile itself (scripts/bench/cpu-profiler.mjs). */
const profileEnv = (): Record<string, string> => CPU_PROF === undefined ? {} : {
  NODE_OPTIONS: `--import=${path.join(REPO_ROOT, 'scripts/bench/cpu-profiler.mjs')}`, BENCH_CPU_PROF_DIR: path.resolve(CPU_PROF),
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Spreads `n` over `k` buckets as evenly as possible. */
const spread = (n: number, k: number): number[] => Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0))

interface Parties { hub: HubProcess; platforms: WorkerProcess; creators: WorkerProcess; idle: WorkerProcess[]; btcdPid: () => number | null }

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

/** CPU shares (cores used) per process over the measured throughput runs. */
const cpuUse: Record<string, { cpuS: number; wallS: number }> = {}

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
  const { value: reply, wallS, cpu } = await cpuDuring(p, () => p.platforms.call<PayReply>('pay', { perClient: perPlatform, concurrency: CONCURRENCY }))
  for (const [k, v] of Object.entries(cpu)) { const u = cpuUse[k] ??= { cpuS: 0, wallS: 0 }; u.cpuS += v; u.wallS += wallS }
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
    say(`  ${label} run ${r + 1}: ${reply.ok} payments in ${(reply.elapsedMs / 1000).toFixed(2)} s = ${rate.toFixed(1)}/s (p50 ${percentile(reply.latenciesMs.length > 0 ? reply.latenciesMs : [0], 50).toFixed(1)} ms under load)`)
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

async function restartToServing (p: Parties): Promise<{ f: Figure; listeningS: Figure; stages: string[] }> {
  const stagesSeen: string[] = []
  const total: number[] = []
  const listening: number[] = []
  for (let r = 0; r < RUNS; r++) {
    const invoices = (await invoicesFor(p, 200, UNTRIMMED_MSAT)).flat()
    const t0 = performance.now()
    // When each of the restarted hub's log lines arrived (startup stages), for the breakdown.
    const stages: Array<{ name: string; n: number; first: string; last: string }> = []
    const oldLines = p.hub.lines // the killed process's lines (a restart starts a new array)
    let seenArr: unknown[] | undefined
    let seen = 0
    const watch = setInterval(() => {
      const ls = p.hub.lines
      if (ls === oldLines) return
      if (ls !== seenArr) { seenArr = ls; seen = 0 }
      for (; seen < ls.length; seen++) {
        const l = ls[seen]!
        if (l.event === 'recv') continue
        const name = `${String(l.event)}${typeof l.stage === 'string' ? `:${l.stage}` : ''}`
        const at = ((performance.now() - t0) / 1000).toFixed(2)
        // Runs of the same line (one per channel) collapse into "name ×n first–last".
        const last = stages.at(-1)
        if (last !== undefined && last.name === name) { last.n++; last.last = at } else stages.push({ name, n: 1, first: at, last: at })
      }
    }, 5)
    await p.hub.kill()
    await p.hub.restart(profileEnv())
    const t1 = performance.now()
    const res = await p.platforms.call<{ attempts: number }>('payUntilOk', { invoices })
    const t2 = performance.now()
    clearInterval(watch)
    const stageText = stages.map(x => x.n === 1 ? `${x.name} ${x.first}s` : `${x.name} ×${x.n} ${x.first}–${x.last}s`).join(', ')
    stagesSeen.push(stageText)
    say(`    hub lines since the kill: ${stageText}`)
    if (res.attempts < 0) throw new Error('restart: no payment succeeded after the restart')
    total.push((t2 - t0) / 1000)
    listening.push((t1 - t0) / 1000)
    say(`  restart run ${r + 1}: listening after ${((t1 - t0) / 1000).toFixed(2)} s, first payment after ${((t2 - t0) / 1000).toFixed(2)} s (${res.attempts} attempt(s))`)
    // Let every channel reestablish before the next run.
    await Promise.all([p.platforms, p.creators, ...p.idle].map(w => w.call('untilReestablished')))
  }
  return { f: figure(total), listeningS: figure(listening), stages: stagesSeen }
}

/** The hub's and the clients' views of every channel, once nothing is in flight (or after 60 s). */
async function checkBalances (p: Parties): Promise<string[]> {
  let problems: string[] = ['not checked']
  const deadline = Date.now() + 60_000
  while (problems.length > 0 && Date.now() < deadline) {
    const hubChannels = await (await fetch(`${String(p.hub.info.rpc)}/channels`)).json() as Array<{ channel_id: string; capacity_sat: number; local_msat: number | null; remote_msat: number | null; htlcs: number; phase: string }>
    type Side = Array<{ channels: Array<{ channelId: string; capacitySat: number; localMsat: number; remoteMsat: number; inFlightMsat: number }> }>
    const clientSides = (await Promise.all([p.platforms, p.creators, ...p.idle].map(w => w.call<Side>('balances')))).flat()
    const clientById = new Map(clientSides.flatMap(c => c.channels).map(c => [c.channelId, c]))
    const views: ChannelView[] = []
    for (const h of hubChannels) {
      const c = clientById.get(h.channel_id)
      clientById.delete(h.channel_id)
      views.push({
        channelId: h.channel_id, capacitySat: h.capacity_sat,
        hub: h.local_msat === null || h.remote_msat === null ? undefined : { localMsat: h.local_msat, remoteMsat: h.remote_msat, htlcs: h.htlcs },
        client: c === undefined ? undefined : { localMsat: c.localMsat, remoteMsat: c.remoteMsat, inFlightMsat: c.inFlightMsat },
      })
    }
    for (const c of clientById.values()) views.push({ channelId: c.channelId, capacitySat: c.capacitySat, hub: undefined, client: c })
    problems = balanceProblems(views)
    if (problems.length > 0) await sleep(250)
  }
  return problems
}

function machine (hub: HubProcess, dataDir: string): Record<string, unknown> {
  const cpus = os.cpus()
  const fsync = fsyncMs(dataDir)
  const curveLine = hub.lines.find(l => l.event === 'curve')
  return {
    cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memory_bytes: os.totalmem(), os: `${os.type()} ${os.release()}`,
    node: process.version, fsync_ms_p50: fsync.p50, fsync_ms_p99: fsync.p99, hub_curve: typeof curveLine?.name === 'string' ? curveLine.name : 'noble (default)', client_curve: 'tiny',
  }
}

async function main (): Promise<void> {
  const started = new Date()
  const dataDir = path.join(REPO_ROOT, '.data', `bench-${started.toISOString().replace(/[:.]/g, '-')}`)
  fs.mkdirSync(dataDir, { recursive: true })
  if (CPU_PROF !== undefined) fs.mkdirSync(CPU_PROF, { recursive: true })
  say(`bench: ${PLATFORMS} platforms, ${CREATORS} creators, ${CONCURRENCY} in flight per platform, ${RUNS} runs per figure; data in ${path.relative(REPO_ROOT, dataDir)}`)
  cleanups.push(() => { fs.rmSync(dataDir, { recursive: true, force: true }) })

  const btc = await useBtcd(teardown, { dataDir: path.join(dataDir, 'btcd') })
  const hub = await startHub({
    dataDir: path.join(dataDir, 'hub'), btcd: btc.node.rpc, verbose: VERBOSE,
    config: { channels: { fundingSat: HUB_CHANNEL_SAT }, router: { holdMs: 60_000 } },
    env: profileEnv(),
  }, teardown)
  say(`hub ${hub.hubId.slice(0, 16)}… on ${hub.url} (pid ${hub.pid})`)
  await fundHubCoins(btc, hub, CREATORS, HUB_CHANNEL_SAT + 200_000)
  await sleep(500)
  const rssBefore = rssBytes(hub.pid)

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
  const rssSample = async (): Promise<number[]> => { const xs: number[] = []; for (let r = 0; r < RUNS; r++) { await sleep(1_000); xs.push(rssBytes(hub.pid)) } return xs }
  let channelsNow = channels
  if (IDLE_CHANNELS > 0) {
    const groups = spread(IDLE_CHANNELS, Math.ceil(IDLE_CHANNELS / IDLE_PER_PROCESS))
    say(`  opening ${IDLE_CHANNELS} idle channels (${groups.length} client processes) …`)
    await fundHubCoins(btc, hub, IDLE_CHANNELS, IDLE_CHANNEL_SAT + 20_000)
    const workers = groups.map((_, i) => new WorkerProcess(`idle-${i}`, VERBOSE))
    for (const w of workers) cleanups.push(() => w.stop())
    p.idle.push(...workers)
    await Promise.all(workers.map((w, i) => w.call('init', { ...init('creator', groups[i]!), dataDir: path.join(dataDir, `idle-${i}`) })))
    for (const w of workers) await openCreatorChannels(btc, w, { capacitySat: IDLE_CHANNEL_SAT, batch: 25 })
    channelsNow = channels + IDLE_CHANNELS
    say(`  ${channelsNow} channels open`)
  }
  const rssAfter = await rssSample()
  const perChannel = figure(rssAfter.map(b => (b - rssBefore) / channelsNow))
  const memoryHow = `(hub RSS with ${channelsNow} idle connected channels − hub RSS before any channel) / ${channelsNow}`

  say('throughput …')
  const trimmed = await throughput(p, TRIMMED_MSAT, `below dust (${TRIMMED_MSAT} msat)`)
  const untrimmed = await throughput(p, UNTRIMMED_MSAT, `above dust (${UNTRIMMED_MSAT} msat)`)
  say('latency …')
  const lat = await latency(p)

  if (CPU_PROF !== undefined) {
    // A SIGKILLed process writes no profile: stop the hub cleanly once, so the load phase's profile
    // lands in CPU_PROF, and carry on with a fresh one.
    await hub.stop()
    await hub.restart(profileEnv())
    await Promise.all([platforms, creators, ...p.idle].map(w => w.call('untilReestablished')))
    say(`hub profile (load phase) written to ${CPU_PROF}`)
  }

  say('restart …')
  const restart = await restartToServing(p)

  say('checking balances …')
  const problems = await checkBalances(p)

  const out = {
    date: started.toISOString(),
    machine: machine(hub, dataDir),
    cpu_cores_used_under_load: Object.fromEntries(Object.entries(cpuUse).map(([k, u]) => [k, u.wallS === 0 ? 0 : u.cpuS / u.wallS])),
    config: {
      platforms: PLATFORMS, creators: CREATORS, concurrency_per_platform: CONCURRENCY, runs: RUNS, quick: QUICK,
      trimmed_amount_msat: TRIMMED_MSAT, untrimmed_amount_msat: UNTRIMMED_MSAT, latency_payments_per_run: LATENCY_PAYMENTS, sync_writes: true,
    },
    payments_per_s: figure([...trimmed.runs, ...untrimmed.runs]),
    payments_per_s_trimmed: trimmed,
    payments_per_s_untrimmed: untrimmed,
    latency_ms_p50: lat.p50,
    latency_ms_p99: lat.p99,
    hub_rss_bytes_per_channel: {
      ...perChannel, channels: channelsNow, how: memoryHow, hub_rss_bytes: figure(rssAfter), hub_rss_bytes_before_channels: rssBefore, targets: [1_000, 10_000], reached: channelsNow,
      note: `measured at ${channelsNow} channels, each an SDK client with its own LevelDB store and wallet (${IDLE_PER_PROCESS} per process); 1,000 and 10,000 were not reached: the bench has no lightweight many-node-ids client yet`,
    },
    restart_to_serving_s: { ...restart.f, channels: channelsNow, listening_s: restart.listeningS, hub_lines_per_run: restart.stages },
    payments: { succeeded: totals.ok, failed: totals.failed, failures: totals.failures, amount_msat: totals.amountMsat, hub_fees_msat: totals.feeMsat },
    balances_ok: problems.length === 0,
    balance_problems: problems.slice(0, 20),
  }

  say('')
  say(table([
    { name: 'payments_per_s', f: out.payments_per_s, unit: '/s', digits: 1, note: 'all throughput runs' },
    { name: 'payments_per_s_trimmed', f: trimmed, unit: '/s', digits: 1, note: `${TRIMMED_MSAT} msat, below dust` },
    { name: 'payments_per_s_untrimmed', f: untrimmed, unit: '/s', digits: 1, note: `${UNTRIMMED_MSAT} msat, above dust` },
    { name: 'latency_ms_p50', f: lat.p50, unit: 'ms', digits: 2, note: 'one at a time' },
    { name: 'latency_ms_p99', f: lat.p99, unit: 'ms', digits: 2 },
    { name: 'hub_rss_bytes_per_channel', f: perChannel, unit: 'B', digits: 0, note: `at ${channelsNow} channels (1,000 / 10,000 not reached)` },
    { name: 'restart_to_serving_s', f: restart.f, unit: 's', digits: 2, note: `${channelsNow} channels; listening after ${restart.listeningS.median.toFixed(2)} s` },
  ]))
  const m = out.machine
  say(`machine: ${String(m.cpu)}, ${String(m.cores)} cores, Node ${String(m.node)}, hub curve ${String(m.hub_curve)}, client curve ${String(m.client_curve)}`)
  say(`disk: one synced write p50 ${Number(m.fsync_ms_p50).toFixed(2)} ms, p99 ${Number(m.fsync_ms_p99).toFixed(2)} ms`)
  say(`cores used during the throughput runs: ${Object.entries(out.cpu_cores_used_under_load).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')} (of ${String(m.cores)})`)
  say(`payments: ${totals.ok} succeeded, ${totals.failed} failed`)
  say(problems.length === 0 ? 'balances: hub and clients agree on every channel, nothing in flight, every channel sums to its capacity' : `BALANCES WRONG:\n  ${problems.join('\n  ')}`)
  if (JSON_OUT) process.stdout.write(JSON.stringify(out) + '\n')
  if (problems.length > 0 || totals.failed > 0) process.exitCode = 1
}

async function cleanup (): Promise<void> {
  for (const fn of cleanups.reverse()) { try { await fn() } catch { /* best effort */ } }
}

// Ctrl-C (or a SIGTERM) stops the child processes (btcd, hub, clients) before exiting.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void cleanup().finally(() => process.exit(130)) })

main().then(cleanup, async e => {
  process.stderr.write(`\nbench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  await cleanup()
  process.exitCode = 1
})
