// Shared by the crash tests (scenarios 3 and 9): restart the hub with a crash point armed, make one
// payment, let the hub die at the point, restart it clean, and check the payment completed exactly once.
import type * as Tap from 'tap'
import type { HubClient } from '../../client-sdk/index.ts'
import type { HubProcess } from '../helpers/hub.ts'
import { waitFor } from '../helpers/hub.ts'

type Tap = Pick<Tap.Test, 'ok' | 'equal' | 'comment'>

export interface CrashRig {
  t: Tap
  hub: HubProcess
  platform: HubClient
  creator: HubClient
  /** payment_received count at the creator. */
  received: number
  /** Payments made so far (amounts differ so a double credit would show). */
  n: number
}

/**
 * Arms `crashAt` (HUB_CRASH_AT), pays once, and recovers. Returns false if the payment completed
 * without reaching the point (the hub did not die): the caller stops increasing the occurrence.
 */
export async function crashAndRecover (rig: CrashRig, crashAt: string): Promise<boolean> {
  const { t, hub, platform, creator } = rig
  await hub.restart({ HUB_CRASH_AT: crashAt })
  await platform.untilReestablished()
  await creator.untilReestablished()
  const before = { p: platform.channels()[0]!.localMsat, c: creator.channels()[0]!.localMsat, received: rig.received }
  const amount = 20_000 + rig.n++
  const inv = await creator.createInvoice({ amountMsat: amount, memo: crashAt })
  const died = hub.exited().then(() => 'died' as const)
  const paying = platform.pay(inv.invoice)
  const first = await Promise.race([died, paying.then(() => 'paid' as const)])
  let crashed = false
  if (first === 'died') {
    crashed = true
    await hub.restart() // clean: no crash point
  }
  const r = await paying
  t.ok(r.ok, `${crashAt}: the payment completed${r.ok ? '' : ` (${r.reason}: ${r.detail})`}${crashed ? ' after the crash' : ' (point not reached)'}`)
  if (!r.ok) return crashed
  await platform.untilReestablished()
  await creator.untilReestablished()
  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, `${crashAt}: HTLCs settled`)
  await waitFor(() => rig.received > before.received, `${crashAt}: payment_received`)
  t.equal(rig.received - before.received, 1, `${crashAt}: received exactly once`)
  t.equal(before.p - platform.channels()[0]!.localMsat, amount + r.feeMsat, `${crashAt}: the platform paid amount + fee exactly once`)
  t.equal(creator.channels()[0]!.localMsat - before.c, amount, `${crashAt}: the creator got the amount exactly once`)
  return crashed
}
