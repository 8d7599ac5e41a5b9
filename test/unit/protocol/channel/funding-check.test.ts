// The funding output checked before a channel is used (protocol/channel/funding-check.ts; BOLT #2
// channel_ready: "MUST NOT send `channel_ready` unless outpoint ... pays exactly `funding_satoshis` to
// the scriptpubkey specified in BOLT #3"), and the fundee's deadline. A is the funder, B the fundee
// (minimum_depth 3 unless said otherwise); the funding outpoint is made up, so the tests say what a
// node shows at it.
import t, { type Test } from 'tap'
import { expectedFundingOutput, type ChannelInput, type FundingOutputSeen } from '../../../../protocol/channel/index.ts'
import type { Msat } from '../../../../protocol/types.ts'
import { P2WPKH_A, Pair, type Party } from './fixtures/harness.ts'

/** A pair whose funding_created / funding_signed went through: both wait for the funding. */
function funded (opts: ConstructorParameters<typeof Pair>[0] = {}): Pair {
  const p = new Pair({ seed: 301, ...opts })
  p.flush()
  p.run(p.a, { kind: 'command', cmd: { type: 'funding_built', txid: 'ab'.repeat(32) as never, outputIndex: 1 } })
  p.flush()
  if (p.a.state.phase !== 'awaiting_funding_depth' || p.b.state.phase !== 'awaiting_funding_depth') throw new Error('not funded')
  return p
}

const agreed = (p: Party): FundingOutputSeen => ({ ...expectedFundingOutput(p.state.setup), spent: false })
const seen = (depth: number, output: FundingOutputSeen | null): ChannelInput => ({
  kind: 'chain', event: { type: 'funding_depth', depth, output },
})
const OTHER_SCRIPT = '0014' + '99'.repeat(20)

/** Everything `q` did in reaction to `input` (its writes complete at once, releasing what they held). */
function react (p: Pair, q: Party, input: ChannelInput): string[] {
  const [w, sent, events] = [q.writesDone, q.sent.length, q.events.length]
  p.run(q, input)
  return [
    ...Array<string>(q.writesDone - w).fill('write'), ...q.sent.slice(sent).map(m => `send:${m.type}`),
    ...q.events.slice(events).map(e => `emit:${e.type}`)
  ]
}

/** What B did in reaction to `output`, at depth 6 (well past its minimum_depth). */
function bSees (output: (p: Party) => FundingOutputSeen | null): { p: Pair; effects: string[] } {
  const p = funded()
  return { p, effects: react(p, p.b, seen(6, output(p.b))) }
}

function abandoned (t: Test, p: Pair, effects: string[], reason: string): void {
  t.equal(p.b.state.phase, 'abandoned', 'the fundee abandons the channel')
  t.same(effects, ['write', 'send:error', 'emit:channel_failed'], 'one write, an error to the funder, channel_failed')
  t.notOk(p.b.sent.some(m => m.type === 'channel_ready'), 'no channel_ready')
  t.notOk(p.b.monitor.some(u => u.kind === 'force_close'), 'nothing to broadcast: no force_close for the monitor')
  const failed = p.b.events.find(e => e.type === 'channel_failed')
  t.equal(failed?.type === 'channel_failed' && failed.error.reason, reason)
  t.equal(failed?.type === 'channel_failed' && failed.broadcastOurCommitment, false)
}

t.test('recv funding_depth (output pays another script): abandoned, never ready', async t => {
  const { p, effects } = bSees(q => ({ ...agreed(q), scriptPubkey: OTHER_SCRIPT }))
  abandoned(t, p, effects, 'funding_output_mismatch')
  // The funder's channel_ready, and anything after it, changes nothing: the channel is final.
  p.run(p.a, seen(6, agreed(p.a)))
  p.flush()
  t.equal(p.b.state.phase, 'abandoned')
  t.equal(p.a.state.phase, 'failed', "the funder got the fundee's error")
})

t.test('recv funding_depth (output holds less than funding_satoshis): abandoned', async t => {
  const { p, effects } = bSees(q => ({ ...agreed(q), valueSat: q.state.setup.capacitySat - 1 }))
  abandoned(t, p, effects, 'funding_output_mismatch')
})

t.test('recv funding_depth (output holds more than funding_satoshis): abandoned (the sighash commits to the amount)', async t => {
  const { p, effects } = bSees(q => ({ ...agreed(q), valueSat: q.state.setup.capacitySat + 1 }))
  abandoned(t, p, effects, 'funding_output_mismatch')
})

t.test('recv funding_depth (no output at the funding index): abandoned', async t => {
  const { p, effects } = bSees(() => null)
  abandoned(t, p, effects, 'funding_output_missing')
})

t.test('recv funding_depth (output already spent): the fundee abandons; a funder fails and lets its monitor act', async t => {
  const { p, effects } = bSees(q => ({ ...agreed(q), spent: true }))
  abandoned(t, p, effects, 'funding_output_spent')
  const f = funded()
  f.run(f.a, seen(6, { ...agreed(f.a), spent: true }))
  t.equal(f.a.state.phase, 'failed', 'its own coins are in the output: the funder fails the channel')
  t.ok(f.a.monitor.some(u => u.kind === 'force_close'), 'and its monitor takes over')
})

t.test('a mismatch is final at any depth: seen in the mempool (depth 0) it abandons at once', async t => {
  const p = funded()
  p.run(p.b, seen(0, { ...agreed(p.b), valueSat: 1_000 }))
  t.equal(p.b.state.phase, 'abandoned')
})

t.test('the agreed output: channel_ready only at minimum_depth, then normal', async t => {
  const p = funded()
  t.same(react(p, p.b, seen(0, agreed(p.b))), [], 'in the mempool: nothing')
  t.same(react(p, p.b, seen(2, agreed(p.b))), [], 'below minimum_depth 3: nothing')
  t.same(react(p, p.b, seen(3, agreed(p.b))), ['write', 'send:channel_ready'], 'at minimum_depth: channel_ready')
  p.run(p.a, seen(3, agreed(p.a)))
  p.flush()
  t.equal(p.a.state.phase, 'normal')
  t.equal(p.b.state.phase, 'normal')
})

t.test('zero-conf: only a funder whose policy allows it counts its own funding from the mempool', async t => {
  const own = funded({ minimumDepth: 0, policyA: { zeroConfOwnFunding: true } })
  t.same(react(own, own.a, seen(0, agreed(own.a))), ['write', 'send:channel_ready'], 'the funder, zero-conf allowed')
  t.same(react(own, own.b, seen(0, agreed(own.b))), [], 'the fundee never trusts the mempool, even with minimum_depth 0')
  const strict = funded({ minimumDepth: 0 })
  t.same(react(strict, strict.a, seen(0, agreed(strict.a))), [], 'a funder without the policy waits for a confirmation')
  const fundeeAllows = funded({ minimumDepth: 0, policyB: { zeroConfOwnFunding: true } })
  t.same(react(fundeeAllows, fundeeAllows.b, seen(0, agreed(fundeeAllows.b))), [], 'the policy means nothing to a fundee')
})

t.test('the fundee abandons a funding that has not made the channel ready by its deadline; the funder never does', async t => {
  const p = funded({ policyA: { fundingTimeoutBlocks: 5 }, policyB: { fundingTimeoutBlocks: 10 } })
  t.equal(p.b.state.fundingDeadline, 110, 'height 100 + 10 blocks, set at funding_created')
  t.same(react(p, p.b, { kind: 'chain', event: { type: 'block', height: 109 } }), [], 'one block before: nothing')
  const effects = react(p, p.b, { kind: 'chain', event: { type: 'block', height: 110 } })
  abandoned(t, p, effects, 'funding_timeout')
  t.same(react(p, p.a, { kind: 'chain', event: { type: 'block', height: 200 } }), [], "the funder's deadline never abandons its channel")
  t.equal(p.a.state.phase, 'awaiting_funding_depth')
})

t.test('a channel made ready in time has no deadline left to meet', async t => {
  const p = funded({ policyB: { fundingTimeoutBlocks: 10 } })
  p.run(p.a, seen(3, agreed(p.a)))
  p.run(p.b, seen(3, agreed(p.b)))
  p.flush()
  p.run(p.b, { kind: 'chain', event: { type: 'block', height: 500 } })
  t.equal(p.b.state.phase, 'normal')
})

t.test('recv shutdown before the fundee sent channel_ready: abandoned (no closing tx for an unseen output)', async t => {
  const shutdown = (p: Pair): ChannelInput => ({
    kind: 'peer', msg: { type: 'shutdown', channel_id: p.b.state.channelId, scriptpubkey: P2WPKH_A },
  })
  const p = funded()
  t.same(react(p, p.b, shutdown(p)), ['write', 'send:error', 'emit:channel_failed'])
  t.equal(p.b.state.phase, 'abandoned')
  const ready = funded()
  ready.run(ready.b, seen(3, agreed(ready.b)))
  t.same(
    react(ready, ready.b, shutdown(ready)), ['write', 'send:shutdown', 'emit:shutdown_complete'],
    'after its channel_ready (funding confirmed) shutdown is honoured',
  )
})

t.test('the fundee fails a channel whose funding is not confirmed: abandoned, no force close', async t => {
  const p = funded()
  p.run(p.b, { kind: 'peer', msg: { type: 'error', channel_id: p.b.state.channelId, data: 'bye' } })
  t.equal(p.b.state.phase, 'abandoned')
  t.notOk(p.b.monitor.some(u => u.kind === 'force_close'))
  const f = funded()
  f.run(f.a, { kind: 'peer', msg: { type: 'error', channel_id: f.a.state.channelId, data: 'bye' } })
  t.equal(f.a.state.phase, 'failed', 'the funder has its coins in it: it fails and force-closes')
  t.ok(f.a.monitor.some(u => u.kind === 'force_close'))
})

t.test('no HTLC on a channel whose funding was never confirmed', async t => {
  const p = funded()
  p.run(p.b, seen(6, { ...agreed(p.b), scriptPubkey: OTHER_SCRIPT }))
  const add = {
    type: 'update_add_htlc' as const, channel_id: p.b.state.channelId, id: 0, amount_msat: 1_000 as Msat, payment_hash: '11'.repeat(32),
    cltv_expiry: 200 as never, recipient: p.nodeB,
  }
  t.same(react(p, p.b, { kind: 'peer', msg: add }), [], 'ignored by the abandoned channel')
  t.equal(p.b.state.remoteChanges.proposed.length, 0)
})
