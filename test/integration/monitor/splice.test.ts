// Scenario 23 on a real btcd: chain enforcement across splice candidates. Channels spliced by the real
// state machine (both sides hold the peer's signatures on every candidate's commitments), each side
// with its own MonitorHost. The splice transaction confirming is not a close, and after splice_locked
// the monitor enforces the new funding (across a restart); a commitment of the old funding, of the
// splice and of its RBF confirms while the splice is unconfirmed: every output is swept exactly; a
// revoked commitment of a candidate, and of the old funding after splice_locked (a reorg replaces the
// splice): punished exactly; a reorg of the splice before splice_locked: back on the old funding.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { tinyCurve } from '../../../protocol/crypto/tiny.ts'
import { p2wpkh, txHex, txid as txidOf, type Tx } from '../../../protocol/tx/index.ts'
import { bytesToHex, type Txid } from '../../../protocol/types.ts'
import type { KeyedPair, Side } from '../../../scripts/lib/keyed-pair.ts'
import { tipHeight, useBtcd, type Btcd } from '../../helpers/btcd.ts'
import { tempDir } from '../../helpers/hub.ts'
import { confirmSplice, heldOn, spliceOut, spliceTxHex } from '../../fixtures/keyed-splice.ts'
import {
  CAPACITY, DEPTH, confirmedAt, feed, fundedPair, mineUntil, secondStageFees, sweptTo, watch, type Watch,
} from './fixtures/channel.ts'

const btc = await useBtcd(t)
const PAYOUT = bytesToHex(p2wpkh(tinyCurve.pubkey(Uint8Array.from(randomBytes(32)))))

async function sync (b: Btcd): Promise<void> {
  const s = await b.chain.syncFollowers()
  if (!s.ok) throw new Error(s.error.detail)
}
async function invalidate (b: Btcd, height: number): Promise<void> {
  const hash = await b.chain.getBlockHash(height)
  if (!hash.ok || hash.value === null) throw new Error('no block')
  const r = await b.chain.invalidateBlock(hash.value)
  if (!r.ok) throw new Error(r.error.detail)
  await sync(b)
}
/** A block holding exactly these transactions (whatever the node's mempool holds). */
async function mineExactly (b: Btcd, txs: string[]): Promise<void> {
  const r = await b.chain.submitBlock(txs)
  if (!r.ok) throw new Error(`block refused: ${r.error.kind} ${'detail' in r.error ? r.error.detail : ''}`)
  await sync(b)
}
const splice = async (p: KeyedPair, feeratePerKw: number, rbf = false): Promise<Txid> =>
  spliceOut(p, p.a, { amountSat: 100_000, script: PAYOUT, feeratePerKw, locktime: await tipHeight(btc), rbf })
const closed = (w: Watch): boolean => w.events.some(e => e.kind === 'closed')
const sum = (tx: Tx): number => tx.outputs.reduce((n, o) => n + o.valueSat, 0)
/** Each side's balance (sat) on funding `txid`: the channel's, moved by that candidate's contributions. */
function balances (p: KeyedPair, txid: string): { a: number; b: number; capacity: number } {
  const spec = p.a.state.localCommit!.spec
  const c = p.a.state.splice?.candidates.find(x => x.txid === txid)
  return {
    a: Math.floor(spec.toLocalMsat / 1000) + (c?.contributionSat.local ?? 0),
    b: Math.floor(spec.toRemoteMsat / 1000) + (c?.contributionSat.remote ?? 0),
    capacity: c?.capacitySat ?? p.a.state.setup.capacitySat,
  }
}

t.test('scenario 23: the splice tx confirming is not a close; after splice_locked (and a restart) the monitor enforces the new funding', async t => {
  const p = await fundedPair(btc, 231)
  const id = p.a.state.channelId
  const dir = tempDir('monitor-splice')
  let a = await watch(btc, p.a, { dir })
  const b = await watch(btc, p.b)
  await feed(a); await feed(b)
  const txid = await splice(p, 2500)
  await feed(a); await feed(b)
  t.ok(a.host.broadcasted.get(id)?.has(txid), 'A\'s monitor broadcast the signed splice')
  await btc.mine(1)
  const S = (await confirmedAt(btc, txid))!
  t.ok(S !== undefined, 'the splice confirmed')
  const tx = await btc.chain.getRawTransaction(txid)
  t.ok(tx.ok && tx.value?.tx.outputs.some(o => o.scriptPubKey === PAYOUT && o.value === 100_000), 'the payout is on-chain, exactly')
  await btc.mine(DEPTH + 3)
  for (const w of [a, b]) {
    t.same(w.events.filter(e => e.kind === 'closed' || e.kind === 'force_closing'), [], `${w.side.name}: no close, no force close`)
    const s = w.host.state(id)!
    t.same(s.seen, [], `${w.side.name}: nothing recorded as a close`)
    t.equal(s.splice?.candidates[0]?.height, S, `${w.side.name}: the splice's confirmation`)
  }
  confirmSplice(p, txid)
  await feed(a); await feed(b)
  t.equal(p.a.state.setup.funding!.txid, txid, 'the channel locked the splice')
  const moved = (await a.host.inspect(id))!
  t.equal(moved.setup!.funding!.txid, txid, 'the monitor moved to the new funding output')
  t.equal(a.host.fundingHeight(id), S)
  t.equal(moved.splice, undefined, 'the old output is forgotten: the splice is depth deep')
  // A restart: the stored monitor knows the new funding.
  const sweep = a.sweep
  await a.host.stop(); await a.store.close()
  a = await watch(btc, p.a, { dir, sweep })
  a.given = p.a.monitor.length
  t.equal((await a.host.inspect(id))!.setup!.funding!.txid, txid, 'after a restart, the new funding output')
  // A payment on the new funding, then B closes with its commitment on it: A sweeps its balance.
  const h = p.add(p.a, 20_000_000, (await tipHeight(btc)) + 100)
  p.settle(); p.fulfill(p.b, h.id); p.settle()
  await feed(a); await feed(b)
  const from = await tipHeight(btc)
  const C = heldOn(p.b, txid)
  await b.host.forceClose(id)
  await btc.mine(1)
  t.ok(await confirmedAt(btc, txidOf(C)) !== undefined, 'B\'s commitment on the new funding confirmed')
  await mineUntil(btc, () => closed(a), 20)
  const bal = balances(p, txid)
  const swept = await sweptTo(btc, a.sweep, from)
  t.equal(
    swept.received + swept.fees, bal.a - (bal.capacity - sum(C)),
    `A swept its balance less the commitment fee (${swept.received} + ${swept.fees})`,
  )
  await a.host.stop(); await b.host.stop()
})

for (const which of ['old funding', 'splice', 'RBF'] as const) {
  t.test(`scenario 23: a commitment of the ${which} confirms while the splice is unconfirmed: both sides sweep every output exactly`, async t => {
    const p = await fundedPair(btc, which === 'old funding' ? 232 : which === 'splice' ? 233 : 234)
    const id = p.a.state.channelId
    const h0 = await tipHeight(btc)
    const toB = p.add(p.a, 50_000_000, h0 + 100)
    const toA = p.add(p.b, 30_000_000, h0 + 100)
    p.settle()
    const dir = tempDir('monitor-splice')
    let a = await watch(btc, p.a, { dir })
    const b = await watch(btc, p.b)
    await feed(a); await feed(b)
    const first = await splice(p, 2500)
    await feed(a); await feed(b)
    const rbf = await splice(p, 5000, true)
    await feed(a); await feed(b)
    // Each learns the preimage of the HTLC it was offered; the fulfils never reach the other side.
    p.fulfill(p.b, toB.id); p.fulfill(p.a, toA.id)
    p.toA.length = 0; p.toB.length = 0
    await feed(a); await feed(b)
    const from = await tipHeight(btc)
    let funding: string, closer: Side, C: Tx
    if (which === 'old funding') {
      // B's commitment on the old funding wins the race against the splice.
      funding = p.fundingTxid; closer = p.b; C = heldOn(p.b, funding)
      await mineExactly(btc, [txHex(C)])
    } else if (which === 'splice') {
      // The first splice confirms (not its RBF), then A closes: its commitment on that splice.
      funding = first; closer = p.a; C = heldOn(p.a, funding)
      await mineExactly(btc, [spliceTxHex(p.a, first)])
      // A restart while the splice is unconfirmed... confirmed once: the stored monitor knows it.
      const sweep = a.sweep
      await a.host.stop(); await a.store.close()
      a = await watch(btc, p.a, { dir, sweep })
      a.given = p.a.monitor.length
      await a.host.forceClose(id)
      await btc.mine(1)
    } else {
      // A closes with nothing confirmed: the RBF and A's commitment on it confirm together.
      funding = rbf; closer = p.a; C = heldOn(p.a, funding)
      await a.host.forceClose(id)
      await btc.mine(1)
      t.ok(await confirmedAt(btc, rbf) !== undefined, 'the RBF confirmed with it')
    }
    t.ok(await confirmedAt(btc, txidOf(C)) !== undefined, `${closer.name}'s commitment on the ${which} confirmed`)
    await mineUntil(btc, () => closed(a) && closed(b), 60)
    t.match(a.events.filter(e => e.kind === 'closed'), [{ how: closer === p.a ? 'local' : 'remote' }])
    t.match(b.events.filter(e => e.kind === 'closed'), [{ how: closer === p.b ? 'local' : 'remote' }])
    const bal = balances(p, funding)
    const fee = bal.capacity - sum(C)
    const sa = await sweptTo(btc, a.sweep, from)
    const sb = await sweptTo(btc, b.sweep, from)
    // The closer's received HTLC goes through its HTLC-success tx (a fee of its own); the other side
    // claims its received HTLC straight from the commitment. A opened the channel: it pays the fee.
    const aSecond = closer === p.a ? await secondStageFees(btc, txidOf(C), sa.txids) : 0
    const bSecond = closer === p.b ? await secondStageFees(btc, txidOf(C), sb.txids) : 0
    t.equal(
      sa.received + sa.fees + aSecond, bal.a - fee + 30_000, `A: its balance on the ${which} less the fee, and the HTLC it was offered`,
    )
    t.equal(sb.received + sb.fees + bSecond, bal.b + 50_000, `B: its balance on the ${which}, and the HTLC it was offered`)
    t.equal(sa.received + sa.fees + aSecond + sb.received + sb.fees + bSecond, sum(C), 'every output of the commitment')
    await a.host.stop(); await b.host.stop()
  })
}

t.test('scenario 23: a revoked commitment of the splice (HTLCs on it) while it is unconfirmed: one penalty takes every output', async t => {
  const p = await fundedPair(btc, 235)
  const h0 = await tipHeight(btc)
  p.add(p.a, 50_000_000, h0 + 100)
  p.add(p.b, 30_000_000, h0 + 100)
  p.settle()
  const a = await watch(btc, p.a)
  const txid = await splice(p, 2500)
  const revoked = heldOn(p.b, txid)
  const h = p.add(p.a, 20_000_000, h0 + 100)
  p.settle(); p.fulfill(p.b, h.id); p.settle() // B revokes it: one revoke_and_ack for every funding
  await feed(a)
  const from = await tipHeight(btc)
  await mineExactly(btc, [spliceTxHex(p.a, txid), txHex(revoked)])
  await mineUntil(btc, () => closed(a), 20)
  const swept = await sweptTo(btc, a.sweep, from)
  t.equal(swept.txids.length, 1, 'one penalty')
  t.equal(swept.received + swept.fees, sum(revoked), `A takes every output of it, its HTLCs too (${swept.received} + fee ${swept.fees})`)
  await a.host.stop()
})

t.test('scenario 23: after splice_locked, a reorg replaces the splice with a revoked commitment of the old funding: one penalty takes every output', async t => {
  // The channel locks a splice at 2 confirmations, the monitor counts it final at DEPTH = 3.
  const p = await fundedPair(btc, 236, 400_000_000, undefined, { spliceMinimumDepth: 2 })
  const id = p.a.state.channelId
  const h0 = await tipHeight(btc)
  p.add(p.b, 30_000_000, h0 + 100)
  p.settle()
  const a = await watch(btc, p.a)
  await feed(a)
  const txid = await splice(p, 2500)
  const revoked = heldOn(p.b, p.fundingTxid)
  const h = p.add(p.a, 20_000_000, h0 + 100)
  p.settle(); p.fulfill(p.b, h.id); p.settle()
  await feed(a)
  await btc.mine(2)
  const S = (await confirmedAt(btc, txid))!
  confirmSplice(p, txid, 2)
  await feed(a)
  t.equal(p.a.state.setup.funding!.txid, txid, 'the channel locked the splice')
  t.equal(a.host.state(id)!.setup!.funding!.txid, txid, 'so did the monitor')
  t.match(a.host.state(id)!.splice?.spliced, [{ txid: p.fundingTxid, splicedBy: txid }], 'keeping the old output: the splice is not final')
  await invalidate(btc, S)
  await mineExactly(btc, [txHex(revoked)])
  await mineUntil(btc, () => closed(a), 20)
  const swept = await sweptTo(btc, a.sweep, S)
  t.equal(swept.txids.length, 1, 'one penalty')
  t.equal(swept.received + swept.fees, sum(revoked), `A takes every output of it, B's HTLC too (${swept.received} + fee ${swept.fees})`)
  await a.host.stop()
})

t.test('scenario 23: a reorg removes the splice before splice_locked: the monitor is back on the old funding (and the splice still valid)', async t => {
  const p = await fundedPair(btc, 237)
  const id = p.a.state.channelId
  const a = await watch(btc, p.a)
  const b = await watch(btc, p.b)
  await feed(a); await feed(b)
  const txid = await splice(p, 2500)
  await feed(a); await feed(b)
  await btc.mine(1)
  const S = (await confirmedAt(btc, txid))!
  t.equal(a.host.state(id)!.splice!.candidates[0]!.height, S)
  const attempts = a.host.attempts.get(txid) ?? 0
  await invalidate(btc, S)
  t.equal(a.host.state(id)!.splice!.candidates[0]!.height, 0, 'the splice is unconfirmed again')
  t.ok((a.host.attempts.get(txid) ?? 0) > attempts, 'and broadcast again by the monitor')
  await btc.mine(1)
  const S2 = (await confirmedAt(btc, txid))!
  t.ok(S2 !== undefined, 'it confirms again')
  t.equal(a.host.state(id)!.splice!.candidates[0]!.height, S2)
  // Reorged out again; this time B's commitment on the old funding takes its place.
  await invalidate(btc, S2)
  const from = await tipHeight(btc)
  const C = heldOn(p.b, p.fundingTxid)
  await mineExactly(btc, [txHex(C)])
  await mineUntil(btc, () => closed(a) && closed(b), 40)
  const fee = CAPACITY - sum(C)
  const sa = await sweptTo(btc, a.sweep, from)
  const sb = await sweptTo(btc, b.sweep, from)
  t.equal(
    sa.received + sa.fees, Math.floor(p.a.state.localCommit!.spec.toLocalMsat / 1000) - fee,
    'A: its balance on the old funding less the fee',
  )
  t.equal(sb.received + sb.fees, Math.floor(p.b.state.localCommit!.spec.toLocalMsat / 1000), 'B: its balance after to_self_delay')
  t.same((await a.host.inspect(id))!.seen.map(x => x.txid), [txidOf(C), ...sa.txids], 'the splice was never taken for a close')
  await a.host.stop(); await b.host.stop()
})
