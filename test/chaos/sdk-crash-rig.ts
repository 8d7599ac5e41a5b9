// Shared by the SDK crash tests: a real btcd, the hub as a child process, and the payer (platform) and
// payee (creator) as SDK child processes (sdk-process.ts). Each case restarts one of the two with a
// crash point armed (SDK_CRASH_AT, host/crash-points.ts), makes one payment, lets the client die
// at the point, restarts it clean, and checks the accounting exactly: the payment completed once (a
// retry of pay() with its key returns it), both balances moved by exactly the amount (+ the hub's
// fee), payment_received was delivered at least once and always with the same id, and the lists of
// payments and invoices say so. At the end the hub's store agrees with both clients to the msat.
import path from 'node:path'
import type * as Tap from 'tap'
import { sha256 } from '@noble/hashes/sha2.js'
import { encodeInvoice } from '../../protocol/invoice/index.ts'
import { bytesToHex, type Msat } from '../../protocol/types.ts'
import type { ChannelInfo, PayResult } from '../../client-sdk/index.ts'
import type { Page, PaymentInfo, InvoiceInfo } from '../../client-sdk/listing.ts'
import { useBtcd, type Btcd } from '../helpers/btcd.ts'
import { fundHub, hubChannelStates, mineTx, randomKey, startHub, tempDir, waitFor, type HubProcess } from '../helpers/hub.ts'
import { startSdkProcess, type SdkProcess } from './sdk-process.ts'

export interface SdkRig {
  t: Tap.Test
  btc: Btcd
  hub: HubProcess
  payer: SdkProcess
  payee: SdkProcess
  /** Payments made so far (amounts differ so a double credit would show). */
  n: number
}

const channel = async (p: SdkProcess): Promise<ChannelInfo> => (await p.call<ChannelInfo[]>('channels'))[0]!

export async function setupSdkRig (t: Tap.Test): Promise<SdkRig> {
  const btc = await useBtcd(t)
  const dir = tempDir('sdk-kill')
  // The payee may be down for a restart or two while the hub holds its HTLC: hold long enough.
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { router: { holdMs: 300_000 } } }, t)
  await fundHub(btc, hub, 3_000_000)
  const payer = await startSdkProcess(
    { name: 'payer', dataDir: path.join(dir, 'payer'), nodeKey: randomKey(), hub, btc, role: 'platform' }, t,
  )
  const payee = await startSdkProcess({
    name: 'payee', dataDir: path.join(dir, 'payee'), nodeKey: randomKey(), hub, btc, role: 'creator',
    verbose: process.env.SDK_VERBOSE === '1',
  }, t)

  await openPayerChannel(btc, payer)
  await requestPayeeChannel(btc, payee)
  return { t, btc, hub, payer, payee, n: 0 }
}

/** The payer SDK process funds its wallet and opens a 1,000,000 sat channel; resolves when it is ready. */
export async function openPayerChannel (btc: Btcd, payer: SdkProcess): Promise<void> {
  const f = await btc.faucet(await payer.call<string>('address'), 1_100_000)
  await btc.mine(1)
  await payer.call('waitUtxo', { txid: f.txid })
  const opening = payer.call('open', { capacitySat: 1_000_000 })
  await waitFor(async () => (await channel(payer).catch(() => undefined))?.fundingTxid != null, `the ${payer.name}'s funding`)
  await mineTx(btc, (await channel(payer)).fundingTxid!)
  await opening
}

/** A payee SDK process asks the hub for a channel; resolves once the hub's funding is mined and it is ready. */
export async function requestPayeeChannel (btc: Btcd, payee: SdkProcess): Promise<void> {
  const requesting = payee.call('request')
  await waitFor(async () => (await channel(payee).catch(() => undefined))?.fundingTxid != null, `the hub's funding of the ${payee.name}`)
  await mineTx(btc, (await channel(payee)).fundingTxid!)
  await requesting
}

/** pay() until it has a final outcome (a `timeout` is not one: the payment is still in flight). */
async function payUntilFinal (payer: SdkProcess, invoice: string, idempotencyKey: string): Promise<PayResult> {
  for (;;) {
    const r = await payer.call<PayResult>('pay', { invoice, idempotencyKey })
    if (r.ok || r.reason !== 'timeout') return r
  }
}

async function bothReestablished (rig: SdkRig): Promise<void> {
  await rig.payer.call('reestablished')
  await rig.payee.call('reestablished')
}

/** If the victim died (at its point), starts it again clean and waits for both channels. */
async function reviveIfDead (rig: SdkRig, victim: SdkProcess): Promise<boolean> {
  if (victim.alive) return false
  await victim.restart()
  await bothReestablished(rig)
  return true
}

/**
 * Arms `crashAt` in `victim`, pays once (an invoice of the payee), and recovers. Returns whether the
 * victim died at the point (false: one payment does not reach it that often).
 */
export async function crashAndPay (rig: SdkRig, victimName: 'payer' | 'payee', crashAt: string): Promise<boolean> {
  const { t, payer, payee } = rig
  const victim = victimName === 'payer' ? payer : payee
  await victim.restart({ SDK_CRASH_AT: crashAt })
  await bothReestablished(rig)
  const before = { p: (await channel(payer)).localMsat, c: (await channel(payee)).localMsat }
  const amount = 10_000_000 + rig.n++
  const key = `crash-${rig.n}`
  let crashed = false
  // The invoice: the payee may die writing it (record:invoice); an invoice it never returned was
  // never handed out, so it asks again.
  let invoice: { invoice: string; paymentHash: string } | undefined
  while (invoice === undefined) {
    invoice = await payee.call<{ invoice: string; paymentHash: string }>(
      'invoice', { amountMsat: amount, memo: crashAt },
    ).catch(() => undefined)
    if (invoice === undefined) { crashed = await reviveIfDead(rig, payee) || crashed; if (!crashed) throw new Error('invoice refused') }
  }
  const paying = payer.call<PayResult>('pay', { invoice: invoice.invoice, idempotencyKey: key }).catch(() => undefined)
  const first = await Promise.race([victim.exited().then(() => 'died' as const), paying.then(() => 'answered' as const)])
  if (first === 'died') crashed = await reviveIfDead(rig, victim) || crashed
  let r = await paying
  // The payer died before answering (or answered `timeout`): the same key returns the final outcome.
  if (r === undefined || (!r.ok && r.reason === 'timeout')) r = await payUntilFinal(payer, invoice.invoice, key)
  t.ok(r.ok, `${victimName} ${crashAt}: the payment completed${r.ok ? '' : ` (${r.reason}: ${r.detail})`}`)
  if (!r.ok) return crashed
  // The rest of the dance may still reach the point (the last revocation comes after pay() resolved):
  // wait until both channels are settled, reviving the victim whenever it died on the way, and give
  // a last write a moment to reach the point (coverage, not timing).
  const settled = async (): Promise<boolean> => (await channel(payer)).settled && (await channel(payee)).settled
  for (;;) {
    await waitFor(async () => !victim.alive || await settled().catch(() => !victim.alive), `${crashAt}: settled or died`)
    if (victim.alive) await Promise.race([victim.exited(), new Promise(resolve => setTimeout(resolve, 500))])
    if (!await reviveIfDead(rig, victim)) break
    crashed = true
  }
  t.comment(`${victimName} ${crashAt}: ${crashed ? 'died there and recovered' : 'not reached by one payment'}`)

  t.same(await payUntilFinal(payer, invoice.invoice, key), r, `${crashAt}: a retry with the key returns the same outcome`)
  t.equal(before.p - (await channel(payer)).localMsat, amount + r.feeMsat, `${crashAt}: the payer paid amount + fee exactly once`)
  t.equal((await channel(payee)).localMsat - before.c, amount, `${crashAt}: the payee got the amount exactly once`)
  const hash = invoice.paymentHash
  await waitFor(
    () => payee.events.some(e => e.event === 'payment_received' && e.data.paymentHash === hash), `${crashAt}: payment_received delivered`,
  )
  const received = payee.events.filter(e => e.event === 'payment_received' && e.data.paymentHash === hash)
  t.same(
    [...new Set(received.map(e => e.data.id))], [`payment_received:${hash}`],
    `${crashAt}: payment_received (×${received.length}) always with one id`,
  )
  t.same(new Set(received.map(e => JSON.stringify(e.data))).size, 1, `${crashAt}: and the same content`)
  t.equal(received[0]!.data.amountMsat, amount, `${crashAt}: for the amount`)
  await waitFor(
    () => payer.events.some(e => e.event === 'payment_sent' && e.data.paymentHash === hash), `${crashAt}: payment_sent delivered`,
  )
  t.ok(
    payer.events.filter(e => e.event === 'payment_sent' && e.data.paymentHash === hash).every(e => e.data.id === `payment_sent:${hash}`),
    `${crashAt}: payment_sent with one id`,
  )
  const pays = (await payer.call<Page<PaymentInfo>>('listPayments', { limit: 1_000 })).items.filter(p => p.paymentHash === hash)
  t.same(pays.map(p => p.status), ['succeeded'], `${crashAt}: the payer lists the payment once, succeeded`)
  const invs = (await payee.call<Page<InvoiceInfo>>('listInvoices', { limit: 1_000 })).items.filter(i => i.paymentHash === hash)
  t.same(invs.map(i => [i.status, i.receivedMsat]), [['paid', amount]], `${crashAt}: the payee lists the invoice as paid`)
  return crashed
}

/** A payment the hub fails (an invoice of a node it does not know), with `crashAt` armed in the
 *  payer: it ends failed once, and nothing moves. */
export async function crashAndFail (rig: SdkRig, crashAt: string): Promise<boolean> {
  const { t, payer } = rig
  await payer.restart({ SDK_CRASH_AT: crashAt })
  await bothReestablished(rig)
  const before = (await channel(payer)).localMsat
  const preimage = randomKey()
  const enc = encodeInvoice({
    network: 'bcrt', amountMsat: 5_000_000 as Msat, timestamp: Math.floor(Date.now() / 1000), paymentHash: bytesToHex(sha256(preimage)),
    paymentSecret: bytesToHex(randomKey()),
    description: 'nobody', expirySeconds: 3_600, minFinalCltvExpiryDelta: 40, includeNodeId: false,
  }, randomKey())
  if (!enc.ok) throw new Error(enc.error.detail)
  const key = `fail-${rig.n++}`
  const paying = payer.call<PayResult>('pay', { invoice: enc.value, idempotencyKey: key }).catch(() => undefined)
  const first = await Promise.race([payer.exited().then(() => 'died' as const), paying.then(() => 'answered' as const)])
  let crashed = first === 'died' ? await reviveIfDead(rig, payer) : false
  let r = await paying
  if (r === undefined || (!r.ok && r.reason === 'timeout')) r = await payUntilFinal(payer, enc.value, key)
  t.match(r, { ok: false, reason: 'unknown_next_peer' }, `${crashAt}: the payment failed with the hub's reason`)
  if (payer.alive) await Promise.race([payer.exited(), new Promise(resolve => setTimeout(resolve, 500))])
  crashed = await reviveIfDead(rig, payer) || crashed
  t.comment(`payer ${crashAt}: ${crashed ? 'died there and recovered' : 'not reached'}`)
  await waitFor(async () => (await channel(payer)).settled, `${crashAt}: settled`)
  t.same(await payUntilFinal(payer, enc.value, key), r, `${crashAt}: a retry with the key returns the same failure`)
  t.equal((await channel(payer)).localMsat, before, `${crashAt}: nothing moved`)
  const hash = bytesToHex(sha256(preimage))
  await waitFor(
    () => payer.events.some(e => e.event === 'payment_failed' && e.data.paymentHash === hash), `${crashAt}: payment_failed delivered`,
  )
  t.ok(payer.events.filter(
    e => e.event === 'payment_failed' && e.data.paymentHash === hash
  ).every(e => e.data.id === `payment_failed:${hash}`), `${crashAt}: payment_failed with one id`)
  const pays = (await payer.call<Page<PaymentInfo>>('listPayments', { limit: 1_000 })).items.filter(p => p.paymentHash === hash)
  t.same(pays.map(p => p.status), ['failed'], `${crashAt}: listed once, failed`)
  return crashed
}

/** Every point × before/after × occurrence 1… until one payment no longer reaches it; each point must
 *  be reached at least once (its first occurrence). */
export async function killAtEveryPoint (
  rig: SdkRig, victim: 'payer' | 'payee', points: readonly string[], maxOccurrence: number,
): Promise<void> {
  for (const point of points) {
    for (const phase of ['before', 'after'] as const) {
      for (let n = 1; n <= maxOccurrence; n++) {
        const crashed = await crashAndPay(rig, victim, `${phase}:${point}:${n}`)
        if (n === 1) rig.t.ok(crashed, `${victim} ${phase}:${point}: reached (the process died there)`)
        if (!crashed) break
      }
    }
  }
}

/** The hub's store agrees with both clients, to the msat; no channel force-closed. */
export async function hubAgrees (rig: SdkRig): Promise<void> {
  const { t, hub, payer, payee } = rig
  const mine = { payer: await channel(payer), payee: await channel(payee) }
  await payer.stop()
  await payee.stop()
  await hub.stop()
  const states = await hubChannelStates(hub)
  for (const who of ['payer', 'payee'] as const) {
    const c = mine[who]
    const theirs = states.get(c.channelId)
    t.ok(theirs !== undefined, `${who}: the hub has the channel`)
    t.same(
      [theirs!.localCommit!.spec.toRemoteMsat, theirs!.localCommit!.spec.toLocalMsat], [c.localMsat, c.remoteMsat],
      `${who}: hub and client agree to the msat`,
    )
    t.equal(theirs!.localCommit!.spec.htlcs.length, 0, `${who}: no HTLC left at the hub`)
    t.equal(c.phase, 'normal', `${who}: the channel never force-closed`)
  }
}
