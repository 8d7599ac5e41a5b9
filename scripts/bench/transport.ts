// Transport throughput over loopback (not a test: `npx tsx scripts/bench/transport.ts [--tiny]`).
//   1. handshakes: full connect (TCP + WebSocket upgrade + hub_hello/client_auth/hub_auth/auth_ok,
//      two BIP-340 signatures and two verifications) and close, N in sequence and C in parallel.
//   2. echo: a client sends 1 KiB `warning` messages; the hub's handler echoes each back through
//      its session; the client keeps W messages in flight. Reports round trips per second.
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { connect, type HubConnection } from '../../client-sdk/node.ts'
import { HubTransport, type PeerSession } from '../../hub/transport/server.ts'
import { nodeIdOf } from '../../protocol/auth/signature.ts'
import type { ChannelId, NodeId } from '../../protocol/types.ts'
import type { PeerMessage } from '../../protocol/wire/index.ts'
import { setDefaultCurve } from '../../protocol/crypto/index.ts'
import { tinyCurve } from '../../protocol/crypto/tiny.ts'

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const HANDSHAKES = arg('handshakes', 400)
const PARALLEL = arg('parallel', 8)
const ECHOES = arg('echoes', 20_000)
const WINDOW = arg('window', 64)
// `--tiny`: both sides sign and verify with the WASM backend, as hub/main.ts may choose.
const TINY = process.argv.includes('--tiny')
if (TINY) setDefaultCurve(tinyCurve)

const hubKey = new Uint8Array(randomBytes(32))
const sessions = new Map<NodeId, PeerSession>()
const hub = await HubTransport.start({
  nodeKey: hubKey,
  config: { maxConnectsPerIp: 100_000, maxUnauthenticatedPerIp: 10_000, maxUnauthenticated: 10_000 },
  handler: {
    opened: s => { sessions.set(s.nodeId, s) },
    closed: s => { if (sessions.get(s.nodeId) === s) sessions.delete(s.nodeId) },
    message: (_id, msg, session) => { session.send(msg) }, // echo
  },
})
const hubId = nodeIdOf(hubKey)

/** CPU seconds (user + system) this process used since `since`: on a loaded machine, wall-clock
 *  rates understate; per-CPU-second rates do not (hub and client share this one process). */
const cpuSeconds = (since: NodeJS.CpuUsage): number => { const d = process.cpuUsage(since); return (d.user + d.system) / 1e6 }
const perCpu: Record<string, number> = {}

async function handshakes (n: number, parallel: number): Promise<number> {
  const keys = Array.from({ length: n }, () => new Uint8Array(randomBytes(32)))
  let next = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) {
      const c = await connect(hub.url, keys[next++]!, { expectedHubId: hubId })
      c.close()
    }
  }))
  perCpu[`handshakes_per_cpu_s_${parallel}`] = Math.round(n / cpuSeconds(c0))
  return n / ((performance.now() - t0) / 1000)
}

async function echo (conn: HubConnection, n: number, window: number): Promise<number> {
  const msg: PeerMessage = { type: 'warning', channel_id: '00'.repeat(32) as ChannelId, data: 'x'.repeat(1024 - 80) }
  const frameBytes = JSON.stringify(msg).length
  if (frameBytes < 1000 || frameBytes > 1100) throw new Error(`echo frame is ${frameBytes} bytes, wanted ~1 KiB`)
  let sent = 0; let got = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise<void>(resolve => {
    conn.on('message', () => {
      got++
      if (got === n) return resolve()
      if (sent < n) { conn.send(msg); sent++ }
    })
    for (; sent < Math.min(window, n); sent++) conn.send(msg)
  })
  perCpu.echo_per_cpu_s = Math.round(n / cpuSeconds(c0))
  return n / ((performance.now() - t0) / 1000)
}

await handshakes(40, 4) // warm-up (JIT, noble precomputation)
const seq = await handshakes(HANDSHAKES, 1)
const par = await handshakes(HANDSHAKES, PARALLEL)
const conn = await connect(hub.url, new Uint8Array(randomBytes(32)), { expectedHubId: hubId })
await echo(conn, 2_000, WINDOW) // warm-up
const rate = await echo(conn, ECHOES, WINDOW)
conn.close()
await hub.close()
console.log(JSON.stringify({
  handshakes_per_s_sequential: Math.round(seq),
  [`handshakes_per_s_${PARALLEL}_parallel`]: Math.round(par),
  echo_1kib_round_trips_per_s: Math.round(rate),
  echo_window: WINDOW,
  curve: TINY ? 'tiny' : 'noble',
  ...perCpu,
}))
