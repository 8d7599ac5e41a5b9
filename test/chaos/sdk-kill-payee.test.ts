// SDK crash test, payee: the creator's HubClient, a real child process, is SIGKILLed just before and
// just after each durable write of a payment's dance, of its invoice, and around the delivery of
// payment_received (host/crash-points.ts, SDK_CRASH_AT=<before|after>:<point>:<n>), then
// restarted on the same data directory. After each restart the payment completes exactly once, both
// balances moved by exactly the amount, payment_received was delivered at least once and always with
// the same id (a kill after its listener ran delivers it again after the restart), the lists agree;
// at the end the hub's store agrees with both clients to the msat (test/chaos/sdk-crash-rig.ts).
//
// The payee's points: record:invoice (createInvoice), persist:local_commitment (the hub's add signed),
// persist:remote_commitment, persist:revocation (then the HTLC is decided), persist:preimage (the
// invoice marked paid and payment_received stored, before the fulfil leaves), event:deliver.
import t from 'tap'
import { hubAgrees, killAtEveryPoint, setupSdkRig } from './sdk-crash-rig.ts'

const MAX_OCCURRENCE = 3

t.test('SDK crash: the payee SIGKILLed before/after each durable write and event delivery; exactly once, payment_received at least once with one id', async t => {
  const rig = await setupSdkRig(t)
  await killAtEveryPoint(
    rig, 'payee',
    ['record:invoice', 'persist:local_commitment', 'persist:remote_commitment', 'persist:revocation', 'persist:preimage', 'event:deliver'],
    MAX_OCCURRENCE,
  )
  await hubAgrees(rig)
})
