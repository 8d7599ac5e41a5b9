// The payout_policy message at the hub (hub/settlement/account-policy.ts): only an account (a node with
// a ready channel) stores a policy; within the operator's bounds it is stored before the answer
// leaves; outside them it is refused naming the field and nothing is stored.
import t from 'tap'
import { MemoryStore } from '../../../../host/store/memory-store.ts'
import { AccountPolicies } from '../../../../hub/settlement/account-policy.ts'
import { PolicyStore } from '../../../../hub/settlement/policy.ts'
import type { NodeId } from '../../../../protocol/types.ts'
import type { PayoutPolicyMessage, PeerMessage } from '../../../../protocol/wire/index.ts'

const bounds = { minThresholdSat: 10_000, minIntervalBlocks: 6, maxKeepSat: 500_000, minCloseIdleBlocks: 144 }
const ACCOUNT = ('02' + 'ab'.repeat(32)) as NodeId
const STRANGER = ('03' + 'cd'.repeat(32)) as NodeId
const policy: PayoutPolicyMessage = {
  type: 'payout_policy', payout_script: '0014' + '11'.repeat(20), threshold_sat: 20_000, interval_blocks: 6, keep_sat: 10_000,
} as PayoutPolicyMessage

async function rig (): Promise<{ policies: PolicyStore, handler: AccountPolicies, sent: Array<[NodeId, PeerMessage]> }> {
  const policies = new PolicyStore(new MemoryStore(), bounds)
  const sent: Array<[NodeId, PeerMessage]> = []
  const handler = new AccountPolicies({
    policies, bounds, height: () => 100, isAccount: peer => peer === ACCOUNT,
    send: (peer, msg) => { sent.push([peer, msg]) }, log: () => {}, fatal: e => { throw e },
  })
  return { policies, handler, sent }
}

const settle = async (): Promise<void> => { for (let i = 0; i < 10; i++) await new Promise(resolve => setImmediate(resolve)) }

t.test('an account\'s policy within the bounds is stored, then answered', async t => {
  const { policies, handler, sent } = await rig()
  handler.payoutPolicy(ACCOUNT, policy)
  await settle()
  t.same(sent, [[ACCOUNT, { type: 'payout_policy_set', refused: false }]], 'answered: stored')
  t.match(await policies.get(ACCOUNT), { policy: { thresholdSat: 20_000, keepSat: 10_000 } }, 'stored')
})

t.test('a node without a ready channel is refused and nothing is stored', async t => {
  const { policies, handler, sent } = await rig()
  handler.payoutPolicy(STRANGER, policy)
  await settle()
  t.equal(sent.length, 1)
  t.match(sent[0], [STRANGER, { type: 'payout_policy_set', refused: true, detail: /^policy: no ready channel/ }], 'refused, saying why')
  t.equal(await policies.get(STRANGER), undefined, 'nothing stored')
})

t.test('a field outside the bounds is refused by name and nothing is stored', async t => {
  const { policies, handler, sent } = await rig()
  handler.payoutPolicy(ACCOUNT, { ...policy, threshold_sat: 9_999 } as PayoutPolicyMessage)
  await settle()
  t.match(sent[0], [ACCOUNT, { type: 'payout_policy_set', refused: true, detail: /threshold_sat/ }], 'the field named')
  t.equal(await policies.get(ACCOUNT), undefined, 'nothing stored')
})
