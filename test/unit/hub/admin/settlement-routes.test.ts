import t from 'tap'
import { MemoryStore } from '../../../../host/store/memory-store.ts'
import { settlementRoute, type SettlementAdmin } from '../../../../hub/admin/settlement-routes.ts'
import { PolicyStore } from '../../../../hub/settlement/policy.ts'

const bounds = { minThresholdSat: 10_000, minIntervalBlocks: 6, maxKeepSat: 500_000, minCloseIdleBlocks: 144 }
const NODE = '02' + 'ab'.repeat(32)
const policy = { payout_script: '0014' + '11'.repeat(20), threshold_sat: 20_000, interval_blocks: 6, keep_sat: 10_000 }

function admin (): SettlementAdmin {
  return { policies: new PolicyStore(new MemoryStore(), bounds), bounds, height: () => 321 }
}
const noBody = async (): Promise<unknown> => { throw new Error('this route reads no body') }

t.test('POST /accounts/:node_id/policy stores the policy; GET it and GET /policies list it', async t => {
  const s = admin()
  const set = await settlementRoute(s, 'POST', `/accounts/${NODE}/policy`, async () => policy)
  t.same(set, { status: 200, body: { node_id: NODE, policy, set_by: 'operator', height: 321 } })
  t.same(await settlementRoute(s, 'GET', `/accounts/${NODE}/policy`, noBody), set)
  t.same(await settlementRoute(s, 'GET', '/policies', noBody), { status: 200, body: [set!.body] })
})

t.test('a policy out of bounds is refused with 400 naming the field, and nothing is stored', async t => {
  const s = admin()
  const r = await settlementRoute(s, 'POST', `/accounts/${NODE}/policy`, async () => ({ ...policy, keep_sat: 500_001 }))
  t.equal(r?.status, 400)
  t.match((r?.body as { error: string }).error, 'keep_sat')
  t.equal((await settlementRoute(s, 'GET', `/accounts/${NODE}/policy`, noBody))?.status, 404)
})

t.test('a bad node id is a 400; other paths are not settlement routes', async t => {
  const s = admin()
  const r = await settlementRoute(s, 'GET', '/accounts/02ab/policy', noBody)
  t.equal(r?.status, 400)
  t.match((r?.body as { error: string }).error, 'node_id')
  t.equal(await settlementRoute(s, 'GET', '/channels', noBody), undefined)
  t.equal(await settlementRoute(s, 'DELETE', `/accounts/${NODE}/policy`, noBody), undefined)
})
