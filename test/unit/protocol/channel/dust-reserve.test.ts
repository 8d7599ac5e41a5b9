// Scenario 16: dust and reserve. The total trimmed (dust) HTLC value in flight is capped on both the
// sending and the receiving side; neither side can spend its channel reserve.
import t from 'tap'
import { dustExposureMsat } from '../../../../protocol/channel/index.ts'
import type { Msat } from '../../../../protocol/types.ts'
import { Pair, type Party } from './fixtures/harness.ts'
import { finish } from './fixtures/flow.ts'

const reason = (p: Party, from: number): string | undefined => {
  const e = p.events.slice(from).find(e => e.type === 'command_failed')
  return e?.type === 'command_failed' ? e.error.reason : undefined
}

// Dust at 253 sat/kw with a 546 sat dust limit: below 546 + 177 = 723 sat (received) / 546 + 167 (offered).
const DUST = 600_000

t.test('send: dust HTLCs stop at max_dust_htlc_exposure_msat', t => {
  const p = new Pair({ seed: 61, policyA: { maxDustExposureMsat: 2_000_000 as Msat } })
  p.open()
  const results: Array<string | undefined> = []
  for (let i = 0; i < 5; i++) { const n = p.a.events.length; p.add(p.a, DUST); results.push(reason(p.a, n)) }
  t.same(results, [undefined, undefined, undefined, 'dust_exposure', 'dust_exposure'], '3 × 600,000 fit under 2,000,000; the 4th does not')
  p.settle()
  const spec = p.a.state.localCommit!.spec
  t.ok(dustExposureMsat('static_remotekey', spec, 'local', 546) <= 2_000_000, 'exposure within the cap')
  const n = p.a.events.length
  p.add(p.a, 5_000_000)
  t.equal(reason(p.a, n), undefined, 'a non-dust HTLC is still fine')
  finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('recv: dust beyond the receiver\'s cap is failed once committed (not a protocol violation)', t => {
  const p = new Pair({ seed: 62, policyB: { maxDustExposureMsat: 1_000_000 as Msat } })
  p.open()
  p.add(p.a, DUST); p.add(p.a, DUST) // A's own cap (default 5,000,000) lets both go
  p.settle()
  t.same(p.b.state.autoFail, [], 'the marks are consumed')
  const failed = p.b.events.filter(e => e.type === 'htlc_auto_failed')
  t.equal(failed.length, 1, 'the second dust HTLC pushed B over its cap and was failed back')
  t.equal(p.b.events.filter(e => e.type === 'htlc_received').length, 1, 'the first was offered to B\'s host')
  p.settle()
  t.ok(p.a.events.some(e => e.type === 'htlc_failed' && e.reason === 'temporary_channel_failure'))
  t.same(p.check(), [])
  t.end()
})

t.test('reserve: the non-funder cannot spend below the reserve the funder asked for', t => {
  const p = new Pair({ seed: 63 })
  p.open()
  const balance = p.b.state.localCommit!.spec.toLocalMsat
  const reserve = p.b.state.setup.remote!.channelReserveSat * 1000
  let n = p.b.events.length
  p.add(p.b, balance - reserve + 1000)
  t.equal(reason(p.b, n), 'reserve')
  n = p.b.events.length
  p.add(p.b, balance - reserve)
  t.equal(reason(p.b, n), undefined, 'down to exactly the reserve is allowed')
  finish(p)
  t.equal(p.b.state.localCommit!.spec.toLocalMsat, reserve)
  t.same(p.check(), [])
  t.end()
})

t.test('reserve: the funder keeps its reserve plus the commitment fee (with the fee-spike buffer)', t => {
  const p = new Pair({ seed: 64, b: { maxHtlcValueInFlightMsat: 10_000_000_000 as Msat } })
  p.open()
  const balance = p.a.state.localCommit!.spec.toLocalMsat
  const reserve = p.a.state.setup.remote!.channelReserveSat * 1000
  let n = p.a.events.length
  p.add(p.a, balance - reserve)
  t.equal(reason(p.a, n), 'insufficient_funds', 'the fee must come on top of the reserve')
  n = p.a.events.length
  p.add(p.a, balance - reserve - 1_000_000) // leaves 1,000 sat: enough for 2× the fee of one more HTLC
  t.equal(reason(p.a, n), undefined)
  finish(p)
  t.ok(p.a.state.localCommit!.spec.toLocalMsat >= reserve, 'never below the reserve')
  t.same(p.check(), [])
  t.end()
})
