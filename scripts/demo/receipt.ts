// The demo's receipt check: one more payment, its receipt at payer and payee, an anchor of the audit log
// on demand (POST /audit/anchor), mined to its depth, then the payee fetches the inclusion proof and
// verifies the receipt against the chain alone (client-sdk/receipts.ts verifyReceipt).
import { verifyReceipt, type HubClient } from '../../client-sdk/index.ts'
import { DEFAULT_FINALITY_DEPTH } from '../../protocol/limits.ts'
import type { Btcd } from '../lib/btcd.ts'
import type { HubProcess } from '../lib/hub.ts'
import { waitFor } from '../lib/wait.ts'

export interface DemoReceipt {
  verified: boolean; entry: number; anchorTxid: string; detail: string
  /** The payment made for it (the demo's totals count it). */
  amountMsat: number; feeMsat: number
}

async function admin (hub: HubProcess, route: string, post: boolean): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await hub.adminFetch(route, post ? { method: 'POST', body: '{}' } : {})
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

export async function demoReceipt (o: {
  btc: Btcd; hub: HubProcess; payer: HubClient; payee: HubClient; say: (s: string) => void
}): Promise<DemoReceipt> {
  const inv = await o.payee.createInvoice({ amountMsat: 250_000, memo: 'a sale with a receipt' })
  const paid = await o.payer.pay(inv.invoice, { reference: 'demo-receipt' })
  if (!paid.ok) throw new Error(`receipt payment: ${paid.reason}: ${paid.detail}`)
  await waitFor(async () => await o.payer.receipt(inv.paymentHash) !== undefined && await o.payee.receipt(inv.paymentHash) !== undefined,
    'the receipt at payer and payee')
  const entry = (await o.payee.receipt(inv.paymentHash))!.receipt.entry
  const anchored = await admin(o.hub, '/audit/anchor', true)
  if (anchored.status !== 200) throw new Error(`POST /audit/anchor: ${JSON.stringify(anchored.body)}`)
  const txid = String(anchored.body.txid)
  o.say(`audit log anchored: entries ${String(anchored.body.from)}..${Number(anchored.body.to) - 1} in ${txid}; ` +
    `mining ${DEFAULT_FINALITY_DEPTH} blocks to its depth`)
  await o.btc.mine(DEFAULT_FINALITY_DEPTH)
  await waitFor(
    async () => Number((await admin(o.hub, '/audit/anchors', false)).body.anchored_to) > entry, 'the anchor at depth', 60_000, 200,
  )
  const proof = await o.payee.getReceiptProof({ paymentHash: inv.paymentHash })
  if (proof.status !== 'anchored' || proof.receipt === undefined) throw new Error(`receipt proof: ${proof.status}`)
  const v = await verifyReceipt(proof.receipt, o.btc.chain, { minDepth: DEFAULT_FINALITY_DEPTH })
  const detail = v.ok ? `entry ${v.entry} anchored in ${v.txid}, ${v.confirmations} confirmations` : v.detail
  o.say(`receipt of ${inv.paymentHash.slice(0, 16)}… verified against the chain: ${v.ok ? 'yes' : 'NO'} (${detail})`)
  return { verified: v.ok, entry, anchorTxid: txid, detail, amountMsat: paid.amountMsat, feeMsat: paid.feeMsat }
}
