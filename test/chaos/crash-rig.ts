// Shared by the crash tests (scenarios 3 and 9): restart the hub with a crash point armed, make one
// payment, let the hub die at the point, restart it clean, and check the payment completed exactly once.
import type * as Tap from 'tap'
import type { HubClient } from '../../client-sdk/index.ts'
import type { HubProcess } from '../helpers/hub.ts'
import { waitFor } from '../helpers/hub.ts'

type TapLike = Pick<Tap.Test, 'ok' | 'equal' | 'comment'>

export interface CrashRig {
  t: TapLike
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
  // The hub may die before the payer has its preimage, or later in the dance (a write after the
  // fulfill): either way it is restarted clean once, and the dance must finish.
  let dead = false
  void hub.exited().then(() => { dead = true })
  const paying = platform.pay(inv.invoice)
  let crashed = false
  const restartIfDead = async (): Promise<void> => {
    if (!dead || crashed) return
    crashed = true
    await hub.restart() // clean: no crash point
  }
  const first = await Promise.race([hub.exited().then(() => 'died' as const), paying.then(() => 'paid' as const)])
  if (first === 'died') await restartIfDead()
  const r = await paying
  t.ok(r.ok, `${crashAt}: the payment completed${r.ok ? '' : ` (${r.reason}: ${r.detail})`}`)
  if (!r.ok) return crashed
  await waitFor(
    () => dead || (platform.channels()[0]!.settled && creator.channels()[0]!.settled), `${crashAt}: HTLCs settled or the hub died`,
  )
  // The hub's last write of the dance (the final revocation) comes after the clients are settled:
  // give it a moment to reach the point, so the point is counted as reached (coverage, not timing).
  if (!dead) await new Promise(resolve => setTimeout(resolve, 300))
  await restartIfDead()
  await platform.untilReestablished()
  await creator.untilReestablished()
  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, `${crashAt}: HTLCs settled`)
  t.comment(`${crashAt}: ${crashed ? 'the hub died there and recovered' : 'not reached by one payment'}`)
  await waitFor(() => rig.received > before.received, `${crashAt}: payment_received`)
  t.equal(rig.received - before.received, 1, `${crashAt}: received exactly once`)
  t.equal(before.p - platform.channels()[0]!.localMsat, amount + r.feeMsat, `${crashAt}: the platform paid amount + fee exactly once`)
  t.equal(creator.channels()[0]!.localMsat - before.c, amount, `${crashAt}: the creator got the amount exactly once`)
  return crashed
}

/** Every write point × before/after × occurrence 1… (until one payment no longer reaches it), each a
 *  kill + restart + exactly-once check; then the hub's store must agree with both clients. */
export async function killAtEveryWrite (t: Tap.Test, points: readonly string[], maxOccurrence: number): Promise<void> {
  const { useBtcd } = await import('../helpers/btcd.ts')
  const h = await import('../helpers/hub.ts')
  const path = await import('node:path')
  const btc = await useBtcd(t)
  const dir = h.tempDir('chaos-kill')
  const hub = await h.startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await h.fundHub(btc, hub, 3_000_000)
  const platform = await h.startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await h.startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  await h.openFundedChannel(btc, platform, 1_000_000)
  await h.requestHubChannel(btc, creator)
  const rig: CrashRig = { t, hub, platform, creator, received: 0, n: 0 }
  creator.on('payment_received', () => { rig.received++ })

  for (const point of points) {
    for (const phase of ['before', 'after'] as const) {
      // Occurrences of this point the hub died at; one payment reaches each point at least once.
      let reached = 0
      for (let n = 1; n <= maxOccurrence; n++) {
        const crashed = await crashAndRecover(rig, `${phase}:${point}:${n}`)
        if (!crashed) break // one payment reaches this point fewer than n times
        reached++
      }
      const occurrences = `occurrence${reached > 1 ? `s 1–${reached}` : ' 1'}`
      t.ok(reached >= 1, `${phase}:${point}: ` +
        `${reached === 0 ? 'never reached by a payment' : `the hub died there (${occurrences}) and recovered each time`}`)
    }
  }

  // The hub's store agrees with both clients, to the msat.
  await hub.stop()
  const states = await h.hubChannelStates(hub)
  for (const [who, c] of [['platform', platform], ['creator', creator]] as const) {
    const mine = c.channels()[0]!
    const theirs = states.get(mine.channelId)
    t.ok(theirs !== undefined, `${who}: the hub has the channel`)
    t.same(
      [theirs!.localCommit!.spec.toRemoteMsat, theirs!.localCommit!.spec.toLocalMsat], [mine.localMsat, mine.remoteMsat],
      `${who}: hub and client agree`,
    )
    t.equal(theirs!.localCommit!.spec.htlcs.length, 0, `${who}: no HTLC left at the hub`)
    t.equal(mine.phase, 'normal', `${who}: the channel never force-closed`)
  }
}
