// When a chain monitor decides on its own to go on-chain (an offered HTLC past its
// deadline), the channel is failed in its driver first — on the hub and in the SDK — so the channel
// can never revoke the commitment the monitor broadcasts. The monitor's deadline (cltv_expiry + 1) comes
// before the channel machine's own (cltv_expiry + 3, protocol/limits.ts OFFERED_HTLC_GRACE_BLOCKS):
// at cltv_expiry + 1 the channel is failed, with the monitor's reason, and its commitment is on-chain.
import t from 'tap'
import path from 'node:path'
import { mineUntilHeight, useBtcd, type Btcd } from '../../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../../helpers/hub.ts'
import { type SocketFactory, type SocketLike } from '../../../client-sdk/transport/socket.ts'
import { wsSocketFactory } from '../../../client-sdk/node/socket.ts'
import { OFFERED_HTLC_GRACE_BLOCKS } from '../../../protocol/limits.ts'
import { admin, findSpend } from './helpers.ts'

/** A payee socket that never lets an update_fulfill_htlc out (nor anything after it), and records the
 *  update_add_htlc frames it receives. */
function neverFulfils (): { factory: SocketFactory; adds: Array<{ cltv_expiry: number }>; readonly blocked: boolean } {
  let blocked = false
  const adds: Array<{ cltv_expiry: number }> = []
  const factory: SocketFactory = async url => {
    const ws = await wsSocketFactory(url)
    return {
      get readyState () { return ws.readyState },
      get bufferedAmount () { return ws.bufferedAmount },
      send (data: string) {
        if (data.includes('"update_fulfill_htlc"')) blocked = true
        if (!blocked) ws.send(data)
      },
      close: (code?: number, reason?: string) => ws.close(code, reason),
      addEventListener (type: string, fn: (ev: never) => void) {
        if (type !== 'message') { (ws.addEventListener as (t: string, f: unknown) => void)(type, fn); return }
        ws.addEventListener('message', (ev: { data: unknown }) => {
          const m = JSON.parse(String(ev.data)) as { type: string; cltv_expiry: number }
          if (m.type === 'update_add_htlc') adds.push(m)
          ;(fn as (e: { data: unknown }) => void)(ev)
        })
      },
    } as SocketLike
  }
  return { factory, adds, get blocked () { return blocked } }
}

/** Mines a block at a time (giving the monitors a moment) until `fundingTxid` is spent; at most 5. */
async function minedSpend (btc: Btcd, fundingTxid: string, from: number): Promise<boolean> {
  for (let i = 0; i < 5; i++) {
    await new Promise(resolve => setTimeout(resolve, 500))
    await btc.mine(1)
    if (await findSpend(btc, fundingTxid, undefined, from) !== undefined) return true
  }
  return false
}

t.test('a monitor that goes on-chain at an HTLC deadline fails the channel first, on the hub and in the SDK', async t => {
  t.ok(OFFERED_HTLC_GRACE_BLOCKS > 1, 'the channel machine\'s own deadline comes later than the monitor\'s')
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-deadline')
  const hub = await startHub(
    { dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { channels: { finalityDepth: 3 }, router: { holdMs: 3_600_000 } } }, t,
  )
  await fundHub(btc, hub, 1_500_000)
  await fundHub(btc, hub, 1_500_000)

  // ── The hub: its HTLC to a payee that never settles it. ──
  const sw = neverFulfils()
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', payTimeoutMs: 600_000 }, t)
  const payee = await startClient({ hub, btc, dataDir: path.join(dir, 'payee'), role: 'creator', socketFactory: sw.factory }, t)
  await openFundedChannel(btc, platform, 400_000)
  await requestHubChannel(btc, payee)
  const payeeChannel = payee.channels()[0]!.channelId
  const payeeFunding = payee.channels()[0]!.fundingTxid!
  void platform.pay((await payee.createInvoice({ amountMsat: 25_000_000 })).invoice)
  await waitFor(() => sw.blocked, 'the payee holding the HTLC (its fulfil never leaves)')
  await payee.stop()
  const hubView = async (): Promise<{ phase: string } | undefined> => ((await admin(hub, '/channels')).body as Array<{
    channel_id: string; phase: string
  }>).find(c => c.channel_id === payeeChannel)
  t.equal((await hubView())?.phase, 'normal', 'the hub\'s channel is still normal')
  const expiry = sw.adds[0]!.cltv_expiry
  await mineUntilHeight(btc, expiry + 1)
  await waitFor(async () => (await hubView())?.phase === 'failed', 'the hub\'s channel failed at the monitor\'s deadline', 30_000)
  const tip1 = await btc.chain.tip()
  t.equal(
    tip1.ok ? tip1.value.height : 0, expiry + 1, `failed at cltv_expiry + 1 (${expiry + 1}), before the channel machine's own deadline`,
  )
  // Logged once the failure is durable (the emit follows the force_close write).
  await waitFor(() => hub.lines.some(l => l.event === 'channel_failed' && l.channel_id === payeeChannel), 'the hub logging the failure')
  const failed = hub.lines.find(l => l.event === 'channel_failed' && l.channel_id === payeeChannel)
  t.ok(
    failed?.reason === 'force_close' && String(failed.detail).startsWith('monitor: offered HTLC'),
    `the channel was failed by the monitor's decision (${String(failed?.detail)})`,
  )
  t.ok(await minedSpend(btc, payeeFunding, expiry), 'and the hub\'s commitment went on-chain')

  // ── The SDK: its HTLC, held by a hub that then dies. ──
  const payer = await startClient({ hub, btc, dataDir: path.join(dir, 'payer'), role: 'platform', payTimeoutMs: 600_000 }, t)
  const offline = await startClient({ hub, btc, dataDir: path.join(dir, 'offline'), role: 'creator' }, t)
  await openFundedChannel(btc, payer, 400_000)
  await requestHubChannel(btc, offline)
  const invoice = (await offline.createInvoice({ amountMsat: 15_000_000 })).invoice
  await offline.stop()
  void payer.pay(invoice)
  await waitFor(
    () => payer.channels()[0]!.inFlightMsat > 0 && payer.channels()[0]!.settled === false, 'the payer\'s HTLC in its commitment',
  )
  await waitFor(() => hub.lines.some(l => l.event === 'payment_held'), 'the hub holding the payment for the offline payee')
  await hub.kill()
  const state = (payer as unknown as { channelSet: {
    channels (): Array<{ driver: { state: { localCommit?: { spec: { htlcs: Array<{ cltvExpiry: number }> } }; phase: string } } }>
  } }).channelSet.channels()[0]!.driver.state
  const payerExpiry = state.localCommit!.spec.htlcs[0]!.cltvExpiry
  await mineUntilHeight(btc, payerExpiry + 1)
  await waitFor(() => payer.channels()[0]!.phase === 'failed', 'the payer\'s channel failed at its monitor\'s deadline', 30_000)
  const tip2 = await btc.chain.tip()
  t.equal(
    tip2.ok ? tip2.value.height : 0, payerExpiry + 1,
    `failed at cltv_expiry + 1 (${payerExpiry + 1}), before the channel machine's own deadline`,
  )
  t.ok(await minedSpend(btc, payer.channels()[0]!.fundingTxid!, payerExpiry), 'and the payer\'s commitment went on-chain')
})
