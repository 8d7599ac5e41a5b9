// Scenario 18 with splices: the random interleavings of test/unit/protocol/channel/fuzz.test.ts (adds,
// fulfills, fails, fee updates, signatures, deliveries, disconnects, storage stalls, host crashes)
// plus splice-outs and splice-ins by either side, RBF, host answers arriving late, cancellations and
// confirmations. Any force close, thrown error, commitment not holding its funding's capacity, or
// commitment the two sides disagree on is a failure. Afterwards the pending splice locks, every HTLC
// settles, both sides agree on the balances and on the capacity, and the channel closes cooperatively.
import t from 'tap'
import { Pair, type Party } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { FEERATE, SpliceHosts, coin, spliceIn, spliceOut, stepOnce } from '../fixtures/splice.ts'

const SEEDS = Number(process.env.SEEDS ?? 12)
/** FIRST_SEED: replay a failing seed alone (FIRST_SEED=40 SEEDS=40). */
const FIRST_SEED = Number(process.env.FIRST_SEED ?? 1)
const STEPS = 400
const RBF_FEERATE = (n: number): number => Math.floor(FEERATE * (25 / 24) ** n) + 5 * n

function fuzz (seed: number): { error?: string; stats: Record<string, number> } {
  const p = new Pair({ seed: 1000 + seed, a: { maxAcceptedHtlcs: 12 }, b: { maxAcceptedHtlcs: 12 } })
  p.serialize = seed % 3 === 0
  p.open()
  const h = new SpliceHosts(p)
  const r = p.r
  const stats: Record<string, number> = { splice: 0, rbf: 0, signed: 0, locked: 0, abort: 0, crash: 0, disconnect: 0, add: 0 }
  let coins = 0
  const side = (): Party => (r.chance(0.5) ? p.a : p.b)
  const failed = (): string | undefined => {
    for (const x of [p.a, p.b]) {
      const f = x.events.find(e => e.type === 'channel_failed')
      if (f?.type === 'channel_failed') return `${x.name}: channel failed (${f.error.reason}: ${f.error.detail})`
    }
    return undefined
  }
  const balance = (x: Party): number => Math.floor((x.state.localCommit?.spec.toLocalMsat ?? 0) / 1000)
  for (let i = 0; i < STEPS; i++) {
    const who = side()
    const x = r.next()
    try {
      if (x < 0.14) { if (p.add(who, r.chance(0.3) ? 1_000 + r.int(600_000) : 1_000_000 + r.int(20_000_000)).ok) stats.add!++ }
      else if (x < 0.22) {
        const ids = p.settleable(who)
        if (ids.length > 0) { const id = r.pick(ids); if (r.chance(0.7)) p.fulfill(who, id); else p.fail(who, id) }
      } else if (x < 0.24) p.run(p.a, { kind: 'command', cmd: { type: 'update_fee', feeratePerKw: 253 + r.int(1500) } })
      else if (x < 0.32) p.sign(who)
      else if (x < 0.50) { for (let n = 1 + r.int(3); n > 0; n--) p.deliver(who) }
      else if (x < 0.55) { h.react() }
      // A burst: messages delivered, signatures made and hosts answering in turn, as on a quiet link.
      else if (x < 0.72) {
        for (let n = 10 + r.int(50); n > 0; n--) {
          if (stepOnce(h) !== undefined) continue
          if (!(p.sign(p.a) || p.sign(p.b))) break
        }
      } else if (x < 0.78) {
        // A splice: out of a part of the balance, or in from a fresh coin; sometimes the peer joins.
        const pending = (who.state.splice?.candidates.length ?? 0) > 0
        const rbf = pending && r.chance(0.6)
        const feerate = rbf ? RBF_FEERATE(who.state.splice!.candidates.length) : FEERATE
        const c = r.chance(0.5) ? spliceOut(20_000 + r.int(Math.max(1, Math.floor(balance(who) / 20))), true, feerate) : spliceIn(
          50_000 + r.int(500_000), coin(5000 + seed * 1000 + ++coins, 1_000_000), true, feerate,
        )
        h.respond.set(p.other(who), r.chance(0.3) ? spliceIn(
          10_000 + r.int(100_000), coin(5000 + seed * 1000 + ++coins, 300_000), false, feerate,
        ) : { contributionSat: 0 })
        if (h.request(who, c, { rbf, feeratePerKw: feerate })) stats[rbf ? 'rbf' : 'splice']!++
      } else if (x < 0.785) { p.run(who, { kind: 'command', cmd: { type: 'splice_abort', reason: 'fuzz' } }); stats.abort!++ }
      else if (x < 0.82) {
        const cands = [...(p.a.state.splice?.candidates ?? [])]
        if (cands.length > 0) {
          const c = r.pick(cands); h.confirm(c.txid, 6, [who]); h.confirm(c.txid, 6, [p.other(who)]); stats.locked!++
        }
      } else if (x < 0.83) { p.disconnect(); stats.disconnect!++ }
      else if (x < 0.85) { if (!who.stalled) who.stalled = true }
      else if (x < 0.857) { p.crash(who); stats.crash!++ }
      if (!p.connected && r.chance(0.2)) p.reconnect()
      for (const s of [p.a, p.b]) {
        if (!s.stalled) continue
        if (r.chance(0.03)) { p.crash(s); stats.crash!++ } else if (r.chance(0.15)) p.unstall(s)
      }
    } catch (e) {
      return { error: `seed ${seed} step ${i}: threw ${(e as Error).stack}`, stats }
    }
    const bad = [...p.check(), failed()].filter(Boolean)
    if (bad.length > 0) return { error: `seed ${seed} step ${i}: ${bad.join('; ')}`, stats }
  }
  stats.signed = p.a.events.filter(e => e.type === 'splice_signed').length
  stats.lockedBoth = p.a.events.filter(e => e.type === 'splice_locked').length
  // Heal: stores complete, the link comes back, answers arrive, the pending splice locks, HTLCs settle.
  p.unstall(p.a); p.unstall(p.b)
  p.reconnect()
  h.drive()
  const pending = p.a.state.splice?.candidates ?? []
  if (pending.map(c => c.txid).join() !== (p.b.state.splice?.candidates ?? []).map(c => c.txid).join()) return {
    error: `seed ${seed}: the sides disagree on the pending splices`, stats,
  }
  if (pending.length > 0) { h.confirm(pending.at(-1)!.txid); p.flush() }
  finish(p)
  const bad = [...p.check(), failed()].filter(Boolean)
  if (bad.length > 0) return { error: `seed ${seed} after healing: ${bad.join('; ')}`, stats }
  const a = p.a.state.localCommit!.spec
  const b = p.b.state.localCommit!.spec
  if (a.htlcs.length + b.htlcs.length > 0) return { error: `seed ${seed}: HTLCs left after healing`, stats }
  if (p.a.state.setup.capacitySat !== p.b.state.setup.capacitySat) return { error: `seed ${seed}: capacities differ`, stats }
  if (a.toLocalMsat !== b.toRemoteMsat || a.toLocalMsat + b.toLocalMsat !== p.a.state.setup.capacitySat * 1000) return {
    error: `seed ${seed}: final balances disagree`, stats,
  }
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

t.test(`splice fuzz: ${SEEDS} seeds × ${STEPS} random steps with splices, RBF, disconnects, stalls and crashes`, t => {
  const total: Record<string, number> = {}
  for (let seed = FIRST_SEED; seed <= SEEDS; seed++) {
    const r = fuzz(seed)
    for (const [k, v] of Object.entries(r.stats)) total[k] = (total[k] ?? 0) + v
    if (r.error !== undefined) { t.fail(r.error); return t.end() }
  }
  t.pass('no force close, no mismatch, every run healed and closed')
  if (FIRST_SEED === 1) t.ok(
    total.signed! > 10 && total.rbf! > 2 && total.lockedBoth! > 5 && total.crash! > 10 && total.disconnect! > 30,
    `the runs exercised splices and failures: ${JSON.stringify(total)}`,
  )
  t.end()
})
