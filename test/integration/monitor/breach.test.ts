// Scenario 4 on a real btcd: a party broadcasts a revoked commitment (with HTLCs both ways, its own
// HTLC-success tx in the same block; also one with nothing of the victim's on it). The victim's
// monitor alone takes every output, including the second-stage output, before to_self_delay ends.
import t from 'tap'
import { parseTx, txHex } from '../../../protocol/tx/index.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { DELAY, confirmedAt, feed, fundedPair, heldCommitment, mineUntil, send, sweptTo, wantsAfter, watch } from './fixtures/channel.ts'

const btc = await useBtcd(t)

for (const cheaterName of ['B', 'A'] as const) {
  const who = cheaterName === 'B' ? 'a client cheats the hub' : 'the hub cheats a client'
  t.test(`scenario 4: ${who}: revoked commitment with HTLCs both ways and the cheater's HTLC-success → one penalty tx takes everything before the delay ends`, async t => {
    const p = await fundedPair(btc, cheaterName === 'B' ? 41 : 42)
    const cheater = cheaterName === 'A' ? p.a : p.b
    const victim = p.other(cheater)
    const h0 = await tipHeight(btc)
    const toCheater = p.add(victim, 50_000_000, h0 + 60)  // the cheater receives it (and knows the preimage)
    const toVictim = p.add(cheater, 30_000_000, h0 + 70)
    p.settle()
    const w = await watch(btc, victim)
    await feed(w)
    const old = heldCommitment(cheater)
    const stale = [
      ...cheater.monitor, { seq: 100_000, kind: 'preimage' as const, paymentHash: toCheater.hash, preimage: toCheater.preimage },
    ]
    // The channel moves on: both HTLCs are fulfilled, and the old commitment is revoked.
    p.fulfill(cheater, toCheater.id); p.fulfill(victim, toVictim.id); p.settle()
    await feed(w)
    t.ok(w.side.monitor.some(u => u.kind === 'revocation'), 'the victim holds revocations')

    const from = await tipHeight(btc)
    const success = wantsAfter(cheater, stale, old, from + 1).find(x => x.reason === 'htlc_success')
    t.ok(success !== undefined, 'the cheater has its HTLC-success ready')
    await send(btc, txHex(old))
    await send(btc, success!.hex)
    await btc.mine(1)
    const C = await tipHeight(btc)
    await mineUntil(btc, () => w.host.state(cheater.state.channelId)?.closed === true || (w.events.some(e => e.kind === 'closed')), 40)
    const swept = await sweptTo(btc, w.sweep, from)
    t.equal(swept.txids.length, 1, 'one penalty tx')
    const penaltyHeight = await confirmedAt(btc, swept.txids[0]!)
    t.ok(
      penaltyHeight !== undefined && penaltyHeight < C + DELAY - 1,
      `penalty confirmed at ${penaltyHeight}, before the cheater's to_local matures at ${C + DELAY - 1}`,
    )
    // Everything on the revoked commitment, minus the fee the cheater's HTLC-success paid (its own
    // HTLC value) and the penalty tx's fee: exact.
    const commitmentTotal = old.outputs.reduce((n, o) => n + o.valueSat, 0)
    const s = parseTx(success!.hex)
    const htlcOut = old.outputs[s.inputs[0]!.vout]!.valueSat
    const cheaterHtlcFee = htlcOut - s.outputs[0]!.valueSat
    t.equal(swept.received + swept.fees, commitmentTotal - cheaterHtlcFee, `victim takes ${swept.received} sat + ${swept.fees} sat ` +
      `penalty fee = every output (${commitmentTotal}) − the cheater's HTLC tx fee (${cheaterHtlcFee})`)
    t.ok(swept.fees < 5_000, `penalty fee ${swept.fees} sat`)
    t.same(
      w.events.filter(e => e.kind === 'preimage_learned'), [],
      'the preimage in the cheater\'s HTLC-success was already held: not reported again',
    )
    await w.host.stop()
  })
}

t.test('scenario 4: a revoked commitment with nothing of the victim\'s on it: its to_local is taken', async t => {
  const p = await fundedPair(btc, 43, 0) // B starts with nothing
  const old = heldCommitment(p.a) // A's commitment 0: only A's to_local
  t.equal(old.outputs.length, 1, 'a single output: the cheater\'s to_local')
  const pay = p.add(p.a, 100_000_000, (await tipHeight(btc)) + 60)
  p.settle(); p.fulfill(p.b, pay.id); p.settle()
  const w = await watch(btc, p.b)
  await feed(w)
  const from = await tipHeight(btc)
  await send(btc, txHex(old))
  await btc.mine(1)
  const C = await tipHeight(btc)
  await mineUntil(btc, () => w.events.some(e => e.kind === 'closed'), 40)
  const swept = await sweptTo(btc, w.sweep, from)
  const penaltyHeight = await confirmedAt(btc, swept.txids[0]!)
  t.ok(penaltyHeight! < C + DELAY - 1, 'before the delay ends')
  t.equal(swept.received + swept.fees, old.outputs[0]!.valueSat, `B takes A's whole to_local (${swept.received} + fee ${swept.fees})`)
  await w.host.stop()
})
