// The demo's stream (DESIGN.md "Streams"): the platform streams line items (views, 1 msat and up) to a
// creator; they go in ticks, one HTLC each, and every item's receipt is checked offline against the
// creator's node id. Returns what the demo's summary shows and what its accounting check needs.
import type { HubClient } from '../../client-sdk/index.ts'
import { forwardingFee } from '../../protocol/forwarding.ts'
import { verifyStreamReceipt } from '../../protocol/stream/index.ts'

/** Items the demo streams. */
export const DEMO_STREAM_ITEMS = 2_000

export interface DemoStream { items: number; ticks: number; receipts_verified: number; paidMsat: number; feesMsat: number }

export async function demoStream (platform: HubClient, creator: HubClient, say: (s: string) => void): Promise<DemoStream> {
  say(`streaming ${DEMO_STREAM_ITEMS} line items (1 msat and up) to a creator, one tick per 50 ms …`)
  const stream = platform.stream(creator.nodeId)
  await Promise.all(Array.from(
    { length: DEMO_STREAM_ITEMS }, (_, i) => stream.push({ id: `view-${i}`, amountMsat: 1 + i % 250, memo: 'view' }),
  ))
  const summary = await stream.flush()
  if (summary.failedIds.length > 0) throw new Error(`stream: ${summary.failedIds.length} items were not paid`)
  const policy = platform.hubPolicyInfo!
  let verified = 0
  const tickAmounts = new Map<string, number>()
  for await (const r of stream.receipts()) {
    if (!verifyStreamReceipt(JSON.parse(JSON.stringify(r)), creator.nodeId).ok) throw new Error(
      `stream: the receipt of ${r.item.id} does not verify`
    )
    verified++
    tickAmounts.set(r.tick.paymentHash, r.tick.amountMsat)
  }
  const feesMsat = [...tickAmounts.values()].reduce((t, a) => t + forwardingFee(a, policy), 0)
  say(`stream: ${summary.itemsPaid} items in ${summary.ticksPaid} ticks (${summary.msatPaid} msat), ${verified} receipts verified offline`)
  return { items: summary.itemsPaid, ticks: summary.ticksPaid, receipts_verified: verified, paidMsat: summary.msatPaid, feesMsat }
}
