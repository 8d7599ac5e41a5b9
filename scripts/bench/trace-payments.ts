// Diagnostic (not a test): the message timeline of N concurrent payments, platform → hub → creator,
// seen at the two clients' sockets, with milliseconds since the first pay() call. Shows how many
// commitment rounds the payments took and where the time between messages goes.
//
//   npx tsx scripts/bench/trace-payments.ts [--payments 10] [--amount-msat 10000]
import path from 'node:path'
import { useBtcd } from '../lib/btcd.ts'
import { Cleanups } from '../lib/cleanups.ts'
import { openFundedChannel, requestHubChannel, startClient } from '../lib/client.ts'
import { startHub } from '../lib/hub.ts'
import { tempDir } from '../lib/temp-dir.ts'
import { type SocketFactory, type SocketLike } from '../../client-sdk/transport/socket.ts'
import { wsSocketFactory } from '../../client-sdk/node/socket.ts'
import { fundHubCoins } from './setup.ts'

const argv = process.argv.slice(2)
const opt = (n: string, d: number): number => { const i = argv.indexOf(n); return i >= 0 ? Number(argv[i + 1]) : d }
const N = opt('--payments', 10)
const AMOUNT = opt('--amount-msat', 10_000)

let t0 = 0
const events: string[] = []
const note = (who: string, dir: string, data: unknown): void => {
  if (t0 === 0) return
  let type = '?'
  try { type = String((JSON.parse(String(data)) as { type?: unknown }).type) } catch { /* not JSON */ }
  if (type === 'ping' || type === 'pong') return
  events.push(`${(performance.now() - t0).toFixed(1).padStart(8)} ms  ${who.padEnd(8)} ${dir} ${type}`)
}

function tracing (who: string): SocketFactory {
  return async url => {
    const ws = await wsSocketFactory(url)
    return {
      get readyState () { return ws.readyState },
      get bufferedAmount () { return ws.bufferedAmount },
      send (data: string) { note(who, '→', data); ws.send(data) },
      close: (code?: number, reason?: string) => ws.close(code, reason),
      addEventListener (type: string, fn: (ev: never) => void) {
        if (type !== 'message') { (ws.addEventListener as (t: string, f: unknown) => void)(type, fn); return }
        ws.addEventListener('message', (ev: { data: unknown }) => { note(who, '←', ev.data); (fn as (e: { data: unknown }) => void)(ev) })
      },
    } as SocketLike
  }
}

const cleanups = new Cleanups()

async function main (): Promise<void> {
  const dir = tempDir('trace-payments')
  const btc = await useBtcd(cleanups)
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, cleanups)
  await fundHubCoins(btc, hub, 1, 2_000_000)
  const platform = await startClient(
    { hub, btc, dataDir: path.join(dir, 'p'), role: 'platform', socketFactory: tracing('platform') }, cleanups,
  )
  const creator = await startClient(
    { hub, btc, dataDir: path.join(dir, 'c'), role: 'creator', socketFactory: tracing('creator') }, cleanups,
  )
  await openFundedChannel(btc, platform, 2_000_000)
  await requestHubChannel(btc, creator)
  const invoices = await Promise.all(Array.from({ length: N }, async () => (await creator.createInvoice({ amountMsat: AMOUNT })).invoice))
  t0 = performance.now()
  const done: string[] = []
  await Promise.all(invoices.map(async (inv, i) => {
    const r = await platform.pay(inv)
    done.push(`${(performance.now() - t0).toFixed(1).padStart(8)} ms  payment ${i} ${r.ok ? 'ok' : r.reason}`)
  }))
  const total = performance.now() - t0
  process.stdout.write(events.concat(done).sort().join('\n') + `\n${N} payments in ${total.toFixed(1)} ms\n`)
}

main().then(() => cleanups.run(), async e => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + '\n')
  await cleanups.run()
  process.exitCode = 1
})
