// A benchmark client process: holds several SDK clients (HubClient) of one role and does what the
// orchestrator (scripts/bench.ts) asks over the IPC channel. Clients live in their own processes so
// the hub, the payers and the payees each get their own event loop, as they would in production.
//
// Requests are { id, cmd, args } and every request gets one reply { id, ok, value } or
// { id, ok: false, error }. Commands: init, addresses, open, request, awaitReady, invoices, pay,
// payOneByOne, balances, untilReestablished, stop (see `handlers` below).
import path from 'node:path'
import { BtcdChainBackend } from '../../host/chain/btcd/backend.ts'
import type { HubClient } from '../../client-sdk/index.ts'
import { createNodeClient } from '../../client-sdk/node.ts'
import type { Role } from '../../client-sdk/options.ts'
import type { NodeId } from '../../protocol/types.ts'
import { random32 } from '../../host/random.ts'
import { serveRequests, type PayOutcome, type WorkerInit } from './ipc.ts'

let chain: BtcdChainBackend | undefined
let clients: HubClient[] = []
const opening: Array<Promise<unknown>> = []
/** How long an opening may wait without progress: the driver mines only once every client's funding
 *  is out (an hour: far beyond any bench run). */
const BENCH_WAIT_MS = 3_600_000

async function waitUntil (cond: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** Pays `invoices` from `client` with at most `concurrency` payments in flight; times each. */
async function payAll (client: HubClient, invoices: string[], concurrency: number): Promise<PayOutcome> {
  const out: PayOutcome = { ok: 0, failed: 0, latenciesMs: [], failures: {}, amountMsat: 0, feeMsat: 0 }
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < invoices.length) {
      const inv = invoices[next++]!
      const t0 = performance.now()
      const r = await client.pay(inv)
      const ms = performance.now() - t0
      if (r.ok) {
        out.ok++; out.latenciesMs.push(ms); out.amountMsat += r.amountMsat; out.feeMsat += r.feeMsat
      } else { out.failed++; out.failures[r.reason] = (out.failures[r.reason] ?? 0) + 1 }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane))
  return out
}

function merge (a: PayOutcome, b: PayOutcome): PayOutcome {
  const failures = { ...a.failures }
  for (const [k, v] of Object.entries(b.failures)) failures[k] = (failures[k] ?? 0) + v
  return {
    ok: a.ok + b.ok, failed: a.failed + b.failed, latenciesMs: a.latenciesMs.concat(b.latenciesMs), failures,
    amountMsat: a.amountMsat + b.amountMsat, feeMsat: a.feeMsat + b.feeMsat,
  }
}

const handlers: Record<string, (args: Record<string, unknown>) => Promise<unknown>> = {
  /** Creates `count` clients of `role`, each with its own data directory and node key, connected. */
  async init (args) {
    const a = args as unknown as WorkerInit
    chain = new BtcdChainBackend({ ...a.btcd, pollMs: 100 })
    for (let i = 0; i < a.count; i++) {
      const c = await createNodeClient({
        nodeKey: random32(), hubUrl: a.hubUrl, hubId: a.hubId as NodeId, dataDir: path.join(a.dataDir, `${a.role}-${i}`),
        role: a.role as Role, chain, reconnectInitialMs: 20, reconnectMaxMs: 200, payTimeoutMs: 120_000,
      })
      c.on('warning', w => { if (a.verbose) process.stderr.write(`[${a.role}-${i}] ${w}\n`) })
      await c.connect()
      clients.push(c)
    }
    return clients.map(c => c.nodeId)
  },
  async addresses () { return clients.map(c => c.newAddress()) },
  /** Waits until every client's wallet has a confirmed coin (after the orchestrator's faucet). */
  async awaitCoins () {
    await waitUntil(() => clients.every(c => c.wallet.balance().spendable > 0), 'faucet coins in the client wallets')
    return true
  },
  /** Platforms: start opening a channel of `capacitySat` each; resolves with the funding txids. */
  async open (args) {
    const capacitySat = Number(args.capacitySat)
    for (const c of clients) opening.push(c.openChannel({ capacitySat, timeoutMs: BENCH_WAIT_MS }))
    await waitUntil(() => clients.every(c => c.channels().some(ch => ch.fundingTxid !== null)), 'the funding transactions')
    return clients.map(c => c.channels()[0]!.fundingTxid)
  },
  /** Payees: ask the hub for a channel each (args.capacitySat: a wish; args.batch: how many at once);
   *  resolves with the hub's funding txids. */
  async request (args) {
    // In batches, so a few hundred clients do not ask the hub at the same instant.
    const wish = { ...(typeof args.capacitySat === 'number' ? { capacitySat: args.capacitySat } : {}), timeoutMs: BENCH_WAIT_MS }
    const batch = typeof args.batch === 'number' ? args.batch : clients.length
    for (let i = 0; i < clients.length; i += batch) {
      const group = clients.slice(i, i + batch)
      for (const c of group) opening.push(c.requestChannel(wish))
      await waitUntil(() => group.every(c => c.channels().some(ch => ch.fundingTxid !== null)), 'the hub funding transactions')
    }
    return clients.map(c => c.channels()[0]!.fundingTxid)
  },
  async awaitReady () {
    await Promise.all(opening.splice(0))
    return clients.map(c => c.channels()[0]!.channelId)
  },
  /** Payees: `perClient[i]` invoices of `amountMsat` from client i (created concurrently). */
  async invoices (args) {
    const perClient = args.perClient as number[]
    const amountMsat = Number(args.amountMsat)
    return await Promise.all(clients.map(async (c, i) => {
      const n = perClient[i] ?? 0
      return await Promise.all(Array.from(
        { length: n }, async (_, k) => (await c.createInvoice({ amountMsat, memo: `bench ${k}` })).invoice,
      ))
    }))
  },
  /** Payers: client i pays `perClient[i]` with `concurrency` in flight each; all clients at once. */
  async pay (args) {
    const perClient = args.perClient as string[][]
    const concurrency = Number(args.concurrency)
    const t0 = performance.now()
    const results = await Promise.all(clients.map((c, i) => payAll(c, perClient[i] ?? [], concurrency)))
    const elapsedMs = performance.now() - t0
    return { ...results.reduce(merge, { ok: 0, failed: 0, latenciesMs: [], failures: {}, amountMsat: 0, feeMsat: 0 }), elapsedMs }
  },
  /** Payers: client 0 pays one invoice after the other (100 ms apart), until one succeeds (restart recovery). */
  async payUntilOk (args) {
    const invoices = args.invoices as string[]
    const failures: Record<string, number> = {}
    for (const [k, inv] of invoices.entries()) {
      const r = await clients[0]!.pay(inv)
      if (r.ok) return { attempts: k + 1, failures }
      failures[r.reason] = (failures[r.reason] ?? 0) + 1
      // The hub may still be loading its channels: a short pause, not a busy loop over the invoices.
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    return { attempts: -1, failures }
  },
  async balances () {
    return clients.map(c => ({ nodeId: c.nodeId, channels: c.channels() }))
  },
  async untilReestablished () {
    await Promise.all(clients.map(c => c.untilReestablished()))
    return true
  },
  async stop () {
    await Promise.all(clients.map(c => c.stop()))
    clients = []
    await chain?.close()
    return true
  },
}

serveRequests(handlers)
