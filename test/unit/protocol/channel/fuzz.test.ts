// Scenario 18: state-machine fuzzing. Random interleavings of adds, fulfills, fails, fee updates,
// signatures, deliveries, disconnects, storage stalls and host crashes between two parties. Any force
// close, any thrown error, any commitment that does not hold the capacity or that the two sides do not
// agree on is a failure. Afterwards the channel must settle every HTLC and both sides must agree on
// the final balances, then close cooperatively. (LDK chanmon_consistency, Eclair FuzzySpec.)
import t from 'tap'
import { Pair, type Party } from './fixtures/harness.ts'
import { finish } from './fixtures/flow.ts'

const SEEDS = Number(process.env.SEEDS ?? 24)
const STEPS = 400

function fuzz (seed: number): { error?: string; stats: Record<string, number> } {
  const p = new Pair({ seed, a: { maxAcceptedHtlcs: 12 }, b: { maxAcceptedHtlcs: 12 } })
  p.serialize = seed % 4 === 0 // a quarter of the runs store snapshots as JSON, like a real store
  p.open()
  const r = p.r
  const stats: Record<string, number> = { disconnect: 0, crash: 0, stall: 0, sign: 0, add: 0, settle: 0, fee: 0 }
  const side = (): Party => (r.chance(0.5) ? p.a : p.b)
  const failed = (): string | undefined => {
    for (const x of [p.a, p.b]) {
      const f = x.events.find(e => e.type === 'channel_failed')
      if (f?.type === 'channel_failed') return `${x.name}: channel failed (${f.error.reason}: ${f.error.detail})`
    }
    return undefined
  }
  for (let i = 0; i < STEPS; i++) {
    const who = side()
    const x = r.next()
    try {
      if (x < 0.2) { p.add(who, r.chance(0.3) ? 1_000 + r.int(600_000) : 1_000_000 + r.int(30_000_000)); stats.add!++ }
      else if (x < 0.32) {
        const ids = p.settleable(who)
        if (ids.length > 0) { const id = r.pick(ids); if (r.chance(0.7)) p.fulfill(who, id); else p.fail(who, id); stats.settle!++ }
      } else if (x < 0.34) { p.run(p.a, { kind: 'command', cmd: { type: 'update_fee', feeratePerKw: 253 + r.int(2000) } }); stats.fee!++ }
      else if (x < 0.46) { if (p.sign(who)) stats.sign!++ }
      else if (x < 0.88) { for (let n = 1 + r.int(3); n > 0; n--) p.deliver(who) }
      else if (x < 0.91) { p.disconnect(); stats.disconnect!++ }
      else if (x < 0.94) { if (!who.stalled) { who.stalled = true; stats.stall!++ } }
      else if (x < 0.95) { p.crash(who); stats.crash!++ }
      // Outages end: a stalled store completes, a dropped connection comes back.
      if (!p.connected && r.chance(0.15)) p.reconnect()
      for (const s of [p.a, p.b]) {
        if (!s.stalled) continue
        // A stalled store either completes, or the host dies with the write unfinished.
        if (r.chance(0.03)) { p.crash(s); stats.crash!++ } else if (r.chance(0.1)) p.unstall(s)
      }
    } catch (e) {
      return { error: `step ${i}: threw ${(e as Error).stack}`, stats }
    }
    const bad = [...p.check(), failed()].filter(Boolean)
    if (bad.length > 0) return { error: `seed ${seed} step ${i}: ${bad.join('; ')}`, stats }
  }
  // Heal: stores complete, the connection comes back, everything settles.
  p.unstall(p.a); p.unstall(p.b)
  p.reconnect()
  finish(p)
  const bad = [...p.check(), failed()].filter(Boolean)
  if (bad.length > 0) return { error: `seed ${seed} after healing: ${bad.join('; ')}`, stats }
  const a = p.a.state.localCommit!.spec
  const b = p.b.state.localCommit!.spec
  if (a.htlcs.length + b.htlcs.length > 0) return { error: `seed ${seed}: HTLCs left after healing`, stats }
  if (a.toLocalMsat !== b.toRemoteMsat || a.toLocalMsat + b.toLocalMsat !== p.capacitySat * 1000) return {
    error: `seed ${seed}: final balances disagree`, stats,
  }
  // And the channel still closes cooperatively, both sides agreeing on the closing transaction.
  p.run(r.chance(0.5) ? p.a : p.b, { kind: 'command', cmd: { type: 'shutdown' } })
  p.flush()
  const fa = p.a.events.find(e => e.type === 'closing_agreed')
  const fb = p.b.events.find(e => e.type === 'closing_agreed')
  if (p.a.state.phase !== 'closing' || p.b.state.phase !== 'closing' || fa?.type !== 'closing_agreed' || fb?.type !== 'closing_agreed' ||
    fa.feeSat !== fb.feeSat) {
    return { error: `seed ${seed}: cooperative close did not agree (${p.a.state.phase}/${p.b.state.phase})`, stats }
  }
  return { stats }
}

t.test(`fuzz: ${SEEDS} seeds × ${STEPS} random steps with disconnects, stalls and crashes`, t => {
  const total: Record<string, number> = {}
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = fuzz(seed)
    for (const [k, v] of Object.entries(r.stats)) total[k] = (total[k] ?? 0) + v
    if (r.error !== undefined) { t.fail(r.error); return t.end() }
  }
  t.pass('no force close, no mismatch, every run healed')
  t.ok(
    total.crash! > 40 && total.disconnect! > 100 && total.stall! > 60 && total.settle! > 300,
    `the runs exercised failures: ${JSON.stringify(total)}`,
  )
  t.end()
})
