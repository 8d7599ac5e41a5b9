// The demo's offline creator (DESIGN.md "Push payments", "Offline payees"): the creator's client stops,
// the platform pays it by node id while it is away (pay({ to }): the hub holds the payment durably and
// the platform hears `pending`), then the creator starts again on the same data directory and key, and
// the held payments arrive; the platform asks again with each payment's key and gets its final outcome.
import type { HubClient, PayResult } from '../../client-sdk/index.ts'
import type { Btcd } from '../lib/btcd.ts'
import { startClient } from '../lib/client.ts'
import type { Cleanups } from '../lib/cleanups.ts'
import type { HubProcess } from '../lib/hub.ts'
import { waitFor } from '../lib/wait.ts'

/** Payments made to the creator while it is offline. */
export const DEMO_OFFLINE_PAYMENTS = 3
/** How long the demo waits for the returning creator to receive them. */
const ARRIVAL_TIMEOUT_MS = 120_000

export interface DemoOffline {
  /** The creator's client after its restart (the demo closes its channel with this one). */
  client: HubClient
  /** Payments held while it was offline and received after it came back. */
  paid: number
  paidMsat: number
  feesMsat: number
}

export async function demoOffline (o: {
  btc: Btcd; hub: HubProcess; platform: HubClient; creator: HubClient; nodeKey: Uint8Array; dataDir: string
  cleanups: Cleanups; say: (s: string) => void
}): Promise<DemoOffline> {
  const { platform, say } = o
  const to = o.creator.nodeId
  say(`a creator goes offline; the platform pays it ${DEMO_OFFLINE_PAYMENTS} times by node id meanwhile …`)
  await o.creator.stop()
  const payments = Array.from({ length: DEMO_OFFLINE_PAYMENTS }, (_, i) => ({
    to, amountMsat: 30_000_000 + i * 1_000, reference: `commission while offline ${i}`, idempotencyKey: `demo-offline-${i}`,
  }))
  for (const p of payments) {
    const r = await platform.pay(p)
    if (r.ok || r.reason !== 'pending') throw new Error(`offline creator: expected the hub to hold the payment, got ${describe(r)}`)
  }
  say(`the hub holds ${DEMO_OFFLINE_PAYMENTS} payments (pending); the creator comes back …`)
  const client = await startClient({ hub: o.hub, btc: o.btc, dataDir: o.dataDir, role: 'creator', nodeKey: o.nodeKey }, o.cleanups)
  await client.untilReestablished()
  let paid = 0
  let paidMsat = 0
  let feesMsat = 0
  for (const p of payments) {
    let r: PayResult | undefined
    await waitFor(async () => {
      r = await platform.pay(p)
      return r.ok || (r.reason !== 'pending' && r.reason !== 'timeout')
    }, `the held payment ${p.idempotencyKey} delivered`, ARRIVAL_TIMEOUT_MS, 250)
    if (r === undefined || !r.ok) throw new Error(`offline creator: ${p.idempotencyKey} ended ${r === undefined ? 'unknown' : describe(r)}`)
    paid++; paidMsat += r.amountMsat; feesMsat += r.feeMsat
  }
  say(`the returning creator received all ${paid} held payments (${paidMsat / 1000} sat)`)
  return { client, paid, paidMsat, feesMsat }
}

const describe = (r: PayResult): string => r.ok ? 'paid' : `${r.reason}: ${r.detail}`
