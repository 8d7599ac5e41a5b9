// Scenario 11 on a real btcd: the hub is down while a client broadcasts a revoked commitment (with
// HTLCs) and blocks go by; on restart its monitor host scans the missed blocks from its store and
// punishes before the client's delay ends.
import t from 'tap'
import { txHex, txid } from '../../../protocol/tx/index.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { DELAY, confirmedAt, feed, fundedPair, heldCommitment, mineUntil, send, sweptTo, watch } from './fixtures/channel.ts'
import { tempDir } from '../../helpers/hub.ts'

const btc = await useBtcd(t)

t.test('scenario 11: hub offline while a revoked state confirms; on restart it catches up and punishes in time', async t => {
  const p = await fundedPair(btc, 111)
  const h0 = await tipHeight(btc)
  const x = p.add(p.a, 60_000_000, h0 + 60)
  const y = p.add(p.b, 25_000_000, h0 + 60)
  p.settle()
  const old = heldCommitment(p.b) // the client's commitment with both HTLCs
  p.fulfill(p.b, x.id); p.fulfill(p.a, y.id); p.settle()
  const dir = tempDir('monitor')
  let hub = await watch(btc, p.a, { dir })
  await feed(hub)
  const sweep = hub.sweep
  await hub.host.stop(); await hub.store.close()

  const from = await tipHeight(btc)
  await send(btc, txHex(old))
  await btc.mine(1)
  const C = await tipHeight(btc)
  await btc.mine(DELAY - 8) // the hub misses 12 more blocks: 7 remain before the cheater's to_local matures
  hub = await watch(btc, p.a, { dir, sweep })
  const st = hub.host.state(p.a.state.channelId)!
  t.equal(st.height, await tipHeight(btc), 'caught up to the tip')
  t.ok(st.seen.some(s => s.txid === txid(old)), 'found the revoked commitment in a missed block')
  await mineUntil(btc, () => hub.events.some(e => e.kind === 'closed'), 20)
  const swept = await sweptTo(btc, sweep, from)
  t.equal(swept.txids.length, 1, 'one penalty tx')
  const J = (await confirmedAt(btc, swept.txids[0]!))!
  t.ok(J < C + DELAY - 1, `penalty confirmed at ${J}, before the cheater could sweep at ${C + DELAY - 1}`)
  const total = old.outputs.reduce((n, o) => n + o.valueSat, 0)
  t.equal(swept.received + swept.fees, total, `the hub takes every output (${total}): ${swept.received} + fee ${swept.fees}`)
  await hub.host.stop(); await hub.store.close()
})
