// Scenario 2 over real sockets: the WebSocket is cut at every message of a payment's dance, in both
// directions, on both legs (platform ↔ hub and hub ↔ creator), just before the message leaves (it is
// lost) and just after it was delivered. The client reconnects, both sides run channel_reestablish,
// and the payment completes exactly once: one payment_received, balances moved by exactly the amount
// (plus the hub's fee on the payer's side), and every party agrees.
//
// The dance is not hard-coded: a clean payment is traced first, and every message of that trace is a
// cut point.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import {
  cutSwitch, fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor, type CutPlan, type CutSwitch,
} from '../helpers/hub.ts'
import type { HubClient } from '../../client-sdk/index.ts'

t.test('scenario 2: disconnect at every message of the dance, both directions, both legs; the payment completes exactly once', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-dance')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await fundHub(btc, hub, 3_000_000)
  const pSwitch = cutSwitch()
  const cSwitch = cutSwitch()
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', socketFactory: pSwitch.factory }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator', socketFactory: cSwitch.factory }, t)
  await openFundedChannel(btc, platform, 1_000_000)
  await requestHubChannel(btc, creator)

  let received = 0
  creator.on('payment_received', () => { received++ })
  let n = 0

  /** One payment with `plan` armed on `sw` (or none): checks it completed exactly once. */
  const payOnce = async (label: string, sw?: CutSwitch, plan?: CutPlan): Promise<void> => {
    pSwitch.arm(sw === pSwitch ? plan : undefined)
    cSwitch.arm(sw === cSwitch ? plan : undefined)
    const before = { p: platform.channels()[0]!.localMsat, c: creator.channels()[0]!.localMsat, received }
    const amount = 10_000 + n++
    const inv = await creator.createInvoice({ amountMsat: amount, memo: label })
    const r = await platform.pay(inv.invoice)
    t.ok(r.ok, `${label}: paid${r.ok ? '' : ` (${r.reason}: ${r.detail})`}`)
    if (!r.ok) return
    // The payer has its preimage; the rest of the dance (and the cut, if it is late in it) follows.
    if (plan !== undefined) await waitFor(() => sw!.fired, `${label}: the cut`)
    await settled(platform)
    await settled(creator)
    await waitFor(() => received > before.received, `${label}: payment_received`)
    t.equal(received - before.received, 1, `${label}: received exactly once`)
    t.equal(before.p - platform.channels()[0]!.localMsat, amount + r.feeMsat, `${label}: the platform paid amount + fee once`)
    t.equal(creator.channels()[0]!.localMsat - before.c, amount, `${label}: the creator got the amount once`)
  }

  await payOnce('clean payment (trace)')
  const traces = { platform: pSwitch.trace.slice(), creator: cSwitch.trace.slice() }
  t.ok(traces.platform.length >= 6 && traces.creator.length >= 6, 'the dance was traced on both legs')
  t.comment(`platform leg: ${traces.platform.map(m => `${m.direction}:${m.type}`).join(' ')}`)
  t.comment(`creator leg: ${traces.creator.map(m => `${m.direction}:${m.type}`).join(' ')}`)

  let cases = 0
  for (const [leg, sw] of [['platform', pSwitch], ['creator', cSwitch]] as const) {
    const trace = traces[leg]
    for (const direction of ['out', 'in'] as const) {
      const msgs = trace.filter(m => m.direction === direction)
      for (const [index, m] of msgs.entries()) {
        for (const timing of ['before', 'after'] as const) {
          await payOnce(
            `${leg} ${direction === 'out' ? 'sends' : 'receives'} ${m.type} #${index} (cut ${timing})`, sw, { direction, index, timing },
          )
          cases++
        }
      }
    }
  }
  t.ok(cases >= 24, `${cases} cut points exercised`)

  // Every party still agrees and nothing is in flight.
  const p = platform.channels()[0]!
  const c = creator.channels()[0]!
  t.equal(p.inFlightMsat + c.inFlightMsat, 0, 'nothing left in flight')
  t.equal(p.phase, 'normal', 'the platform channel is still normal (no force close)')
  t.equal(c.phase, 'normal', 'the creator channel is still normal (no force close)')
})

/** Connected, reestablished, and no HTLC left in the channel. */
async function settled (c: HubClient): Promise<void> {
  await c.untilReestablished()
  await waitFor(() => c.channels().every(ch => ch.settled), 'the channel settled')
}
