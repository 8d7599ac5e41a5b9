// Many idle channels for the hub memory and restart figures: the lightweight many-channel client
// (many-channels-worker.ts) opens them in batches funded by one transaction each; the hub's RSS is
// read once it is steady; the restart is timed from SIGKILL to listening, to every idle channel
// reestablished, and to the first successful platform → creator payment.
import net from 'node:net'
import type { Btcd } from '../lib/btcd.ts'
import type { HubProcess } from '../lib/hub.ts'
import { WorkerProcess } from './ipc.ts'
import { rssBytes, cpuSeconds } from './host.ts'
import { balanceProblems, type ChannelView } from './stats.ts'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Funding outputs per batch transaction: 1,500 P2WSH outputs ≈ 260,000 weight units, well under
 *  the 400,000 standard transaction weight. */
export const MAX_BATCH = 1_500

/** Hub settings the bench needs for many channels from one address (existing knobs only). */
export function manyChannelHubConfig (perNode: number, adminPort: number): Record<string, unknown> {
  return {
    adminPort,
    // Batches of up to MAX_BATCH channels wait for their funding at once.
    channels: { maxUnconfirmedPerPeer: Math.min(100, Math.max(2, perNode)), maxUnconfirmed: 100_000 },
    transport: { maxConnectsPerIp: 100_000, maxUnauthenticated: 100_000, maxUnauthenticatedPerIp: 100_000, maxConnections: 1_000_000 },
  }
}

/** A free TCP port on loopback (for the hub's admin API, so it stays the same across restarts). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0)) })
  })
}

export interface ManyChannels { worker: WorkerProcess; fundingScript: string }

export async function startManyChannels (hub: HubProcess, verbose: boolean, name = 'idle'): Promise<ManyChannels> {
  const worker = new WorkerProcess(name, verbose, 'many-channels-worker.ts')
  const r = await worker.call<{ fundingScript: string }>('init', { hubUrl: hub.url, hubId: hub.hubId, verbose })
  return { worker, fundingScript: r.fundingScript }
}

export interface OpenReport {
  channels: number
  /** Idle channels in `normal` now (all calls so far): the divisor of the per-channel figure. */
  normal: number
  wallS: number
  /** CPU seconds over the opening, per process. */
  cpuS: { hub: number; worker: number; btcd: number }
  batches: Array<{ outputs: number; signed: number; failed: Record<string, number>; ms: Record<string, number> }>
  status: Record<string, unknown>
}

/**
 * Opens `n` more idle channels of `capacitySat` from the many-channel worker, `perNode` per node id:
 * batches of at most MAX_BATCH, each funded by one faucet coin and one transaction, then one block
 * (more if the hub has not seen the depth yet) until every channel is `normal`.
 */
export async function openIdleChannels (
  btc: Btcd, hub: HubProcess, m: ManyChannels,
  args: { n: number; perNode: number; capacitySat: number; batch?: number; say: (s: string) => void },
): Promise<OpenReport> {
  const { n, perNode, capacitySat, say } = args
  const maxBatch = Math.min(MAX_BATCH, args.batch ?? MAX_BATCH)
  const pids = { hub: hub.pid, worker: m.worker.pid, btcd: btc.node.pid }
  const cpu0 = { hub: cpuSeconds(pids.hub), worker: cpuSeconds(pids.worker), btcd: cpuSeconds(pids.btcd) }
  const t0 = performance.now()
  const batches: OpenReport['batches'] = []
  // Whole node ids per batch, so one node's channels share a funding transaction.
  const batchSize = Math.max(perNode, Math.floor(maxBatch / perNode) * perNode)
  const fundingScript = Buffer.from(m.fundingScript, 'hex')
  for (let done = 0; done < n;) {
    const count = Math.min(batchSize, n - done)
    const coin = await btc.faucet(fundingScript, count * capacitySat + 50_000 + count * 100)
    const r = await m.worker.call<{
      txid: string; hex: string; outputs: number; signed: number; failed: Record<string, number>; warnings: Record<string,
      number>; ms: Record<string, number>,
    }>('openBatch', {
      count, perNode, capacitySat, coin: { txid: coin.txid, vout: coin.vout, value: coin.value },
    })
    const b = await btc.chain.broadcast(r.hex)
    if (!b.ok) throw new Error(`batch funding broadcast: ${JSON.stringify(b.error)}`)
    batches.push({ outputs: r.outputs, signed: r.signed, failed: r.failed, ms: r.ms })
    done += count
    say(`    batch: ${r.signed}/${count} channels signed (connect ${(r.ms.connect! / 1000).toFixed(1)} s, accept ` +
      `${(r.ms.accept! / 1000).toFixed(1)} s, funding_signed ${(r.ms.fundingSigned! / 1000).toFixed(1)} ` +
      `s)${Object.keys(r.failed).length > 0 ? ` failed: ${JSON.stringify(r.failed)}` : ''}; ` +
      `${((performance.now() - t0) / 1000).toFixed(0)} s so far`)
    if (Object.keys(r.warnings).length > 0) say(`    client warnings so far: ${JSON.stringify(r.warnings).slice(0, 1000)}`)
  }
  // One block; another only when the hub has made no progress for a while (each block makes the
  // hub look up every unconfirmed channel's funding tx again: more blocks would only add load).
  let status: Record<string, unknown> = {}
  const notNormal = (st: Record<string, unknown>): number => Number(st.fundedNotNormal)
  const tMined = performance.now()
  for (let depth = 1; depth <= 6; depth++) {
    await btc.mine(1)
    await m.worker.call('confirm', { depth })
    let last = Infinity
    let lastChange = performance.now()
    for (;;) {
      status = await m.worker.call<Record<string, unknown>>('untilReady', { timeoutMs: 10_000 })
      const left = notNormal(status)
      if (left === 0) break
      if (left < last) { last = left; lastChange = performance.now() }
      if (performance.now() - lastChange > 180_000) break
    }
    if (notNormal(status) === 0) break
    say(`    no progress for 180 s after block ${depth}: ${JSON.stringify(status.phases)}; mining another`)
  }
  say(`    all channels normal ${((performance.now() - tMined) / 1000).toFixed(1)} s after the first block`)
  const wallS = (performance.now() - t0) / 1000
  const cpuS = {
    hub: cpuSeconds(pids.hub) - cpu0.hub, worker: cpuSeconds(pids.worker) - cpu0.worker, btcd: cpuSeconds(pids.btcd) - cpu0.btcd,
  }
  // Channels in `normal` in the worker, over every openIdleChannels call so far (some may have failed).
  const normal = Number((status.phases as Record<string, number> | undefined)?.normal ?? 0)
  return { channels: n, normal, wallS, cpuS, batches, status }
}

/** The hub's RSS once it is steady (the GC returns memory at its own pace): samples every second
 *  until the last `steadySamples` are within 1% of each other (at most `maxS` seconds); their median. */
export async function steadyRss (
  pid: number | undefined, steadySamples = 5, maxS = 60,
): Promise<{ bytes: number; samples: number[]; window: number[] }> {
  const samples: number[] = []
  const window = (): number[] => samples.slice(-steadySamples).sort((a, b) => a - b)
  for (let i = 0; i < maxS; i++) {
    await sleep(1_000)
    samples.push(rssBytes(pid))
    const w = window()
    if (w.length === steadySamples && w.at(-1)! <= w[0]! * 1.01) break
  }
  const w = window()
  return { bytes: w[Math.floor(w.length / 2)]!, samples, window: samples.slice(-steadySamples) }
}

/** SIGKILL, then start again on the same data dir and btcd; resolves when listening. */
export async function killAndRestart (hub: HubProcess, env: Record<string, string> = {}, timeoutMs = 3_600_000): Promise<void> {
  await hub.kill()
  await restartWaiting(hub, env, timeoutMs)
}

/** hub.restart(), but waiting up to `timeoutMs` for the listening line (the test helper gives a
 *  restart 60 s: with thousands of channels startup can take longer). */
export async function restartWaiting (hub: HubProcess, env: Record<string, string> = {}, timeoutMs = 3_600_000): Promise<void> {
  try { await hub.restart(env) } catch (e) {
    if (!/timed out waiting for a line/.test(String(e))) throw e
    if (!hub.lines.some(l => l.event === 'listening')) await hub.waitLine(l => l.event === 'listening', timeoutMs)
  }
}

/** The hub's and the clients' views of every channel, once nothing is in flight (or after `waitMs`). */
export async function checkBalances (
  hub: Pick<HubProcess, 'adminFetch'>, workers: WorkerProcess[], waitMs = 60_000,
): Promise<{ problems: string[]; channels: number }> {
  let problems: string[] = ['not checked']
  let channels = 0
  const deadline = Date.now() + waitMs
  while (problems.length > 0 && Date.now() < deadline) {
    const hubChannels = await (await hub.adminFetch('/channels')).json() as Array<{
      channel_id: string; capacity_sat: number; local_msat: number | null; remote_msat: number | null; htlcs: number; phase: string
    }>
    type Side = Array<{
      channels: Array<{ channelId: string; capacitySat: number; localMsat: number; remoteMsat: number; inFlightMsat: number }>
    }>
    const clientSides = (await Promise.all(workers.map(w => w.call<Side>('balances')))).flat()
    const clientById = new Map(clientSides.flatMap(c => c.channels).map(c => [c.channelId, c]))
    const views: ChannelView[] = []
    for (const h of hubChannels) {
      const c = clientById.get(h.channel_id)
      clientById.delete(h.channel_id)
      // Opened but never funded (the client gave up before funding_created): no money in it, no
      // balances on either side; the hub keeps it while the peer stays connected.
      if (c === undefined && (h.local_msat === null || h.remote_msat === null)) continue
      views.push({
        channelId: h.channel_id, capacitySat: h.capacity_sat,
        hub: h.local_msat === null || h.remote_msat === null ? undefined : {
          localMsat: h.local_msat, remoteMsat: h.remote_msat, htlcs: h.htlcs,
        },
        client: c === undefined ? undefined : { localMsat: c.localMsat, remoteMsat: c.remoteMsat, inFlightMsat: c.inFlightMsat },
      })
    }
    for (const c of clientById.values()) views.push({ channelId: c.channelId, capacitySat: c.capacitySat, hub: undefined, client: c })
    channels = views.length
    problems = balanceProblems(views)
    if (problems.length > 0) await sleep(250)
  }
  return { problems, channels }
}

export interface RestartTimes {
  /** From the kill: the hub says it serves (startup:serving, or the listening line if it comes first). */
  servingS: number
  /** The hub's `listening` line (runHub finished). */
  listeningS: number
  reestablishedS: number
  paymentS: number
  attempts: number
  stages: string
}

/**
 * One restart: SIGKILL the hub, start it again, and time (from the kill) until it serves, until it
 * prints `listening`, until every idle channel has reestablished, and until a platform → creator
 * payment succeeds. The clients notice the kill on their own (their sockets close) and reconnect with
 * their backoff; the payment is tried from the moment the hub says it serves. `invoices`: the
 * creator's, paid one after the other by the platform until one succeeds.
 */
export async function timeRestart (
  hub: HubProcess, platforms: WorkerProcess, idle: WorkerProcess[], invoices: string[], env: Record<string, string> = {},
  progress?: (s: string) => void,
): Promise<RestartTimes> {
  const oldLines = hub.lines
  const stages: Array<{ name: string; n: number; first: string; last: string }> = []
  let seenArr: unknown[] | undefined
  let seen = 0
  let servingAt: number | undefined
  let t0 = performance.now()
  // When each of the restarted hub's log lines arrived (startup stages), for the breakdown.
  const watch = setInterval(() => {
    const ls = hub.lines
    if (ls === oldLines) return
    if (ls !== seenArr) { seenArr = ls; seen = 0 }
    for (; seen < ls.length; seen++) {
      const l = ls[seen]!
      if (l.event === 'recv') continue
      const name = `${String(l.event)}${typeof l.stage === 'string' ? `:${l.stage}` : ''}`
      const now = performance.now()
      if (servingAt === undefined && (name === 'startup:serving' || name === 'listening')) servingAt = now
      const at = ((now - t0) / 1000).toFixed(2)
      const last = stages.at(-1)
      if (last !== undefined && last.name === name) { last.n++; last.last = at } else {
        stages.push({ name, n: 1, first: at, last: at }); progress?.(`    ${at} s: ${name}`)
      }
    }
  }, 5)
  try {
    t0 = performance.now()
    const restarted = killAndRestart(hub, env)
    let listeningS = NaN
    void restarted.then(() => { listeningS = (performance.now() - t0) / 1000 }, () => {})
    await Promise.race([restarted, (async () => { while (servingAt === undefined) await sleep(5) })()])
    const servingS = ((servingAt ?? performance.now()) - t0) / 1000
    let reestablishedS = NaN
    let paymentS = NaN
    const [, pay] = await Promise.all([
      Promise.all(idle.map(w => w.call('untilReestablished'))).then(() => { reestablishedS = (performance.now() - t0) / 1000 }),
      platforms.call<{ attempts: number }>('payUntilOk', { invoices }).then(r => { paymentS = (performance.now() - t0) / 1000; return r }),
      restarted,
    ])
    if (pay.attempts < 0) throw new Error('restart: no payment succeeded after the restart')
    const stageText = stages.map(x => x.n === 1 ? `${x.name} ${x.first}s` : `${x.name} ×${x.n} ${x.first}–${x.last}s`).join(', ')
    return { servingS, listeningS, reestablishedS, paymentS, attempts: pay.attempts, stages: stageText }
  } finally { clearInterval(watch) }
}
