// The hub's node-key rotation end to end (DESIGN.md "Node-key rotation"): a real hub process, SDK
// clients over real sockets, a real btcd whose height ends the grace. The operator rotates with
// hubctl while one client pays another without a pause: both switch to the new key and no payment
// fails. The hub restarts during the grace and keeps serving both keys. A client that was offline
// during the rotation comes back within the grace under the old key, is told, and switches; one that
// comes back after the grace gets a typed error naming what it needs (the new hub id), and works once
// given it, over the channel it had. Receipts signed before the rotation still verify. A second
// rotation is rolled back within its grace: the clients follow it back, still without a failed payment.
import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { runHubctl } from '../../hub/ctl/main.ts'
import { ClientError, createNodeClient, type HubClient } from '../../client-sdk/node.ts'
import { receiptSignatureValid } from '../../protocol/receipt/receipt.ts'
import type { NodeId } from '../../protocol/types.ts'
import { tipHeight, useBtcd } from '../helpers/btcd.ts'
import {
  fundHub, openFundedChannel, randomKey, requestHubChannel, startClient, startHub, tempDir, waitFor, type HubProcess,
} from '../helpers/hub.ts'

const GRACE_BLOCKS = 12

async function hubctl (hub: HubProcess, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await runHubctl(['--data-dir', hub.dataDir, '--json', ...args], { stdout: s => out.push(s), stderr: s => err.push(s) }, {})
  return { code, out: out.join('\n'), err: err.join('\n') }
}

interface KeyStatus { phase: string; current: NodeId; previous: NodeId | null; grace_until_height: number | null; seq: number }

t.test('e2e node-key rotation: online, offline within and past the grace, restart, rollback', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-node-key')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  const K0 = hub.hubId
  await fundHub(btc, hub, 10_000_000)

  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  const away = { within: { key: randomKey(), dir: path.join(dir, 'within') }, past: { key: randomKey(), dir: path.join(dir, 'past') } }
  const within = await startClient({ hub, btc, dataDir: away.within.dir, role: 'creator', nodeKey: away.within.key }, t)
  const past = await startClient({ hub, btc, dataDir: away.past.dir, role: 'creator', nodeKey: away.past.key }, t)
  await openFundedChannel(btc, platform, 3_000_000)
  for (const c of [creator, within, past]) await requestHubChannel(btc, c)
  const pay = async (to: HubClient, amountMsat: number): Promise<string> => {
    const inv = await to.createInvoice({ amountMsat })
    const r = await platform.pay(inv.invoice)
    if (!r.ok) throw new Error(`payment failed: ${r.reason}: ${r.detail}`)
    return inv.paymentHash
  }
  const before = await pay(creator, 21_000)
  await waitFor(async () => (await platform.receipt(before)) !== undefined, 'the receipt of a payment before the rotation')
  // The two that will be away during the rotation.
  await within.stop()
  await past.stop()

  // Payments without a pause, three at a time, until told to stop.
  let paying = true
  let paid = 0
  const failures: string[] = []
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; paying; i++) {
      const inv = await creator.createInvoice({ amountMsat: 10_000 + w, memo: `rotation ${w}/${i}` })
      const r = await platform.pay(inv.invoice)
      if (r.ok) paid++
      else failures.push(`${w}/${i}: ${r.reason}: ${r.detail}`)
    }
  }
  let workers = Promise.all([0, 1, 2].map(worker))
  await waitFor(() => paid >= 5, 'payments before the rotation', 60_000)

  // ── rotate, mid-payments ──
  const heard: Array<{ kind: string; newId: NodeId }> = []
  platform.on('hub_key', e => heard.push(e))
  const rotated = await hubctl(hub, ['rotate-key', '--grace-blocks', String(GRACE_BLOCKS)])
  t.equal(rotated.code, 0, `hubctl rotate-key: exit 0 ${rotated.err}`)
  const s1 = JSON.parse(rotated.out) as KeyStatus
  const K1 = s1.current
  const h1 = await tipHeight(btc)
  t.not(K1, K0, 'a new key is current')
  t.same(
    [s1.phase, s1.previous, s1.grace_until_height, s1.seq], ['grace_rotate', K0, h1 + GRACE_BLOCKS, 1],
    'the old key served until the grace ends',
  )
  const keyFile = path.join(hub.dataDir, 'node-keys', `${K1}.hex`)
  t.equal(fs.statSync(keyFile).mode & 0o777, 0o600, 'the new key file is 0600')
  await waitFor(() => platform.connectedHubId === K1 && creator.connectedHubId === K1, 'both online clients under the new key', 60_000)
  t.same(heard.map(e => [e.kind, e.newId]), [['rotate', K1]], 'the platform took the rotation once')
  // A payment addressed to the hub under its new key is one to the hub (not a payee): refused as such.
  t.match(await platform.pay({ to: K1, amountMsat: 10_000, reference: 'to the hub, new key' }),
    { ok: false, reason: 'incorrect_or_unknown_payment_details' }, 'a payment to the hub\'s new id is refused as one to the hub')
  const paidAtRotation = paid
  await waitFor(() => paid >= paidAtRotation + 10, 'payments after the rotation', 60_000)
  const after = await pay(creator, 22_000)
  await waitFor(async () => (await platform.receipt(after)) !== undefined, 'the receipt of a payment after the rotation')

  // ── the hub restarts during the grace ──
  paying = false
  await workers
  await hub.stop()
  await hub.restart()
  t.equal(hub.hubId, K1, 'the restarted hub proves the new key by default')
  const s2 = await (await hub.adminFetch('/node-key')).json() as KeyStatus
  t.same([s2.phase, s2.current, s2.previous], ['grace_rotate', K1, K0], 'the grace goes on across the restart')
  await platform.untilReestablished({ timeoutMs: 60_000 })
  t.match(await platform.pay({ to: K0, amountMsat: 10_000, reference: 'to the hub, old key' }),
    { ok: false, reason: 'incorrect_or_unknown_payment_details' }, '... and, after the restart, one to the key on its way out')
  await platform.untilReestablished({ timeoutMs: 60_000 })
  await creator.untilReestablished({ timeoutMs: 60_000 })
  t.equal(platform.connectedHubId, K1, 'the platform reconnected under the new key')
  paying = true
  workers = Promise.all([0, 1, 2].map(worker))

  // ── a client offline during the rotation, back within the grace (its application still says K0) ──
  const back = (who: { key: Uint8Array; dir: string }, hubId: NodeId): Promise<HubClient> => createNodeClient({
    nodeKey: who.key, hubUrl: hub.url, hubId, dataDir: who.dir, role: 'creator', chain: btc.chain,
    reconnectInitialMs: 50, reconnectMaxMs: 500, connectTimeoutMs: 20_000,
  })
  const withinAgain = await back(away.within, K0)
  t.teardown(() => withinAgain.stop())
  await withinAgain.connect()
  await waitFor(() => withinAgain.connectedHubId === K1, 'the returning client switched to the new key', 60_000)
  await withinAgain.untilReestablished({ timeoutMs: 60_000 })
  await pay(withinAgain, 23_000)
  t.pass('the client back within the grace is paid over its channel')

  // Receipts: the one signed before the rotation names the old key and still verifies; the later one the new key.
  const r0 = await platform.receipt(before)
  const r1 = await platform.receipt(after)
  t.equal(r0?.receipt.hub_id, K0, 'the receipt from before the rotation names the old key')
  t.ok(r0 !== undefined && receiptSignatureValid(r0.receipt, r0.signature), 'and its signature verifies')
  t.equal(r1?.receipt.hub_id, K1, 'the receipt from after names the new key')
  t.ok(r1 !== undefined && receiptSignatureValid(r1.receipt, r1.signature), 'and its signature verifies')

  // ── past the grace ──
  const retired = hub.waitLine(l => l.event === 'node_key_grace_ended', 60_000)
  await btc.mine(GRACE_BLOCKS + 1)
  t.equal((await retired).retired, K0, 'the hub retired the old key at the end of the grace')
  const s3 = await (await hub.adminFetch('/node-key')).json() as KeyStatus
  t.same([s3.phase, s3.current, s3.previous], ['single', K1, null], 'one key after the grace')
  const pastAgain = await back(away.past, K0)
  const refused = await pastAgain.connect({ timeoutMs: 20_000 }).then(() => undefined, (e: unknown) => e)
  await pastAgain.stop()
  t.ok(refused instanceof ClientError, 'a client still pinned to the old key after the grace: connect() rejects with a ClientError')
  t.equal((refused as ClientError).reason, 'hub_key_untrusted', 'reason hub_key_untrusted')
  t.match((refused as ClientError).detail, /new hub id .*options\.hubId/, 'the detail says what it needs')
  t.match((refused as ClientError).detail, K1, 'and names the key the hub proves')
  const pastFixed = await back(away.past, K1)
  t.teardown(() => pastFixed.stop())
  await pastFixed.connect()
  await pastFixed.untilReestablished({ timeoutMs: 60_000 })
  t.equal(pastFixed.channels().length, 1, 'given the new id, it has its channel from before the rotation')
  await pay(pastFixed, 24_000)
  t.pass('and is paid over it')

  // ── a second rotation, rolled back within its grace ──
  const second = await hubctl(hub, ['rotate-key', '--grace-blocks', String(GRACE_BLOCKS)])
  t.equal(second.code, 0, 'a second rotation after the first grace ended')
  const K2 = (JSON.parse(second.out) as KeyStatus).current
  await waitFor(() => platform.connectedHubId === K2 && creator.connectedHubId === K2, 'the online clients under the second key', 60_000)
  const paidAtSecond = paid
  await waitFor(() => paid >= paidAtSecond + 5, 'payments under the second key', 60_000)
  const rolled = await hubctl(hub, ['rotate-key', 'rollback'])
  t.equal(rolled.code, 0, 'hubctl rotate-key rollback: exit 0')
  const s4 = JSON.parse(rolled.out) as KeyStatus
  t.same([s4.phase, s4.current, s4.previous, s4.seq], ['grace_rollback', K1, K2, 3], 'K1 current again, K2 served until the grace ends')
  await waitFor(() => platform.connectedHubId === K1 && creator.connectedHubId === K1, 'the online clients back under K1', 60_000)
  t.same(heard.map(e => [e.kind, e.newId]), [['rotate', K1], ['rotate', K2], ['rollback', K1]], 'the platform took each change once')
  const again = await hubctl(hub, ['rotate-key', 'rollback'])
  t.equal(again.code, 1, 'a second rollback: refused, exit 1')
  t.match(again.err, /already_rolled_back/, 'and says why')
  const exported = (await (await hub.adminFetch('/audit/export')).text()).split('\n').filter(l => l !== '')
    .map(l => JSON.parse(l) as { record?: { kind?: string; seq?: number; change?: string } })
  const changes = exported.filter(e => e.record?.kind === 'node_key_rotation').map(e => [e.record?.seq, e.record?.change])
  t.same(changes, [[1, 'rotate'], [2, 'rotate'], [3, 'rollback']], 'each change of the key is an entry of the audit log, in order')
  const paidAtRollback = paid
  await waitFor(() => paid >= paidAtRollback + 5, 'payments after the rollback', 60_000)

  paying = false
  await workers
  t.same(failures, [], 'no payment failed through two rotations, a restart and a rollback')
  t.ok(paid >= paidAtRollback + 5, `${paid} payments made`)
})
