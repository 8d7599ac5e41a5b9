// Protocol hot-path benchmark, no btcd, no sockets: two ChannelDrivers in one process joined
// by an in-memory link (each message delivered on a later event-loop turn, like a socket read), each
// persisting like the hub does (JSON channel record + monitor updates + audit entry, one group-commit
// batch) to an in-memory store whose "fsync" takes --fsync-ms (a timer: Node rounds it up to 1 ms).
//
// It measures process CPU (user + system) per payment and per commitment round, for a trimmed
// (10,000 msat) and an untrimmed (2,000,000 msat) amount, one payment at a time and --inflight at a time.
// A payment: A add → sign → B revoke+sign → A revoke → B fulfill → sign → A revoke+sign → B revoke.
//
//   npx tsx scripts/bench/protocol-bench.ts [--payments N] [--inflight K] [--curve noble|tiny] [--fsync-ms 0.3] [--json]
//   node --cpu-prof --import tsx scripts/bench/protocol-bench.ts ...   (a profile of the same run)
import { sha256 } from '../../protocol/crypto/hash.ts'
import { nobleCurve, setDefaultCurve, type Curve } from '../../protocol/crypto/index.ts'
import { tinyCurve } from '../../protocol/crypto/tiny.ts'
import { acceptFromSeed, defaultPolicy, fundingAsAgreed, isSettled, openFromSeed, type ChannelEvent } from '../../protocol/channel/index.ts'
import { ChannelDriver, type DriverPorts, type PersistRequest } from '../../host/channel/index.ts'
import { bytesToHex, type ChannelId, type Msat, type NodeId, type Sat, type Txid } from '../../protocol/types.ts'
import type { PeerMessage } from '../../protocol/wire/index.ts'
import { GroupCommitter, keys, put, type IterateOptions, type Store, type StoreOp } from '../../host/store/index.ts'
import { AuditLog } from '../../hub/audit/index.ts'

const args = process.argv.slice(2)
const opt = (name: string, dflt: string): string => { const i = args.indexOf(name); return i >= 0 ? args[i + 1]! : dflt }
const PAYMENTS = Number(opt('--payments', '400'))
const INFLIGHT = Number(opt('--inflight', '8'))
const FSYNC_MS = Number(opt('--fsync-ms', '0.3'))
const CURVE = opt('--curve', 'tiny')
const JSON_OUT = args.includes('--json')
const COUNT_CURVE = args.includes('--count-curve')
/** Curve operations by name (with --count-curve): what a payment costs in point multiplications. */
const curveOps: Record<string, number> = {}
function counted (c: Curve): Curve {
  const out: Record<string, unknown> = { name: c.name }
  for (const [k, f] of Object.entries(c)) {
    if (typeof f === 'function') out[k] = (...a: unknown[]) => {
      curveOps[k] = (curveOps[k] ?? 0) + 1; return (f as (...x: unknown[]) => unknown)(...a)
    }
  }
  return out as unknown as Curve
}
const baseCurve = CURVE === 'tiny' ? tinyCurve : nobleCurve
setDefaultCurve(COUNT_CURVE ? counted(baseCurve) : baseCurve)

const CHAIN_HASH = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f'
const LIMITS = {
  dustLimitSat: 546 as Sat, maxHtlcValueInFlightMsat: 5_000_000_000 as Msat, channelReserveSat: 10_000 as Sat, htlcMinimumMsat: 1 as Msat,
  toSelfDelay: 144, maxAcceptedHtlcs: 483,
}
let counter = 0
const seed = (tag: string): Uint8Array => sha256(new TextEncoder().encode(`bench/${tag}/${counter++}`))
const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

/** A Store in memory whose synced batch takes FSYNC_MS (group commit as in LevelStore). */
class SlowMemoryStore implements Store {
  readonly data = new Map<string, Uint8Array>()
  readonly committer = new GroupCommitter(async ops => {
    if (FSYNC_MS > 0) await new Promise(resolve => setTimeout(resolve, FSYNC_MS))
    for (const op of ops) op.type === 'put' ? this.data.set(op.key, op.value) : this.data.delete(op.key)
  })

  async get (key: string): Promise<Uint8Array | undefined> { return this.data.get(key) }
  write (ops: readonly StoreOp[]): Promise<void> { return this.committer.submit(ops) }
  async * iterate (_prefix: string, _opts?: IterateOptions): AsyncIterable<readonly [string, Uint8Array]> { /* not needed */ }
  close (): Promise<void> { return this.committer.close() }
}

interface Side {
  name: string
  node: NodeId
  store: SlowMemoryStore
  audit: AuditLog
  driver?: ChannelDriver
  onEvent: (e: ChannelEvent) => void
  sent: Record<string, number>
}

async function side (name: string): Promise<Side> {
  const store = new SlowMemoryStore()
  return {
    name, node: bytesToHex(sha256(seed(`node${name}`))).replace(/^../, '02') as NodeId, store, audit: await AuditLog.open(store),
    onEvent: () => {}, sent: {},
  }
}

function ports (s: Side, peer: () => Side): DriverPorts {
  return {
    // As hub/channels/manager.ts persists: the record, the monitor updates and an audit entry, one batch.
    persist: async (req: PersistRequest) => {
      const spec = req.state.localCommit?.spec
      const audit = s.audit.prepare({
        kind: 'channel_write', channel_id: req.channelId, peer: peer().node, write: req.writeId, phase: req.state.phase,
        updates: req.monitor.map(m => `${m.seq}:${m.kind}`),
        ...(spec !== undefined ? { local_msat: spec.toLocalMsat, remote_msat: spec.toRemoteMsat, htlcs: spec.htlcs.length } : {}),
      })
      await s.store.write([
        put(keys.channelState(req.channelId), { v: 1, peer: peer().node, seed: '00'.repeat(32), state: req.state }),
        ...req.monitor.map(m => put(keys.monitorUpdate(req.channelId, m.seq), m)),
        ...audit.ops,
      ])
    },
    send: (msg: PeerMessage) => {
      s.sent[msg.type] = (s.sent[msg.type] ?? 0) + 1
      // A socket: the peer reads it on a later turn, as its own input. Serialise like the wire does.
      const frame = JSON.stringify(msg)
      setImmediate(() => { void peer().driver?.peer(JSON.parse(frame) as PeerMessage) })
    },
    broadcastFunding: () => {},
    disconnect: () => { throw new Error(`${s.name}: disconnect asked`) },
    emit: e => s.onEvent(e),
    stopped: e => { throw new Error(`${s.name} stopped: ${String(e)}`) },
    defer: fn => { setImmediate(fn) },
  }
}

async function openPair (): Promise<{ a: Side; b: Side }> {
  const a = await side('A')
  const b = await side('B')
  const opened = openFromSeed({
    seed: seed('A'), temporaryChannelId: bytesToHex(seed('tmp')) as ChannelId, chainHash: CHAIN_HASH, channelType: 'static_remotekey',
    fundingSat: 16_000_000 as Sat, pushMsat: 0 as Msat, feeratePerKw: 253, limits: LIMITS,
    policy: defaultPolicy(), localShutdownScript: '0014' + '11'.repeat(20), height: 100,
  })
  a.onEvent = e => { if (e.type === 'funding_needed') void a.driver!.command({
    type: 'funding_built', txid: bytesToHex(seed('txid')) as Txid, outputIndex: 0,
  }) }
  // B is created when open_channel arrives.
  const bPorts = ports(b, () => a)
  const origPeer = (msg: PeerMessage): void => {
    const accepted = acceptFromSeed({
      seed: seed('B'), chainHash: CHAIN_HASH, minimumDepth: 1, limits: LIMITS, policy: defaultPolicy(),
      localShutdownScript: '0014' + '22'.repeat(20), height: 100,
    }, msg as never)
    if (!accepted.ok) throw new Error(accepted.error.detail)
    b.driver = new ChannelDriver(accepted.value.step.state, accepted.value.signer, bPorts)
    void b.driver.start(accepted.value.step)
  }
  const aSend = ports(a, () => b).send
  a.driver = new ChannelDriver(
    opened.step.state, opened.signer,
    { ...ports(a, () => b), send: msg => { if (msg.type === 'open_channel') setImmediate(() => origPeer(msg)); else aSend(msg) } },
  )
  await a.driver.start(opened.step)
  while (!(a.driver.state.phase === 'awaiting_funding_depth' && b.driver?.state.phase === 'awaiting_funding_depth')) await turn()
  await a.driver.chain(fundingAsAgreed(a.driver.state.setup, 1))
  await b.driver.chain(fundingAsAgreed(b.driver.state.setup, 1))
  const normal = (d: ChannelDriver): boolean => d.state.phase === 'normal'
  while (!(normal(a.driver) && normal(b.driver))) await turn()
  return { a, b }
}

interface Run {
  amountMsat: number; mode: string; payments: number; cpuUsPerPayment: number; cpuUsPerRound: number; paymentsPerS: number;
  latencyMsP50: number; rounds: number
}

/** `payments` payments of `amountMsat` A → B, `inflight` at a time. */
async function run (amountMsat: number, payments: number, inflight: number): Promise<Run> {
  const { a, b } = await openPair()
  const waiting = new Map<string, () => void>()
  const preimages = new Map<string, string>()
  b.onEvent = e => {
    if (e.type === 'htlc_received') void b.driver!.command({
      type: 'fulfill_htlc', id: e.htlc.id, preimage: preimages.get(e.htlc.paymentHash)!,
    })
  }
  a.onEvent = e => { if (e.type === 'htlc_fulfilled') waiting.get(e.paymentHash)?.() }
  const pay = async (i: number): Promise<number> => {
    const pre = seed(`pre${i}`)
    const hash = bytesToHex(sha256(pre))
    preimages.set(hash, bytesToHex(pre))
    const t0 = performance.now()
    const done = new Promise<void>(resolve => waiting.set(hash, resolve))
    await a.driver!.command({ type: 'add_htlc', amountMsat: amountMsat as Msat, paymentHash: hash, cltvExpiry: 200, recipient: b.node })
    await done
    return performance.now() - t0
  }
  const roundsBefore = (a.sent.commitment_signed ?? 0) + (b.sent.commitment_signed ?? 0)
  for (const k of Object.keys(curveOps)) delete curveOps[k]
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const latencies: number[] = []
  let next = 0
  await Promise.all(Array.from({ length: inflight }, async () => {
    while (next < payments) latencies.push(await pay(next++))
  }))
  // Let the last commitment dance finish (nothing left in flight on either side).
  while (!isSettled(a.driver!.state) || !isSettled(b.driver!.state)) await turn()
  await a.driver!.idle(); await b.driver!.idle()
  const wall = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const rounds = (a.sent.commitment_signed ?? 0) + (b.sent.commitment_signed ?? 0) - roundsBefore
  const expectB = payments * amountMsat
  if (b.driver!.state.localCommit!.spec.toLocalMsat !== expectB) throw new Error(
    `B holds ${b.driver!.state.localCommit!.spec.toLocalMsat}, expected ${expectB}`
  )
  const cpuUs = cpu.user + cpu.system
  if (COUNT_CURVE) console.log(
    `${amountMsat} msat, ${inflight} in flight: curve ops per payment`,
    JSON.stringify(Object.fromEntries(Object.entries(curveOps).map(([k, n]) => [k, Number((n / payments).toFixed(2))]))),
  )
  latencies.sort((x, y) => x - y)
  return {
    amountMsat, mode: inflight === 1 ? 'sequential' : `${inflight} in flight`, payments,
    cpuUsPerPayment: Math.round(cpuUs / payments), cpuUsPerRound: Math.round(cpuUs / rounds),
    paymentsPerS: Math.round(payments / (wall / 1000)), latencyMsP50: Number(latencies[Math.floor(latencies.length / 2)]!.toFixed(2)),
    rounds,
  }
}

const results: Run[] = []
// Warm-up (JIT, WASM) so that the first measured run is not penalised.
await run(10_000, 50, 4)
for (const amount of [10_000, 2_000_000]) {
  results.push(await run(amount, Math.max(10, Math.floor(PAYMENTS / 4)), 1))
  results.push(await run(amount, PAYMENTS, INFLIGHT))
}
if (JSON_OUT) console.log(JSON.stringify({ curve: CURVE, fsyncMs: FSYNC_MS, results }))
else {
  console.log(`curve ${CURVE}, fake fsync ${FSYNC_MS} ms, load ${(await import('node:os')).loadavg().map(x => x.toFixed(2)).join(' ')}`)
  for (const r of results) {
    console.log(
      `${String(r.amountMsat).padStart(9)} msat  ${r.mode.padEnd(12)} ${String(r.payments).padStart(5)} payments  CPU ` +
      `${String(r.cpuUsPerPayment).padStart(6)} µs/payment  ${String(r.cpuUsPerRound).padStart(6)} µs/commitment round ` +
      `(${(r.rounds / r.payments).toFixed(2)} rounds/payment)  ${String(r.paymentsPerS).padStart(5)} payments/s  p50 ${r.latencyMsP50} ms`
    )
  }
}
