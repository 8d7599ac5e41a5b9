// pay({ to, amountMsat, reference }): a push payment, without an invoice. We pick the preimage and seal
// it, with the amount, to the payee's node key in the HTLC's metadata (protocol/push/secret.ts): the
// hub forwards it and cannot read it, so it can hold the payment for a payee that is offline
// (hub/router/holds.ts) and still never claim our HTLC without paying the payee. We keep no preimage:
// the payee reveals it when it takes the payment, and that is when we learn it, as with an invoice.
//
// From here on a push payment is a payment like any other (PaymentBook, HubClient.offer): its record
// carries the sealed secret, offered again after a disconnect or a restart, and how many blocks the
// hub may hold it (its HTLC's expiry lies that much further out).
import { amountToOffer, type FeePolicy } from '../protocol/forwarding.ts'
import { getCurve } from '../protocol/crypto/index.ts'
import { sealPushSecret } from '../protocol/push/secret.ts'
import { hexToBytes, type NodeId } from '../protocol/types.ts'
import { random32 } from '../host/random.ts'
import type { ClientChannel } from './channels.ts'
import { parseArgs, pushPayArgs } from './options.ts'
import type { PaymentBook, PayResult } from './payments.ts'
import type { PaymentRecord } from './records.ts'

/** What a push payment needs of the HubClient. */
export interface PushPayHost {
  nodeId: NodeId
  book: PaymentBook
  payTimeoutMs: number
  /** A channel to pay from, waiting for one that is reestablishing until `deadline`. */
  payingChannelSoon (deadline: number): Promise<ClientChannel | undefined>
  hubPolicy (): Promise<FeePolicy>
  /** Offers the HTLC of a pending payment (HubClient.offer). */
  offer (ch: ClientChannel, paymentHash: string): Promise<void>
}

const nowSec = (): number => Math.floor(Date.now() / 1000)

/** HubClient.pay({ to, ... }): see its comment for the outcomes. */
export async function payPush (host: PushPayHost, input: object): Promise<PayResult> {
  const a = parseArgs(pushPayArgs, input, 'pay')
  const deadline = Date.now() + host.payTimeoutMs
  const same = (p: PaymentRecord): boolean => p.push !== undefined && p.payee === a.to && p.amountMsat === a.amountMsat &&
    p.reference === a.reference
  const prior = a.idempotencyKey !== undefined ? await host.book.paymentByKey(a.idempotencyKey) : undefined
  if (prior !== undefined) return await priorOutcome(host.book, prior, same(prior), a.idempotencyKey!, deadline)
  if (a.to === host.nodeId) return {
    ok: false, paymentHash: null, reason: 'wrong_payee', detail: 'pay.to is our own node id (paying ourselves through the hub is refused)',
  }
  const ch = await host.payingChannelSoon(deadline)
  if (ch === undefined) return { ok: false, paymentHash: null, reason: 'no_channel', detail: 'no channel with the hub is ready' }
  // A channel is up, so the hub has sent its policy on this connection.
  const offered = amountToOffer(a.amountMsat, await host.hubPolicy())
  const balanceMsat = ch.driver.state.localCommit!.spec.toLocalMsat
  if (balanceMsat < offered) {
    return {
      ok: false, paymentHash: null, reason: 'insufficient_balance',
      detail: `the channel's balance ${balanceMsat} msat is below the ${offered} msat to offer (${a.amountMsat} msat and the hub's fee)`,
    }
  }
  let ephemeralSecret = random32()
  while (!getCurve().isPrivkey(ephemeralSecret)) ephemeralSecret = random32()
  const { paymentHash, secret } = sealPushSecret({
    preimage: random32(), amountMsat: a.amountMsat, payee: hexToBytes(a.to), reference: a.reference, ephemeralSecret,
  })
  // Durable with the channel's next persist batch, before the commitment signing its HTLC leaves
  // (PaymentBook.begin). A payment begun meanwhile with this key is that payment.
  const begun = host.book.begin({
    paymentHash, invoice: '', push: secret, holdBlocks: a.holdBlocks, payee: a.to, amountMsat: a.amountMsat, offeredMsat: offered,
    status: 'pending', createdAt: nowSec(), reference: a.reference,
    ...(a.idempotencyKey !== undefined ? { idempotencyKey: a.idempotencyKey } : {}),
  }, ch.driver.channelId)
  if (begun !== undefined) return await priorOutcome(host.book, begun, same(begun), a.idempotencyKey!, deadline)
  const outcome = host.book.outcomeWithin(paymentHash, host.payTimeoutMs, { pendingOnHold: true })
  await host.offer(ch, paymentHash)
  return await outcome
}

/** A push pay() whose key names a payment already begun: its outcome (`pending`, at the end of the
 *  wait, while the hub holds it), unless the key was used with other parameters. */
async function priorOutcome (book: PaymentBook, prior: PaymentRecord, same: boolean, key: string, deadline: number): Promise<PayResult> {
  if (!same) {
    return {
      ok: false, paymentHash: null, reason: 'idempotency_key_reused',
      detail: `idempotency key ${JSON.stringify(key)} belongs to payment ${prior.paymentHash} with other parameters; nothing was paid`,
    }
  }
  return await book.outcomeWithin(prior.paymentHash, Math.max(0, deadline - Date.now()))
}
