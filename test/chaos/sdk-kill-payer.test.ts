// SDK crash test, payer: the platform's HubClient, a real child process, is SIGKILLed just before and
// just after each durable write of a payment's dance and around the delivery of payment_sent
// (host/crash-points.ts, SDK_CRASH_AT=<before|after>:<point>:<n>; the n-th occurrence after a
// start, n = 1, 2, … until one payment no longer reaches it), then restarted on the same data
// directory. After each restart: pay() with the same key returns the payment's one outcome, both
// balances moved by exactly the amount (+ fee), the events came with one id, the lists agree; at the
// end the hub's store agrees with both clients to the msat (test/chaos/sdk-crash-rig.ts).
//
// The payer's points: persist:remote_commitment (its pending payment record rides there),
// persist:local_commitment, persist:revocation, persist:preimage (the success and payment_sent ride
// there), event:deliver (payment_sent), and record:payment (a failure, written on its own: a payment
// the hub fails). event:ack is not here: the acknowledgement rides on the dance's next channel batch.
import t from 'tap'
import { crashAndFail, hubAgrees, killAtEveryPoint, setupSdkRig } from './sdk-crash-rig.ts'

/** One payment reaches a channel write point at most twice at the payer (the add's dance and the fulfil's). */
const MAX_OCCURRENCE = 3

t.test('SDK crash: the payer SIGKILLed before/after each durable write and event delivery; exactly once, exact accounting', async t => {
  const rig = await setupSdkRig(t)
  await killAtEveryPoint(
    rig, 'payer', ['persist:remote_commitment', 'persist:local_commitment', 'persist:revocation', 'persist:preimage', 'event:deliver'],
    MAX_OCCURRENCE,
  )
  for (const phase of ['before', 'after'] as const) {
    t.ok(await crashAndFail(rig, `${phase}:record:payment:1`), `payer ${phase}:record:payment: reached`)
  }
  await hubAgrees(rig)
})
