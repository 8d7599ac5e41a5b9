// Two in-memory parties, 10,000 random adds, fulfills and fails in both directions with random
// batching of commitments and random delivery order. After every step both sides agree on both
// commitments and every commitment holds exactly the channel capacity.
import t from 'tap'
import { Pair, type Party } from './fixtures/harness.ts'

const UPDATES = Number(process.env.UPDATES ?? 10_000)

t.test(`${UPDATES} random updates, both directions, random commitment batching`, t => {
  // 15 HTLCs a side keeps each commitment's signature count (and the run time) moderate.
  const p = new Pair({ seed: 42, pushMsat: 5_000_000_000, a: { maxAcceptedHtlcs: 15 }, b: { maxAcceptedHtlcs: 15 } })
  p.open()
  const r = p.r
  let updates = 0
  let steps = 0
  const counts = { add: 0, addRefused: 0, fulfill: 0, fail: 0, sign: 0, fee: 0 }
  const side = (): Party => (r.chance(0.5) ? p.a : p.b)
  while (updates < UPDATES) {
    const x = r.next()
    const who = side()
    if (x < 0.25) {
      const amount = r.chance(0.3) ? 1_000 + r.int(700_000) : 1_000_000 + r.int(50_000_000)
      const h = p.add(who, amount)
      if (h.ok) counts.add++; else counts.addRefused++
      updates++
    } else if (x < 0.42) {
      const ids = p.settleable(who)
      if (ids.length === 0) continue
      const id = r.pick(ids)
      if (r.chance(0.7)) { p.fulfill(who, id); counts.fulfill++ } else { p.fail(who, id); counts.fail++ }
      updates++
    } else if (x < 0.43) {
      p.run(p.a, { kind: 'command', cmd: { type: 'update_fee', feeratePerKw: 253 + r.int(3000) } })
      counts.fee++
    } else if (x < 0.55) {
      if (p.sign(who)) counts.sign++
    } else {
      // Deliver a random batch: the wire is ordered, but how much is in flight varies.
      for (let n = 1 + r.int(4); n > 0; n--) p.deliver(who)
    }
    steps++
    const bad = p.check()
    if (bad.length > 0) { t.fail(`step ${steps}: ${bad.join('; ')}`); return t.end() }
  }
  // Settle everything that is left, then both sides must hold the same final balances.
  for (let round = 0; round < 50; round++) {
    p.settle()
    const pending = [...p.settleable(p.a).map(id => [p.a, id] as const), ...p.settleable(p.b).map(id => [p.b, id] as const)]
    if (pending.length === 0) break
    for (const [who, id] of pending) p.fulfill(who, id)
  }
  p.settle()
  t.same(p.check(), [], 'both sides agree at the end')
  const a = p.a.state.localCommit!.spec
  const b = p.b.state.localCommit!.spec
  t.equal(a.htlcs.length + b.htlcs.length, 0, 'no HTLC left')
  t.equal(a.toLocalMsat + b.toLocalMsat, p.capacitySat * 1000, 'final balances sum to the capacity')
  t.equal(a.toLocalMsat, b.toRemoteMsat, 'A and B agree on A\'s balance')
  t.notOk([...p.a.events, ...p.b.events].some(e => e.type === 'channel_failed'), 'no channel failed')
  t.ok(counts.fulfill > 1000 && counts.fail > 300 && counts.add > 3000, `a real mix of updates: ${JSON.stringify(counts)}`)
  t.comment(`steps ${steps}, commitments A ${p.a.state.localCommit!.index} B ${p.b.state.localCommit!.index}, ${JSON.stringify(counts)}`)
  t.end()
})
