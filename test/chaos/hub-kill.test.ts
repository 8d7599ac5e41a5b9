// Scenario 3: the hub, a real child process, is SIGKILLed just before and just after each durable
// write of a payment's dance (hub/crash-points.ts, HUB_CRASH_AT=<before|after>:<point>:<n>), and
// restarted on the same data directory. After each restart every channel continues (the clients
// reconnect and reestablish), the payment completes exactly once, and all three parties agree on
// every balance. Nothing is paid twice or lost.
//
// Write points of a payment's dance at the hub (the n-th occurrence after a start is killed, n = 1…
// until the payment no longer reaches it):
//   persist:local_commitment    the peer's commitment_signed stored, before our revoke_and_ack leaves
//   persist:remote_commitment   our commitment_signed's state stored, before it leaves
//   persist:revocation          the peer's revoke_and_ack stored (htlc_received / htlc_failed follow)
//   persist:preimage            the payee's update_fulfill_htlc stored / our fulfill upstream
// Forwarding writes (circuit:*) are scenario 9: test/chaos/forwarding-crash.test.ts.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, hubChannelStates, openFundedChannel, requestHubChannel, startClient, startHub, tempDir } from '../helpers/hub.ts'
import { crashAndRecover, type CrashRig } from './crash-rig.ts'

export const DANCE_WRITE_POINTS = ['persist:local_commitment', 'persist:remote_commitment', 'persist:revocation', 'persist:preimage'] as const
/** Occurrences per point tried at most (a payment reaches each point 2–4 times at the hub). */
const MAX_OCCURRENCE = 4

t.test('scenario 3: SIGKILL the hub before and after every durable write of a payment; it continues, exactly once', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('chaos-kill')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await fundHub(btc, hub, 3_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  await openFundedChannel(btc, platform, 1_000_000)
  await requestHubChannel(btc, creator)
  const rig: CrashRig = { t, hub, platform, creator, received: 0, n: 0 }
  creator.on('payment_received', () => { rig.received++ })

  let crashes = 0
  for (const point of DANCE_WRITE_POINTS) {
    for (const phase of ['before', 'after'] as const) {
      for (let n = 1; n <= MAX_OCCURRENCE; n++) {
        const crashed = await crashAndRecover(rig, `${phase}:${point}:${n}`)
        if (!crashed) break // the payment reaches this point fewer than n times
        crashes++
      }
    }
  }
  t.ok(crashes >= DANCE_WRITE_POINTS.length * 2, `${crashes} crashes at write points`)

  // The hub's store agrees with both clients, to the msat.
  await hub.stop()
  const states = await hubChannelStates(hub)
  for (const [who, c] of [['platform', platform], ['creator', creator]] as const) {
    const mine = c.channels()[0]!
    const theirs = states.get(mine.channelId)
    t.ok(theirs !== undefined, `${who}: the hub has the channel`)
    t.same([theirs!.localCommit!.spec.toRemoteMsat, theirs!.localCommit!.spec.toLocalMsat], [mine.localMsat, mine.remoteMsat], `${who}: hub and client agree`)
    t.equal(theirs!.localCommit!.spec.htlcs.length, 0, `${who}: no HTLC left at the hub`)
    t.equal(mine.phase, 'normal', `${who}: the channel never force-closed`)
  }
})
