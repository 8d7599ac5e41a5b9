// The split figures of `npm run bench` (DESIGN.md "Splits"): a platform and three recipients (a
// creator, a co-op treasury, a platform fee account), each an SDK client in the bench process over
// real WebSockets to the bench's hub, paying 3-way ppm splits.
//
//   split_payments_per_s         splits that succeeded per second, `concurrency` splits in flight
//   split_latency_ms_p50 / p99   one split at a time: paySplit() call to its result (every leg claimed)
//
// Every split must succeed, and at the end every channel must be settled with exactly what the splits
// moved: the platform down by the totals and the hub's fees, each recipient up by its shares.
import path from 'node:path'
import { forwardingFee } from '../../protocol/forwarding.ts'
import { splitAmounts } from '../../protocol/split/shares.ts'
import type { HubClient } from '../../client-sdk/index.ts'
import type { Btcd } from '../lib/btcd.ts'
import type { Teardown } from '../lib/cleanups.ts'
import { openFundedChannel, requestHubChannel, startClient } from '../lib/client.ts'
import type { HubProcess } from '../lib/hub.ts'
import { waitFor } from '../lib/wait.ts'
import { fundHubCoins } from './setup.ts'
import { figure, percentile, type Figure } from './stats.ts'

export interface SplitBenchOptions {
  btc: Btcd
  hub: HubProcess
  dataDir: string
  runs: number
  runSeconds: number
  /** Splits per latency run. */
  latencySplits: number
  /** Splits in flight during the throughput runs. */
  concurrency: number
  say: (s: string) => void
  cleanups: Teardown
  /** The size of the channels the hub funds (its channels.fundingSat): each recipient's channel. */
  hubChannelSat: number
}

export interface SplitFigures { perS: Figure; p50: Figure; p99: Figure; succeeded: number; failed: number; balancesOk: boolean }

const PLATFORM_SAT = 2_000_000
/** One sale: 70% creator, 20% treasury, 10% platform fee (the remainder msat to the creator). */
const TOTAL_MSAT = 30_001
const PPM = [700_000, 200_000, 100_000]

export async function benchSplits (o: SplitBenchOptions): Promise<SplitFigures> {
  await fundHubCoins(o.btc, o.hub, 3, o.hubChannelSat + 200_000)
  const client = async (name: string, role: 'platform' | 'creator' | 'treasury'): Promise<HubClient> =>
    await startClient({ hub: o.hub, btc: o.btc, dataDir: path.join(o.dataDir, `split-${name}`), role, payTimeoutMs: 120_000 }, o.cleanups)
  const platform = await client('platform', 'platform')
  await openFundedChannel(o.btc, platform, PLATFORM_SAT)
  const recipients = [await client('creator', 'creator'), await client('treasury', 'treasury'), await client('fee', 'creator')]
  for (const r of recipients) await requestHubChannel(o.btc, r)
  const everyone = [platform, ...recipients]
  const balance = (c: HubClient): number => c.channels()[0]!.localMsat
  const before = everyone.map(balance)
  const shares = recipients.map((r, i) => ({ to: r.nodeId, ppm: PPM[i]! }))
  let n = 0
  let succeeded = 0
  let failed = 0
  const one = async (): Promise<boolean> => {
    const r = await platform.paySplit({ total: TOTAL_MSAT, shares, reference: `bench split ${n++}` })
    if (r.ok) succeeded++
    else { failed++; o.say(`  split failed: ${r.reason}: ${r.detail}`) }
    return r.ok
  }

  const p50: number[] = []
  const p99: number[] = []
  for (let run = 0; run < o.runs; run++) {
    const ms: number[] = []
    for (let i = 0; i < o.latencySplits; i++) {
      const t0 = performance.now()
      if (await one()) ms.push(performance.now() - t0)
    }
    if (ms.length === 0) throw new Error('split latency run: no split succeeded')
    p50.push(percentile(ms, 50))
    p99.push(percentile(ms, 99))
    o.say(`  split latency run ${run + 1}: ${ms.length} splits, p50 ${p50.at(-1)!.toFixed(1)} ms, p99 ${p99.at(-1)!.toFixed(1)} ms`)
  }

  const rates: number[] = []
  for (let run = 0; run < o.runs; run++) {
    const okBefore = succeeded
    const t0 = performance.now()
    const end = t0 + o.runSeconds * 1000
    await Promise.all(Array.from({ length: o.concurrency }, async () => { while (performance.now() < end) await one() }))
    const rate = (succeeded - okBefore) / ((performance.now() - t0) / 1000)
    rates.push(rate)
    o.say(`  split throughput run ${run + 1}: ${succeeded - okBefore} splits, ${rate.toFixed(1)}/s`)
  }

  // What the splits moved, exactly: every leg's share to its recipient, the total and the fees from the platform.
  const amounts = splitAmounts(TOTAL_MSAT, shares)
  if (!amounts.ok) throw new Error(`split bench shares: ${amounts.error.detail}`)
  const policy = platform.hubPolicyInfo!
  const feePerSplit = amounts.value.reduce((s, a) => s + forwardingFee(a, policy), 0)
  const expected = [
    before[0]! - succeeded * (TOTAL_MSAT + feePerSplit), ...amounts.value.map((a, i) => before[i + 1]! + succeeded * a),
  ]
  let balancesOk = true
  try {
    await waitFor(() => everyone.every(c => c.channels()[0]!.settled), 'every split channel settled', 60_000)
    balancesOk = everyone.every((c, i) => balance(c) === expected[i])
  } catch { balancesOk = false }
  if (!balancesOk) o.say(`  SPLIT BALANCES WRONG: ${everyone.map(balance).join(', ')}, expected ${expected.join(', ')}`)
  return { perS: figure(rates), p50: figure(p50), p99: figure(p99), succeeded, failed, balancesOk }
}
