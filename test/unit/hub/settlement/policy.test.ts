import t from 'tap'
import { MemoryStore } from '../../../../host/store/memory-store.ts'
import { parseHubConfig } from '../../../../hub/config.ts'
import { parsePayoutPolicy, PolicyStore } from '../../../../hub/settlement/policy.ts'

const bounds = { minThresholdSat: 10_000, minIntervalBlocks: 6, maxKeepSat: 500_000, minCloseIdleBlocks: 144 }
const good = { payout_script: '0014' + '11'.repeat(20), threshold_sat: 20_000, interval_blocks: 6, keep_sat: 10_000 }
const NODE = '02' + 'ab'.repeat(32)

t.test('a policy within the operator\'s bounds is taken', async t => {
  const r = parsePayoutPolicy({ ...good, close_idle_blocks: 1_000 }, bounds)
  t.ok(r.ok)
  if (r.ok) t.same(
    r.policy, { payoutScript: good.payout_script, thresholdSat: 20_000, intervalBlocks: 6, keepSat: 10_000, closeIdleBlocks: 1_000 },
  )
})

t.test('each field outside its bound is refused, the field named', async t => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ threshold_sat: 9_999 }, 'threshold_sat'],
    [{ interval_blocks: 5 }, 'interval_blocks'],
    [{ keep_sat: 500_001 }, 'keep_sat'],
    [{ close_idle_blocks: 143 }, 'close_idle_blocks'],
    [{ payout_script: '6a' + '00'.repeat(20) }, 'payout_script'],
    [{ payout_script: '0014' + 'AB'.repeat(20) }, 'payout_script'],
    [{ threshold_sat: 1.5 }, 'threshold_sat'],
    [{ extra: 1 }, '(policy)'],
  ]
  for (const [over, field] of cases) {
    const r = parsePayoutPolicy({ ...good, ...over }, bounds)
    t.notOk(r.ok, JSON.stringify(over))
    if (!r.ok) t.match(r.error, field, JSON.stringify(over))
  }
})

t.test('close_idle_blocks needs a payout script a shutdown can name (the idle close pays it): segwit only', async t => {
  const p2pkh = '76a914' + '11'.repeat(20) + '88ac'
  const p2sh = 'a914' + '11'.repeat(20) + '87'
  for (const script of [p2pkh, p2sh]) {
    t.ok(parsePayoutPolicy({ ...good, payout_script: script }, bounds).ok, `${script.slice(0, 6)}…: a payout script without idle closes`)
    const r = parsePayoutPolicy({ ...good, payout_script: script, close_idle_blocks: 1_000 }, bounds)
    t.notOk(r.ok, `${script.slice(0, 6)}…: not with close_idle_blocks`)
    if (!r.ok) t.match(r.error, /^close_idle_blocks: needs a segwit payout_script/, 'the field named')
  }
  for (const script of ['0014' + '11'.repeat(20), '0020' + '11'.repeat(32), '5120' + '11'.repeat(32)]) {
    t.ok(parsePayoutPolicy({ ...good, payout_script: script, close_idle_blocks: 1_000 }, bounds).ok, `${script.slice(0, 4)}…: taken`)
  }
})

t.test('the config section has defaults and its own bounds', async t => {
  const c = parseHubConfig({ dataDir: '/tmp/x' })
  t.ok(c.ok)
  if (c.ok) t.equal(c.config.settlement.windowBlocks, 6)
  const bad = parseHubConfig({ dataDir: '/tmp/x', settlement: { maxChannelsPerBatch: 253 } })
  t.notOk(bad.ok)
  if (!bad.ok) t.match(bad.error, 'settlement.maxChannelsPerBatch')
})

t.test('stored policies are read back and listed; one outside today\'s bounds is reported, not used', async t => {
  const store = new MemoryStore()
  const policies = new PolicyStore(store, bounds)
  const p = parsePayoutPolicy(good, bounds)
  if (!p.ok) throw new Error(p.error)
  await policies.set(NODE, p.policy, 'account', 120)
  t.same(await policies.get(NODE), { nodeId: NODE, policy: p.policy, setBy: 'account', height: 120 })
  t.equal(await policies.get('03' + 'cd'.repeat(32)), undefined)
  const stricter = new PolicyStore(store, { ...bounds, minThresholdSat: 50_000 })
  const listed = await stricter.list()
  t.equal(listed.length, 1)
  t.match(listed[0], { nodeId: NODE, error: /threshold_sat/ })
})
