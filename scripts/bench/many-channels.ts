// `npx tsx scripts/bench/many-channels.ts --channels 1000[,10000] [--per-node K] [--restarts R]`:
// the hub with many idle, connected channels, on its own. Starts btcd and the hub, one platform and
// one creator (SDK clients, for the payment that proves the restarted hub serves), then opens the idle
// channels from the lightweight many-channel client (many-channels-worker.ts: K channels per node id,
// client-funded, batch funding transactions) and prints, for each count in --channels (cumulative):
// the hub's steady RSS and (RSS − RSS before any idle channel) / channels; then SIGKILLs the hub with
// all channels present, restarts it on the same data dir and btcd, and prints the time until it
// listens, until every idle channel has reestablished and until a platform → creator payment succeeds.
// Ends with the balance check (hub and every client agree on every channel). Last stdout line: JSON.
//
//   --channels LIST  idle channel counts to measure at, ascending (default 1000)
//   --per-node K     channels per node id, i.e. per WebSocket connection (default 10, at most 100)
//   --restarts R     restarts to time (default 1)
//   --batch B        funding outputs per batch transaction (default 1500, the most under standard weight)
//   --verbose        hub log lines and client warnings on stderr
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { useBtcd } from '../lib/btcd.ts'
import { Cleanups } from '../lib/cleanups.ts'
import { startHub } from '../lib/hub.ts'
import { WorkerProcess } from './ipc.ts'
import { fundHubCoins, openCreatorChannels, openPlatformChannels } from './setup.ts'
import {
  checkBalances, freePort, manyChannelHubConfig, openIdleChannels, steadyRss, startManyChannels, timeRestart, type RestartTimes,
} from './idle-channels.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const argv = process.argv.slice(2)
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined }
const VERBOSE = argv.includes('--verbose')
const COUNTS = (opt('--channels') ?? '1000').split(',').map(Number)
const PER_NODE = Number(opt('--per-node') ?? 10)
const RESTARTS = Number(opt('--restarts') ?? 1)
const BATCH = Number(opt('--batch') ?? 1500)
if (COUNTS.some((c, i) => !Number.isInteger(c) || c < 1 || c > 100_000 || (i > 0 && c <= COUNTS[i - 1]!)) || !Number.isInteger(PER_NODE) ||
  PER_NODE < 1 || PER_NODE > 100 || !Number.isInteger(RESTARTS) || RESTARTS < 0 || !Number.isInteger(BATCH) || BATCH < 1 || BATCH > 1500) {
  process.stderr.write('usage: many-channels.ts --channels N[,M…] (ascending) [--per-node 1..100] [--restarts R]\n')
  process.exit(2)
}
/** Idle channels are small: size does not change their memory, and the faucet's coins last. */
const IDLE_CHANNEL_SAT = 100_000
const say = (s: string): void => { process.stderr.write(s + '\n') }
const cleanups = new Cleanups()
const MB = (b: number): string => `${(b / 1e6).toFixed(1)} MB`

async function main (): Promise<void> {
  const started = new Date()
  const dataDir = path.join(REPO_ROOT, '.data', `many-${started.toISOString().replace(/[:.]/g, '-')}`)
  fs.mkdirSync(dataDir, { recursive: true })
  cleanups.push(() => { fs.rmSync(dataDir, { recursive: true, force: true }) })
  const btc = await useBtcd(cleanups, { dataDir: path.join(dataDir, 'btcd') })
  const cfg = manyChannelHubConfig(PER_NODE, await freePort())
  const hub = await startHub({
    dataDir: path.join(dataDir, 'hub'), btcd: btc.node.rpc, verbose: VERBOSE,
    config: { ...cfg, channels: { ...(cfg.channels as object), fundingSat: 1_000_000 }, router: { holdMs: 60_000 } },
  }, cleanups)
  say(`hub ${hub.hubId.slice(0, 16)}… pid ${hub.pid}; ${COUNTS.join(', ')} idle channels, ${PER_NODE} per node id`)

  // One platform and one creator (SDK clients): the payment after the restart goes between them.
  await fundHubCoins(btc, hub, 1, 1_200_000)
  const init = (role: 'platform' | 'creator') => ({
    role, count: 1, hubUrl: hub.url, hubId: hub.hubId, dataDir: path.join(dataDir, `${role}s`),
    btcd: { host: btc.node.rpc.host, port: btc.node.rpc.port, user: btc.node.rpc.user, pass: btc.node.rpc.pass }, verbose: VERBOSE,
  })
  const platforms = new WorkerProcess('platforms', VERBOSE)
  const creators = new WorkerProcess('creators', VERBOSE)
  cleanups.push(() => platforms.stop(), () => creators.stop())
  await Promise.all([platforms.call('init', init('platform')), creators.call('init', init('creator'))])
  await openPlatformChannels(btc, platforms, 2_000_000)
  await openCreatorChannels(btc, creators)
  say('platform and creator channels open')

  const rss0 = await steadyRss(hub.pid)
  say(`hub RSS before any idle channel: ${MB(rss0.bytes)}`)
  const idle = await startManyChannels(hub, VERBOSE)
  cleanups.push(() => idle.worker.stop())
  const at: Array<Record<string, unknown>> = []
  let have = 0
  for (const target of COUNTS) {
    say(`opening ${target - have} idle channels (to ${target}) …`)
    const r = await openIdleChannels(
      btc, hub, idle, { n: target - have, perNode: PER_NODE, capacitySat: IDLE_CHANNEL_SAT, batch: BATCH, say },
    )
    have = target
    const rss = await steadyRss(hub.pid)
    const perChannel = (rss.bytes - rss0.bytes) / r.normal
    say(`  ${target} channels: opened in ${r.wallS.toFixed(1)} s (CPU s: hub ${r.cpuS.hub.toFixed(1)}, client ` +
      `${r.cpuS.worker.toFixed(1)}, btcd ${r.cpuS.btcd.toFixed(1)}); status ${JSON.stringify(r.status)}`)
    say(`  hub RSS ${MB(rss.bytes)} → ${(perChannel / 1024).toFixed(1)} KiB per channel (${r.normal} open)`)
    at.push({
      channels: target, open: r.normal, per_node: PER_NODE, hub_rss_bytes: rss.bytes, hub_rss_bytes_per_channel: perChannel,
      rss_samples: rss.samples, open_s: r.wallS, open_cpu_s: r.cpuS, status: r.status,
    })
  }

  const restarts: RestartTimes[] = []
  for (let i = 0; i < RESTARTS; i++) {
    const invoices = (await creators.call<string[][]>('invoices', { perClient: [600], amountMsat: 2_000_000 })).flat()
    say(`restart ${i + 1} with ${have} idle channels …`)
    const t = await timeRestart(hub, platforms, [idle.worker], invoices, {}, say)
    restarts.push(t)
    say(`  serving after ${t.servingS.toFixed(2)} s, listening line ${t.listeningS.toFixed(2)} s, idle channels reestablished after ` +
      `${t.reestablishedS.toFixed(2)} s, payment after ${t.paymentS.toFixed(2)} s (${t.attempts} attempt(s))`)
    say(`  hub lines since the kill: ${t.stages}`)
  }
  // The same channels in a fresh hub process (after the restart: loaded, reconnected, reestablished,
  // idle): no high-water mark left from opening them.
  let afterRestart: Record<string, unknown> | undefined
  if (RESTARTS > 0) {
    const rss = await steadyRss(hub.pid)
    afterRestart = {
      channels: have, hub_rss_bytes: rss.bytes, hub_rss_bytes_per_channel: (rss.bytes - rss0.bytes) / have, rss_samples: rss.samples,
    }
    say(`  after the restart: hub RSS ${MB(rss.bytes)} → ${((rss.bytes - rss0.bytes) / have / 1024).toFixed(1)} KiB per channel`)
  }

  say('checking balances …')
  const bal = await checkBalances(hub, [platforms, creators, idle.worker])
  say(bal.problems.length === 0 ? `balances: hub and clients agree on all ${bal.channels} channels` : `BALANCES WRONG:\n  ` +
    `${bal.problems.slice(0, 20).join('\n  ')}`)
  process.stdout.write(JSON.stringify({
    date: started.toISOString(), per_node: PER_NODE, hub_rss_bytes_before: rss0.bytes, at, after_restart: afterRestart,
    restart_to_serving_s: restarts.map(r => r.paymentS), restarts, balances_ok: bal.problems.length === 0,
    balance_problems: bal.problems.slice(0, 20),
  }) + '\n')
  if (bal.problems.length > 0) process.exitCode = 1
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void cleanups.run().finally(() => process.exit(130)) })
main().then(() => cleanups.run(), async e => {
  process.stderr.write(`\nmany-channels failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  await cleanups.run()
  process.exitCode = 1
})
