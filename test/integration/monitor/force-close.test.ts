// Scenario 7 and 8 on a real btcd: a force close with HTLCs in every state — on the closer's own
// commitment and on the peer's, offered and received, before expiry, with the preimage known, and at
// expiry. Each party's monitor alone resolves every HTLC on-chain; the hub learns a preimage from the
// peer's on-chain claim and fulfils the payer's upstream HTLC in time (also across a hub restart).
import t from 'tap'
import { sha256 } from '../../../protocol/crypto/hash.ts'
import { bytesToHex, type Txid } from '../../../protocol/types.ts'
import { txid } from '../../../protocol/tx/index.ts'
import type { MonitorEvent } from '../../../host/monitor/index.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { KeyedPair } from '../../../scripts/lib/keyed-pair.ts'
import {
  DELAY, DEPTH, confirmedAt, feed, fundedPair, heldCommitment, mineUntil, secondStageFees, sweptTo, watch, type Watch,
} from './fixtures/channel.ts'
import { tempDir } from '../../helpers/hub.ts'

const btc = await useBtcd(t)

/** The payer → hub channel upstream of the hub's HTLC o1 (off-chain only: never force-closed here). */
async function upstream (h0: number): Promise<{ u: KeyedPair; htlc: { id: number; hash: string; preimage: string } }> {
  const u = await KeyedPair.open({
    seed: 77, height: h0, fund: () => ({ txid: bytesToHex(sha256(new TextEncoder().encode(`up${h0}`))) as Txid, outputIndex: 0 }),
  })
  u.ready()
  const htlc = u.add(u.a, 41_000_000, h0 + 50)
  u.settle()
  return { u, htlc }
}

for (const closer of ['A', 'B'] as const) {
  const whose = closer === 'A' ? 'the hub\'s own commitment (local)' : 'the client\'s commitment (remote, for the hub)'
  t.test(`scenario 7/8: force close on ${whose} with HTLCs offered and received, before expiry, preimage known, expiry reached`, async t => {
    const p = await fundedPair(btc, closer === 'A' ? 71 : 72)
    const h0 = await tipHeight(btc)
    const { u, htlc: up } = await upstream(h0)
    // A is the hub. o1, o2: A offers to B (o1 forwards the payer's HTLC: same preimage). r1, r2: B offers to A.
    const o1 = p.add(p.a, 40_000_000, h0 + 30, up.preimage)
    const o2 = p.add(p.a, 20_000_000, h0 + 30)
    const r1 = p.add(p.b, 30_000_000, h0 + 40)
    const r2 = p.add(p.b, 25_000_000, h0 + 40)
    p.settle()
    // B learns o1's preimage and A learns r1's (both stored as monitor updates); the fulfills never
    // reach the other side: the link is gone.
    p.fulfill(p.b, o1.id); p.fulfill(p.a, r1.id)
    p.toA.length = 0; p.toB.length = 0

    const dir = tempDir('monitor')
    const onEvent = async (e: MonitorEvent): Promise<void> => {
      // Scenario 8: the hub fulfils the payer's HTLC with the preimage it learned on-chain.
      if (e.kind === 'preimage_learned' && e.paymentHash === up.hash) {
        u.run(u.b, { kind: 'command', cmd: { type: 'fulfill_htlc', id: up.id, preimage: e.preimage } }); u.settle()
      }
    }
    let a: Watch = await watch(btc, p.a, { dir, onEvent })
    const b = await watch(btc, p.b)
    await feed(a); await feed(b)
    const from = await tipHeight(btc)
    const closing = closer === 'A' ? a : b
    const commitment = heldCommitment(closing.side)
    const C = txid(commitment)
    await closing.host.forceClose(closing.side.state.channelId)
    await btc.mine(1)
    t.ok(await confirmedAt(btc, C) !== undefined, 'the closer\'s latest commitment confirmed')

    if (closer === 'B') {
      // Across a hub restart: the hub is down while B's HTLC-success (revealing o1's preimage) confirms.
      const sweep = a.sweep
      await a.host.stop(); await a.store.close()
      await btc.mine(2)
      a = await watch(btc, p.a, { dir, sweep, onEvent })
      a.given = p.a.monitor.length
    }
    // Nothing times out before expiry.
    await mineUntil(btc, async () => (await tipHeight(btc)) >= h0 + 29)
    const failedEarly = a.events.filter(e => e.kind === 'htlc_resolved' && e.outcome === 'failed')
    t.same(failedEarly, [], 'no HTLC failed before its expiry')
    t.match(
      a.events.filter(e => e.kind === 'preimage_learned'), [{ paymentHash: o1.hash, preimage: o1.preimage }],
      'the hub learned o1\'s preimage from B\'s on-chain claim',
    )
    const upEvents = u.a.events.filter(e => e.type === 'htlc_fulfilled')
    t.match(upEvents, [{ type: 'htlc_fulfilled', preimage: up.preimage }], 'the payer\'s upstream HTLC is fulfilled')
    t.ok((await tipHeight(btc)) < h0 + 50, 'before the upstream HTLC expires')

    await mineUntil(btc, () => a.events.some(e => e.kind === 'closed') && b.events.some(e => e.kind === 'closed'), 120)
    const resolved = (w: Watch) => Object.fromEntries(w.events.flatMap(e => e.kind === 'htlc_resolved' ? [[
      `${e.htlc.offerer === 'local' ? 'out' : 'in'}:${e.htlc.id}`, e.outcome,
    ]] : []))
    t.same(
      resolved(a), { [`out:${o1.id}`]: 'fulfilled', [`out:${o2.id}`]: 'failed', [`in:${r1.id}`]: 'fulfilled', [`in:${r2.id}`]: 'failed' },
      'hub: o1 fulfilled (preimage), o2 failed (timed out), r1 claimed, r2 timed out by B',
    )
    t.same(
      resolved(b), { [`in:${o1.id}`]: 'fulfilled', [`in:${o2.id}`]: 'failed', [`out:${r1.id}`]: 'fulfilled', [`out:${r2.id}`]: 'failed' },
      'client: the mirror image',
    )

    // Exact amounts: each side gets its balance output and the HTLCs it won, minus the fees it paid
    // (its sweeps, and its own HTLC txs' pre-signed fees).
    const valueOf = (vout: number) => commitment.outputs[vout]!.valueSat
    const cm = await btc.chain.getRawTransaction(C)
    if (!cm.ok || cm.value === null) throw new Error('commitment')
    const outputs = cm.value.tx.outputs.map((o, vout) => ({ vout, value: o.value }))
    const total = outputs.reduce((n, o) => n + o.value, 0)
    const sa = await sweptTo(btc, a.sweep, from)
    const sb = await sweptTo(btc, b.sweep, from)
    const fa = await secondStageFees(btc, C, sa.txids)
    const fb = await secondStageFees(btc, C, sb.txids)
    // The peer's HTLC txs are named too: the peer's HTLC-success/timeout (its commitment) pays its own fee.
    t.equal(sa.received + sa.fees + fa + sb.received + sb.fees + fb, total, `every satoshi of the commitment (${total}) ends with A ` +
      `(${sa.received}) or B (${sb.received}), or in named fees (${sa.fees + fa + sb.fees + fb})`)
    void valueOf
    const htlcSat = { o1: 40_000, o2: 20_000, r1: 30_000, r2: 25_000 }
    const balanceA = Math.floor(p.a.state.localCommit!.spec.toLocalMsat / 1000)
    const balanceB = Math.floor(p.b.state.localCommit!.spec.toLocalMsat / 1000)
    const commitFee = CAPACITY_SAT - total
    // A (opener) pays the commitment fee.
    t.equal(sa.received + sa.fees + fa, balanceA - commitFee + htlcSat.o2 + htlcSat.r1, 'A: balance − commitment fee + o2 + r1')
    t.equal(sb.received + sb.fees + fb, balanceB + htlcSat.o1 + htlcSat.r2, 'B: balance + o1 + r2')
    t.ok(sa.fees + fa < 20_000 && sb.fees + fb < 20_000, `fees A ${sa.fees + fa}, B ${sb.fees + fb}`)
    const closeHeight = (await confirmedAt(btc, C))!
    t.ok(closeHeight + DELAY <= (await tipHeight(btc)), 'delayed outputs were swept after to_self_delay')
    void DEPTH
    await a.host.stop(); await b.host.stop(); await a.store.close()
  })
}
const CAPACITY_SAT = 1_000_000
