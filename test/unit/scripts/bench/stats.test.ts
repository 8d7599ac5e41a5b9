// The benchmark's pure parts (scripts/bench/stats.ts, profile.ts): summaries, percentiles, the
// end-of-run balance check and profile reading. No benchmark runs here, and nothing about timing.
import t from 'tap'
import { balanceProblems, figure, percentile, table, type ChannelView } from '../../../../scripts/bench/stats.ts'
import { topSelfTime, topTotalTime, type CpuProfile } from '../../../../scripts/bench/profile.ts'
import { parseRequest } from '../../../../scripts/bench/ipc.ts'

t.test('figure: median of an odd and an even count, min, max, runs kept in order', async t => {
  t.same(figure([3, 1, 2]), { median: 2, min: 1, max: 3, runs: [3, 1, 2] })
  t.same(figure([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, runs: [4, 1, 3, 2] })
  t.throws(() => figure([]))
})

t.test('percentile: nearest rank', async t => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i) // 100..1, unsorted on purpose
  t.equal(percentile(xs, 50), 50)
  t.equal(percentile(xs, 99), 99)
  t.equal(percentile(xs, 100), 100)
  t.equal(percentile([7], 99), 7)
  t.equal(percentile([1, 2, 3], 50), 2)
  t.throws(() => percentile([], 50))
})

const good = (over: Partial<ChannelView> = {}): ChannelView => ({
  channelId: 'ab'.repeat(32), capacitySat: 1_000,
  hub: { localMsat: 600_000, remoteMsat: 400_000, htlcs: 0 },
  client: { localMsat: 400_000, remoteMsat: 600_000, inFlightMsat: 0 },
  ...over,
})

t.test('balanceProblems: agreeing, settled channels that sum to capacity pass', async t => {
  t.same(balanceProblems([good(), good({ channelId: 'cd'.repeat(32) })]), [])
})

t.test('balanceProblems: each way of being wrong is reported', async t => {
  t.match(balanceProblems([good({ hub: undefined })]), [/unknown to the hub/])
  t.match(balanceProblems([good({ client: undefined })]), [/unknown to its client/])
  t.match(
    balanceProblems([good({ client: { localMsat: 400_001, remoteMsat: 599_999, inFlightMsat: 0 } })]),
    [/hub says 600000\/400000, client says 599999\/400001/],
  )
  t.match(balanceProblems([good({ hub: { localMsat: 600_000, remoteMsat: 400_000, htlcs: 1 } })]), [/in flight/])
  t.match(balanceProblems([good({ client: { localMsat: 400_000, remoteMsat: 600_000, inFlightMsat: 5 } })]), [/in flight/])
  // Both sides agree, but money appeared: the capacity check catches it.
  const inflated = good({
    hub: { localMsat: 600_001, remoteMsat: 400_000, htlcs: 0 }, client: { localMsat: 400_000, remoteMsat: 600_001, inFlightMsat: 0 },
  })
  t.match(balanceProblems([inflated]), [/sum to 1000001 msat, capacity is 1000000/])
})

t.test('table: one row per figure, n/a for a missing one', async t => {
  const out = table([
    { name: 'payments_per_s', f: figure([1, 2, 3]), unit: '/s', digits: 1 },
    { name: 'latency_ms_p50', f: undefined, unit: 'ms', digits: 2 },
  ]).split('\n')
  t.equal(out.length, 4)
  t.match(out[2], /^payments_per_s\s+2\.0\s+1\.0\s+3\.0\s+\/s$/)
  t.match(out[3], /^latency_ms_p50\s+n\/a/)
})

t.test('topSelfTime: self time per function, idle left out, ranked', async t => {
  const frame = (functionName: string, url = 'file:///x/hub/a.ts', lineNumber = 0) => ({ functionName, url, lineNumber })
  const p: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3, 4] },
      { id: 2, callFrame: frame('hot', 'file:///x/hub/store/a.ts', 9) },
      { id: 3, callFrame: frame('cold') },
      { id: 4, callFrame: frame('(idle)', '') },
    ],
    samples: [2, 2, 3, 4, 2, 4],
    timeDeltas: [1000, 1000, 1000, 5000, 2000, 5000],
  }
  const r = topSelfTime(p, 10)
  t.equal(r.totalMs, 5)
  t.equal(r.idleMs, 10)
  t.same(r.rows.map(x => [x.name, x.where, x.selfMs]), [['hot', 'hub/store/a.ts:10', 4], ['cold', 'hub/a.ts:1', 1]])
  t.equal(r.rows[0]!.percent, 80)
  t.equal(topSelfTime(p, 1).rows.length, 1)
})

t.test('topTotalTime: time in a function and its callees, a recursion counted once, idle left out, filtered by name', async t => {
  const frame = (functionName: string, url = 'file:///x/hub/a.ts', lineNumber = 0) => ({ functionName, url, lineNumber })
  const p: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 6] },
      { id: 2, callFrame: frame('deliver', 'file:///x/hub/audit/receipts.ts', 60), children: [3] },
      { id: 3, callFrame: frame('sign', 'file:///x/protocol/receipt/receipt.ts', 80), children: [4] },
      { id: 4, callFrame: frame('deliver', 'file:///x/hub/audit/receipts.ts', 60) },
      { id: 5, callFrame: frame('other', 'file:///x/host/store/a.ts', 1) },
      { id: 6, callFrame: frame('(idle)', '') },
    ],
    samples: [2, 3, 4, 5, 6],
    timeDeltas: [1000, 2000, 3000, 4000, 9000],
  }
  const r = topTotalTime(p, 10)
  t.equal(r.totalMs, 10, 'busy time, idle left out')
  t.same(r.rows.map(x => [x.name, x.where, x.totalMs]), [
    ['deliver', 'hub/audit/receipts.ts:61', 6], ['sign', 'protocol/receipt/receipt.ts:81', 5], ['other', 'host/store/a.ts:2', 4],
  ], 'deliver holds its own sample and sign\'s, the recursion once')
  t.equal(r.rows[0]!.percent, 60)
  t.same(topTotalTime(p, 10, /^sign$/).rows.map(x => x.name), ['sign'], 'only the functions asked for')
  t.equal(topTotalTime(p, 1).rows.length, 1)
})

t.test('parseRequest: only { id: number, cmd: string } is a request', async t => {
  t.same(parseRequest({ id: 1, cmd: 'pay', args: { a: 1 } }), { id: 1, cmd: 'pay', args: { a: 1 } })
  t.same(parseRequest({ id: 2, cmd: 'stop' }), { id: 2, cmd: 'stop', args: {} })
  t.equal(parseRequest({ id: '1', cmd: 'pay' }), undefined)
  t.equal(parseRequest(null), undefined)
  t.equal(parseRequest('stop'), undefined)
})
