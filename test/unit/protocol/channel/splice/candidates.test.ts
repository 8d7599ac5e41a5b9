// BOLT #2 "Splice Completion": "payments must be valid for all splice transactions". After a large
// splice-out, an HTLC its sender could afford on the current funding but not on the splice's is
// refused: as our command, and as the peer's update_add_htlc (warning and disconnect).
import t from 'tap'
import { Pair } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { SpliceHosts, spliceOut } from '../fixtures/splice.ts'
import type { Msat, NodeId } from '../../../../../protocol/types.ts'

function splicedOutAlmostAll (seed: number) {
  const p = new Pair({ seed })
  p.open()
  const h = new SpliceHosts(p)
  // A holds ≈ 6,000,000 sat; it takes 5,900,000 out: ≈ 99,000 left on the splice's funding.
  h.request(p.a, spliceOut(5_900_000))
  h.drive()
  t.equal(p.a.state.splice!.candidates.length, 1)
  return { p, h }
}

t.test('our HTLC that only the current funding could pay is refused; one both can pay is sent', t => {
  const { p } = splicedOutAlmostAll(121)
  const big = p.add(p.a, 500_000_000)
  t.notOk(big.ok, 'refused: on the splice\'s funding A would fall below its reserve')
  t.match(p.a.events.at(-1), { type: 'command_failed', command: 'add_htlc', error: { reason: /reserve|insufficient_funds/ } })
  const small = p.add(p.a, 20_000_000)
  t.ok(small.ok, 'an HTLC valid on both fundings is sent')
  p.settle(); p.fulfill(p.b, small.id); finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('the peer\'s HTLC valid on the current funding only: warning and disconnect', t => {
  const { p } = splicedOutAlmostAll(122)
  p.run(p.b, {
    kind: 'peer',
    msg: {
      type: 'update_add_htlc', channel_id: p.a.state.channelId, id: p.b.state.nextRemoteHtlcId, amount_msat: 500_000_000 as Msat,
      payment_hash: 'aa'.repeat(32), cltv_expiry: (p.b.state.height + 144) as never, recipient: p.nodeB as NodeId,
    },
  })
  t.ok(p.b.sent.some(m => m.type === 'warning' && /^(reserve|insufficient_funds)/.test(m.data)), 'B refuses it')
  t.equal(p.connected, false)
  t.end()
})
