// Split crash test (DESIGN.md "Splits"): the payer of a 3-way split, and one of its recipients, each a
// real SDK process, SIGKILLed at the split's durable writes (host/crash-points.ts, SDK_CRASH_AT):
//   payer      after split:begin (the split stored, no leg begun) and before/after split:released (the
//              release decision stored, no x sent yet);
//   recipient  after split:leg_locked (its leg stored, its leg locked not sent) and
//              after split:leg_released (x opened and stored, the fulfil not sent).
// Each time the victim is started again on its data directory, and then either every leg settles
// (every recipient up by its share, the payer down by the total and the hub's fees) or every balance
// is back where it was: never some of each. Exact to the msat on every side.
import path from 'node:path'
import t from 'tap'
import { forwardingFee } from '../../protocol/forwarding.ts'
import { splitAmounts } from '../../protocol/split/shares.ts'
import type { ChannelInfo, HubClient } from '../../client-sdk/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, randomKey, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { openPayerChannel, requestPayeeChannel } from './sdk-crash-rig.ts'
import { startSdkProcess, type SdkProcess } from './sdk-process.ts'

const channel = async (p: SdkProcess): Promise<ChannelInfo> => (await p.call<ChannelInfo[]>('channels'))[0]!

t.test('SDK crash: a split\'s payer or recipient SIGKILLed at the split\'s durable writes; all legs settle or none', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('split-kill')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { router: { holdMs: 300_000 } } }, t)
  await fundHub(btc, hub, 5_000_000)
  const payer = await startSdkProcess(
    { name: 'payer', dataDir: path.join(dir, 'payer'), nodeKey: randomKey(), hub, btc, role: 'platform', payTimeoutMs: 60_000 }, t,
  )
  await openPayerChannel(btc, payer)
  const victim = await startSdkProcess(
    { name: 'recipient', dataDir: path.join(dir, 'recipient'), nodeKey: randomKey(), hub, btc, role: 'creator' }, t,
  )
  await requestPayeeChannel(btc, victim)
  const others: HubClient[] = []
  for (const name of ['treasury', 'fee']) {
    const c = await startClient({ hub, btc, dataDir: path.join(dir, name), role: 'creator' }, t)
    await requestHubChannel(btc, c)
    others.push(c)
  }
  const policy = others[0]!.hubPolicyInfo!

  const balances = async (): Promise<number[]> => [
    (await channel(payer)).localMsat, (await channel(victim)).localMsat, ...others.map(c => c.channels()[0]!.localMsat),
  ]
  const settled = async (): Promise<void> => {
    await waitFor(async () => (await channel(payer)).settled && (await channel(victim)).settled && others.every(
      c => c.channels()[0]!.settled
    ),
      'every channel settled', 120_000)
  }
  const revive = async (p: SdkProcess): Promise<void> => {
    if (!p.alive) await p.restart()
    await p.call('reestablished')
  }

  let n = 0
  for (const [who, point] of [
    ['payer', 'after:split:begin:1'], ['payer', 'after:split:released:1'], ['payer', 'before:split:released:1'],
    ['recipient', 'after:split:leg_locked:1'], ['recipient', 'after:split:leg_released:1'],
  ] as const) {
    const dying = who === 'payer' ? payer : victim
    await dying.restart({ SDK_CRASH_AT: point })
    await revive(payer)
    await revive(victim)
    const before = await balances()
    const total = 90_000 + n++
    const shares = [{ to: victim.nodeId, ppm: 500_000 }, { to: others[0]!.nodeId, ppm: 300_000 }, { to: others[1]!.nodeId, ppm: 200_000 }]
    const paying = payer.call('paySplit', { total, shares, reference: `sale ${n}` }).catch((e: unknown) => e)
    await dying.exited()
    t.pass(`${who} died at ${point}`)
    await revive(dying)
    await revive(payer)
    await paying
    // Every leg settles (the split completed) or every leg comes back: wait for one or the other.
    const split = splitAmounts(total, shares)
    const amounts = split.ok ? split.value : []
    const paidAll = [
      before[0]! - total - amounts.reduce((s, a) => s + forwardingFee(a, policy), 0), ...amounts.map((a, i) => before[i + 1]! + a)
    ]
    await waitFor(async () => {
      const now = await balances()
      return (now.every((b, i) => b === paidAll[i]) || now.every((b, i) => b === before[i])) && (await channel(payer)).settled
    }, `${who} at ${point}: all legs settled or all back`, 120_000)
    await settled()
    const after = await balances()
    const all = after.every((b, i) => b === paidAll[i])
    t.ok(all || after.every((b, i) => b === before[i]), `${who} at ${point}: ${all ? 'every leg paid, exactly' : 'every balance back'}`)
    if (point === 'after:split:begin:1') t.notOk(all, `${who} at ${point}: no leg had left: the split aborted, nothing moved`)
    else if (who !== 'payer' || point.startsWith('after')) t.ok(all, `${who} at ${point}: the split completed after the restart`)
  }
})
