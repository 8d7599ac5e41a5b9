// Scenario 3: the hub, a real child process, is SIGKILLed just before and just after each durable
// write of a payment's dance (host/crash-points.ts, HUB_CRASH_AT=<before|after>:<point>:<n>; the n-th
// occurrence after a start, n = 1, 2, … until one payment no longer reaches it), and restarted on the
// same data directory. After each restart every channel continues (the clients reconnect and
// reestablish), the payment completes exactly once, and at the end the hub's store and both clients
// agree on every balance. Nothing is paid twice or lost.
//
// The write points of a payment's dance at the hub (split over two files to keep each short):
//   persist:local_commitment    the peer's commitment_signed stored, before our revoke_and_ack leaves
//   persist:remote_commitment   our commitment_signed's state stored, before it leaves
//   persist:revocation          the peer's revoke_and_ack stored (htlc_received / htlc_failed follow)
//   persist:preimage            the payee's update_fulfill_htlc stored / our fulfill upstream
// Forwarding writes (circuit:*) are scenario 9: test/chaos/forwarding-crash.test.ts.
import t from 'tap'
import { killAtEveryWrite } from './crash-rig.ts'

/** A payment reaches each point up to 4 times at the hub (two channels, two dances each). */
const MAX_OCCURRENCE = 4

t.test('scenario 3: SIGKILL before/after every commitment write (local_commitment, remote_commitment); the hub continues, exactly once', async t => {
  await killAtEveryWrite(t, ['persist:local_commitment', 'persist:remote_commitment'], MAX_OCCURRENCE)
})
