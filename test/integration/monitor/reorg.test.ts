// Scenario 10 on a real btcd, with invalidateblock: the funding tx reorged out before and after it
// counted; a commitment and a claim reorged out (the claim is broadcast again and confirms again); an
// HTLC timeout reorged out before its depth is never reported; a commitment replaced by the other
// party's commitment in the new chain: the monitor drops its claims on the first and handles the second.
import t from 'tap'
import { Transaction } from 'bitcoinjs-lib'
import { txHex, txid } from '../../../protocol/tx/index.ts'
import type { Btcd } from '../../helpers/btcd.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { DEPTH, confirmedAt, feed, fundedPair, heldCommitment, mineUntil, sweptTo, watch, type Watch } from './fixtures/channel.ts'

const btc = await useBtcd(t)

async function invalidate (b: Btcd, height: number): Promise<void> {
  const hash = await b.chain.getBlockHash(height)
  if (!hash.ok || hash.value === null) throw new Error('no block')
  const r = await b.chain.invalidateBlock(hash.value)
  if (!r.ok) throw new Error(r.error.detail)
  const s = await b.chain.syncFollowers()
  if (!s.ok) throw new Error(s.error.detail)
}
const depths = (w: Watch): number[] => w.events.flatMap(e => e.kind === 'funding_depth' ? [e.depth] : [])

t.test('scenario 10: funding tx reorged out before and after it counted', async t => {
  let w: Watch | undefined
  const p = await fundedPair(btc, 101, 400_000_000, async q => { w = await watch(btc, q.a); await feed(w) })
  const a = w!
  const f = (await confirmedAt(btc, p.fundingTxid))!
  t.same(depths(a), [1], 'depth 1 once mined')
  await invalidate(btc, f)
  t.same(depths(a).at(-1), 0, 'reorged out before it counted: depth 0')
  await btc.mine(DEPTH) // btcd put the funding tx back in its mempool
  const f2 = (await confirmedAt(btc, p.fundingTxid))!
  t.same(depths(a).at(-1), DEPTH, `confirmed again, ${DEPTH} deep: it counts`)
  await invalidate(btc, f2)
  t.same(depths(a).at(-1), 0, 'reorged out after it counted: back to 0')
  await btc.mine(1)
  t.same(depths(a).at(-1), 1)
  await a.host.stop()
})

t.test('scenario 10: a commitment and a claim reorged out; the claim is rebroadcast and confirms again; an HTLC timeout reorged out before depth is never reported early', async t => {
  const p = await fundedPair(btc, 102)
  const h0 = await tipHeight(btc)
  const o = p.add(p.a, 20_000_000, h0 + 20) // A offers; B never learns the preimage (B's policy wants ≥ 18 blocks)
  p.settle()
  // A's monitor broadcasts through a chain that records what it sends (hex), to tell its own
  // broadcasts from btcd's: btcd puts the transactions of disconnected blocks back into its mempool.
  const sentByA: string[] = []
  const chainOfA = new Proxy(btc.chain, {
    get (target, key, recv) {
      if (key === 'broadcast') return async (hex: string) => { sentByA.push(hex); return await target.broadcast(hex) }
      const v = Reflect.get(target, key, recv)
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
  const a = await watch(btc, p.a, { chain: chainOfA })
  const b = await watch(btc, p.b)
  await feed(a); await feed(b)
  const from = await tipHeight(btc)
  await b.host.forceClose(p.b.state.channelId)
  await btc.mine(1)
  const C = await tipHeight(btc)
  const commitment = txid(heldCommitment(p.b))
  t.equal(await confirmedAt(btc, commitment), C)
  // A claims its to_remote at once: confirmed in C + 1.
  await btc.mine(1)
  const claims = (await sweptTo(btc, a.sweep, from)).txids
  t.equal(claims.length, 1, 'to_remote claim confirmed')
  const claim = claims[0]!
  // Reorg out the commitment and the claim. The new chain is built by hand, not from btcd's mempool
  // (which holds both again): a block with the commitment alone, then a block with only what A's
  // monitor broadcast after the reorg. The claim confirms again only if the monitor sent it again.
  const mark = sentByA.length
  await invalidate(btc, C)
  t.equal(a.host.state(p.a.state.channelId)!.seen.length, 0, 'the monitor forgot the commitment and the claim')
  const withCommitment = await btc.chain.submitBlock([txHex(heldCommitment(p.b))])
  t.ok(withCommitment.ok, 'a block with the commitment alone')
  await btc.chain.syncFollowers()
  t.ok(await confirmedAt(btc, commitment) !== undefined, 'commitment confirmed again')
  const again = sentByA.slice(mark).filter(hex => Transaction.fromHex(hex).getId() === claim)
  t.ok(again.length > 0, `A's monitor broadcast the same claim again after the reorg (${again.length}×)`)
  const withClaim = await btc.chain.submitBlock(again.slice(-1))
  t.ok(withClaim.ok, 'a block with only what the monitor rebroadcast')
  await btc.chain.syncFollowers()
  t.ok(await confirmedAt(btc, claim) !== undefined, 'the claim confirmed again')

  // The HTLC times out at h0 + 20: A's timeout claim confirms; reorg it out at depth DEPTH − 1.

  await mineUntil(btc, async () => (await sweptTo(btc, a.sweep, from)).txids.length === 2, 30)
  const timeoutClaim = (await sweptTo(btc, a.sweep, from)).txids.find(x => x !== claim)!
  const T = (await confirmedAt(btc, timeoutClaim))!
  while ((await tipHeight(btc)) < T + DEPTH - 2) await btc.mine(1)
  const failed = (): number => a.events.filter(e => e.kind === 'htlc_resolved' && e.htlc.id === o.id && e.outcome === 'failed').length
  t.equal(failed(), 0, `not reported at depth ${DEPTH - 1}`)
  await invalidate(btc, T)
  t.equal(failed(), 0, 'reorged out: still not reported')
  await mineUntil(btc, () => failed() === 1, 10)
  t.ok((await confirmedAt(btc, timeoutClaim)) !== undefined, 'the timeout claim confirmed again')
  await btc.mine(3)
  t.equal(failed(), 1, 'reported once, at depth')
  await a.host.stop(); await b.host.stop()
})

t.test('scenario 10: the peer\'s commitment replaced by ours in a reorg: claims on the first are dropped, ours is handled', async t => {
  const p = await fundedPair(btc, 103)
  const a = await watch(btc, p.a)
  await feed(a)
  const from = await tipHeight(btc)
  const theirs = heldCommitment(p.b)
  const ours = heldCommitment(p.a)
  const sent = await btc.chain.broadcast(txHex(theirs))
  t.ok(sent.ok)
  await btc.mine(1)
  const C = await tipHeight(btc)
  t.ok(a.host.attempts.size > 0, 'A broadcast its to_remote claim on their commitment')
  const claimOnTheirs = [...a.host.attempts.keys()]
  // The block with their commitment is replaced by one with ours (and nothing else).
  await invalidate(btc, C)
  const r = await btc.chain.submitBlock([txHex(ours)])
  t.ok(r.ok, 'our commitment mined in the new chain')
  await btc.chain.syncFollowers()
  t.equal(await confirmedAt(btc, txid(theirs)), undefined, 'their commitment is gone for good (conflicts with the chain)')
  await mineUntil(btc, () => a.events.some(e => e.kind === 'closed'), 60)
  const swept = await sweptTo(btc, a.sweep, from)
  t.notOk(swept.txids.some(x => claimOnTheirs.includes(x)), 'no claim on their commitment confirmed')
  const toLocal = ours.outputs.reduce((n, o) => n + o.valueSat, 0) - Math.floor(p.b.state.localCommit!.spec.toLocalMsat / 1000)
  t.equal(swept.received + swept.fees, toLocal, `A swept its to_local (${swept.received} + fee ${swept.fees}) after the delay`)
  await a.host.stop()
})
