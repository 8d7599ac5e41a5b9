// A hub that tries to keep a split's money (DESIGN.md "Splits": "the hub cannot keep a share"): a
// patched hub process (fixtures/thief-hub.ts) claims every leg of a 3-way split from the platform
// with a guessed preimage before forwarding it, and, once a recipient has revealed its leg's preimage,
// claims the other legs with that one. The platform's channel refuses every such claim (its
// preimage does not hash to the leg's payment hash); the split completes as with an honest hub:
// every recipient paid its share, the platform down by the total and the hub's fee on each leg, the
// hub up by those fees only. Exact to the msat.
import path from 'node:path'
import t from 'tap'
import { forwardingFee } from '../../protocol/forwarding.ts'
import type { HubClient } from '../../client-sdk/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'

t.test('a hub that claims split legs with guessed or other legs\' preimages gains nothing: the split settles exactly', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('split-thief')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, entry: 'test/adversarial/fixtures/thief-hub.ts' }, t)
  await fundHub(btc, hub, 5_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', payTimeoutMs: 120_000 }, t)
  await openFundedChannel(btc, platform, 1_000_000)
  const recipients: HubClient[] = []
  for (const name of ['creator', 'treasury', 'fee']) {
    const c = await startClient({ hub, btc, dataDir: path.join(dir, name), role: 'creator' }, t)
    await requestHubChannel(btc, c)
    recipients.push(c)
  }
  const warnings: string[] = []
  platform.on('warning', w => { warnings.push(w) })
  const balance = (c: HubClient): number => c.channels()[0]!.localMsat
  const before = [platform, ...recipients].map(balance)
  const hubBefore = recipients.map(c => c.channels()[0]!.remoteMsat)
  const platformHubBefore = platform.channels()[0]!.remoteMsat

  const total = 60_000
  const r = await platform.paySplit({
    total, reference: 'sale 1', shares: recipients.map((c, i) => ({ to: c.nodeId, msat: [30_000, 20_000, 10_000][i]! })),
  })
  const guessed = hub.lines.filter(l => l.event === 'thief_claim' && l.how === 'guessed').length
  const swapped = hub.lines.filter(l => l.event === 'thief_claim' && l.how !== 'guessed').length
  t.ok(guessed >= 3, `the hub claimed every leg with a guessed preimage (${guessed} claims)`)
  t.ok(swapped >= 2, `and other legs with a revealed leg's preimage (${swapped} claims)`)
  t.match(r, { ok: true }, 'the split completed: every recipient took its leg')
  if (!r.ok) t.comment(`${r.reason}: ${r.detail}; warnings: ${warnings.join(' | ').slice(0, 2000)}`)
  await waitFor(() => [platform, ...recipients].every(c => c.channels()[0]!.settled), 'every channel settled', 60_000)
  const policy = platform.hubPolicyInfo!
  const fees = [30_000, 20_000, 10_000].reduce((s, a) => s + forwardingFee(a, policy), 0)
  t.equal(balance(platform), before[0]! - total - fees, 'the platform paid the total and the hub\'s fees, nothing more')
  t.equal(platform.channels()[0]!.remoteMsat, platformHubBefore + total + fees, 'the hub\'s side of the platform channel: up by that')
  for (const [i, c] of recipients.entries()) {
    const share = [30_000, 20_000, 10_000][i]!
    t.equal(balance(c), before[i + 1]! + share, `recipient ${i}: its share, exactly`)
    t.equal(c.channels()[0]!.remoteMsat, hubBefore[i]! - share, `the hub paid recipient ${i} its share`)
  }
})
