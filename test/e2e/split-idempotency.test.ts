// paySplit's idempotency key (DESIGN.md "Idempotency keys", "Splits"), real everything: a btcd
// regtest node, the hub as a child process, a platform and two recipients as SDK clients. A key pays
// one split, whoever asks again:
//   - the same call again, and two at once: one split, the first one's outcome, money moved once;
//   - the key with other parameters: idempotency_key_reused, nothing paid;
//   - the same platform (node key) from a second data directory, which does not know the split: its
//     legs carry `<key>:<index>` and the hub refuses them (duplicate_payment), nothing paid twice; a
//     used key with another total is refused by the hub too (idempotency_key_reused); a new key pays.
import path from 'node:path'
import t from 'tap'
import type { HubClient } from '../../client-sdk/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, openFundedChannel, randomKey, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'

const CAPACITY_SAT = 1_000_000

t.test('e2e: a split key pays once: again, concurrently, with other parameters, and from a second data directory', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-split-key')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await fundHub(btc, hub, 4_000_000)
  const platformKey = randomKey()
  const platform = await startClient(
    { hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', nodeKey: platformKey, payTimeoutMs: 60_000 }, t,
  )
  await openFundedChannel(btc, platform, CAPACITY_SAT)
  const recipient = async (name: string): Promise<HubClient> => {
    const c = await startClient({ hub, btc, dataDir: path.join(dir, name), role: 'creator' }, t)
    await requestHubChannel(btc, c)
    return c
  }
  const [creator, treasury] = [await recipient('creator'), await recipient('treasury')]
  const balance = (c: HubClient): number => c.channels()[0]!.localMsat
  const settled = async (cs: HubClient[]): Promise<void> => {
    await waitFor(() => cs.every(c => c.channels()[0]!.settled), 'every channel settled', 60_000)
  }
  const sale = (total: number, key: string): Parameters<HubClient['paySplit']>[0] => ({
    total, reference: 'sale 1', idempotencyKey: key, shares: [{ to: creator.nodeId, ppm: 800_000 }, { to: treasury.nodeId, ppm: 200_000 }],
  })

  // ── 1. a split under a key, then the same call again ──
  const first = await platform.paySplit(sale(50_000, 'order-1'))
  t.match(first, { ok: true, totalMsat: 50_000 }, 'the split under key order-1 succeeded')
  if (!first.ok) return
  await settled([platform, creator, treasury])
  const after1 = [balance(platform), balance(creator), balance(treasury)]
  t.same([after1[1], after1[2]], [40_000, 10_000], 'each recipient got its share')
  t.same(await platform.paySplit(sale(50_000, 'order-1')), first, 'the same call again answers with the first split\'s outcome')
  t.match(await platform.paySplit(sale(60_000, 'order-1')), {
    ok: false, reason: 'idempotency_key_reused', detail: new RegExp(`belongs to split ${first.splitId} with other parameters`),
  }, 'the key with another total is refused')
  t.match(await platform.paySplit({ ...sale(50_000, 'order-1'), reference: 'sale 2' }), { ok: false, reason: 'idempotency_key_reused' },
    '... and with another reference')

  // ── 2. two calls at once under a new key: one split ──
  const [a, b] = await Promise.all([platform.paySplit(sale(20_000, 'order-2')), platform.paySplit(sale(20_000, 'order-2'))])
  t.match(a, { ok: true }, 'the first of two concurrent calls succeeded')
  t.same(b, a, '... and the second answers with its outcome (the same split)')
  await settled([platform, creator, treasury])
  t.same([balance(creator), balance(treasury)], [after1[1]! + 16_000, after1[2]! + 4_000], 'the recipients were paid once')
  t.equal(balance(platform), after1[0]! - 20_000 - (a.ok ? a.feeMsat : 0), 'the platform paid once: total and fees')
  const paidBefore = [balance(creator), balance(treasury)]

  // ── 3. the same platform from a second data directory: the hub refuses the key's legs ──
  await platform.stop()
  const second = await startClient(
    { hub, btc, dataDir: path.join(dir, 'platform-2'), role: 'platform', nodeKey: platformKey, payTimeoutMs: 60_000 }, t,
  )
  await openFundedChannel(btc, second, CAPACITY_SAT)
  t.match(await second.paySplit(sale(50_000, 'order-1')), { ok: false, reason: 'duplicate_payment', detail: /order-1/ },
    'the same split again from another data directory: refused by the hub, nobody paid twice')
  t.match(await second.paySplit(sale(70_000, 'order-2')), { ok: false, reason: 'idempotency_key_reused' },
    'a used key with another total: refused by the hub')
  await settled([second, creator, treasury])
  t.equal(balance(second), CAPACITY_SAT * 1000, 'the second directory\'s channel paid nothing')
  t.same([balance(creator), balance(treasury)], paidBefore, 'the recipients got nothing more')
  const fresh = await second.paySplit(sale(10_000, 'order-3'))
  t.match(fresh, { ok: true }, 'a new key pays')
  await settled([second, creator, treasury])
  t.same([balance(creator), balance(treasury)], [paidBefore[0]! + 8_000, paidBefore[1]! + 2_000], '... its shares, once')

  await t.rejects(second.paySplit({ ...sale(1_000, 'x'.repeat(62)) }), /paySplit\.idempotencyKey: must be at most 61 characters/,
    'a key without room for its legs\' suffix is refused, the field named')
  await Promise.all([second.stop(), creator.stop(), treasury.stop()])
})
