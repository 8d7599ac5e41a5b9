// channel_reestablish that lies, over the hub's real protocol with a real btcd (BOLT #2 "Message
// Retransmission"). A reestablish is a claim about what both sides signed and revealed; the hub checks
// what it can prove against its own durable state and never lets an unproven claim hand the attacker
// control of the hub's money:
//   - numbers the attacker cannot prove (a higher next_commitment_number, "you signed more than you
//     know"): the hub changes nothing (warning, disconnect). If it believed the claim it would stop
//     broadcasting its own commitment and wait for the attacker to close; with an HTLC the hub offered
//     in that channel, the attacker would let the upstream payment time out on-chain, then claim the
//     HTLC from its own commitment with the preimage: the hub pays a payment nobody paid it for;
//   - a forged your_last_per_commitment_secret, or a higher next_revocation_number without the secret
//     that proves it: the peer is lying (BOLT #2: "SHOULD send an `error` and fail the channel"): the
//     hub fails the channel with its latest commitment; the attacker gets exactly its balance;
//   - numbers below the hub's (the attacker claims to have lost state): the hub's latest commitment is
//     safe to use; the attacker gets exactly its balance.
// Each case: the hub stays up, the honest platform and creator are untouched to the msat and keep
// paying, and the attacker gets nothing on-chain beyond what it is owed.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, openFundedChannel, startClient, startHub, tempDir } from '../helpers/hub.ts'
import { Attacker, until, type AttackerChannel } from './fixtures/attacker.ts'
import type { PeerMessage } from '../../protocol/wire/index.ts'
import { hubClosesWithLatest } from './fixtures/settle.ts'
import { hubChannels } from './fixtures/hub-view.ts'
import { honestParties } from './fixtures/honest.ts'
import { admin, confirmedSince, isConfirmed, paidTo, tipHeight } from './fixtures/chain-view.ts'

/** The delay the hub imposes on its peers' own outputs (channels.toSelfDelay), short to keep the test fast. */
const HUB_TO_SELF_DELAY = 6

const btc = await useBtcd(t)
const dir = tempDir('adv-reestablish')
const hub = await startHub(
  { dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { channels: { toSelfDelay: HUB_TO_SELF_DELAY } } }, t,
)
await fundHub(btc, hub, 5_000_000)
const honest = await honestParties(btc, hub, dir, t)
let height = await tipHeight(btc)
const mine = async (n: number): Promise<void> => { await btc.mine(n); height = await tipHeight(btc) }
const connectAttacker = async (): Promise<Attacker> => {
  const a = await Attacker.connect(hub, { height: () => height, limits: { toSelfDelay: 6 } })
  t.teardown(() => { a.close() })
  return a
}

t.test('recv channel_reestablish (next_commitment_number it cannot prove) on a channel with an HTLC the hub offered: nothing changes; the hub times the HTLC out; the attacker never claims it', async t => {
  const before = await honest.view()
  const hubLinesBefore = hub.lines.length
  // The attacker's two identities: a payer (honest SDK software, its own coins) and a payee (the
  // attacker's machine, in a channel the hub funded: it has nothing at stake in it).
  const payer = await startClient({ hub, btc, dataDir: path.join(dir, 'payer'), role: 'platform', payTimeoutMs: 5_000 }, t)
  await openFundedChannel(btc, payer, 400_000)
  const payee = await connectAttacker()
  payee.autoFulfill = false
  const ch = await payee.hubFundedChannel(btc)
  height = await tipHeight(btc)
  const X = 200_000_000
  const inv = payee.invoice(X, 'held')
  const paying = payer.pay(inv.invoice)
  await until(() => ch.incoming.some(h => h.paymentHash === inv.paymentHash), 'the HTLC irrevocably committed at the payee')
  t.equal((await paying).ok, false, 'the payer sees no outcome yet (pay() gives up waiting, the HTLC is in flight)')

  // The lie: "you signed commitments for me that you do not know of".
  ch.tamper = msg => msg.type === 'channel_reestablish' ? { ...msg, next_commitment_number: msg.next_commitment_number + 5 } : msg
  await payee.reconnect()
  const notice = await ch.nextNotice()
  t.comment(`the hub answered: ${notice}`)
  ch.tamper = undefined
  const row = (await hubChannels(hub)).find(r => r.channel_id === ch.channelId)!
  t.not(row.phase, 'awaiting_remote_close', 'the hub did not give up its own commitment on an unproven claim')

  // The attacker stays away and waits for the payer's HTLC to be resolved: timed out on-chain by the
  // payer (then the payee would claim the downstream HTLC with the preimage), or failed back by the
  // hub once the hub timed out the downstream HTLC itself.
  payee.close()
  const start = height
  let resolved = false
  for (let i = 0; i < 200 && !resolved; i++) {
    await mine(1)
    const p = (await payer.listPayments()).items.find(x => x.paymentHash === inv.paymentHash)
    resolved = p?.status === 'failed'
  }
  t.ok(resolved, 'the payer\'s payment failed: it paid nothing')
  const failure = (await payer.listPayments()).items.find(x => x.paymentHash === inv.paymentHash)?.failure
  t.comment(`the payer's payment failed: ${failure?.reason ?? '?'} (${failure?.detail ?? ''})`)

  // Now the payee broadcasts its latest commitment and claims the HTLC with the preimage.
  const latest = Math.max(...ch.commitments.keys())
  const commitment = ch.commitmentTx(latest)
  const success = ch.htlcSuccessTx(latest, inv.paymentHash, inv.preimage)
  const b1 = await btc.chain.broadcast(commitment.hex)
  const b2 = await btc.chain.broadcast(success.hex)
  t.comment(`payee broadcast: commitment ${b1.ok ? 'accepted' : b1.error.detail}, HTLC-success ${b2.ok ? 'accepted' : b2.error.detail}`)
  await mine(2)
  t.notOk(await isConfirmed(btc, success.txid), 'the payee never claims the HTLC on-chain: the hub timed it out first')
  const htlcOutpoints = (await confirmedSince(btc, start)).filter(x => x.tx.inputs.some(i => i.txid === commitment.txid))
  t.same(htlcOutpoints.map(x => x.tx.txid), [], 'nothing spends the payee\'s commitment: it never confirmed')
  t.equal(
    await paidTo(btc, [ch.toRemoteScript, payee.walletScript], start), 0,
    'the payee got nothing on-chain (its balance in the channel was 0)',
  )

  t.equal(hub.lines.slice(hubLinesBefore).filter(l => l.event === 'fatal').length, 0, 'the hub stays up')
  await honest.untouched(t, before, 'after the lie')
  await honest.pays(t, 'after the lie')
})

/** A channel the attacker funded (pushing the hub 50,000 sat, so both sides have a balance at stake),
 *  with one payment dance done (it offers an HTLC to itself; the hub cannot send it back through the
 *  same channel's, so it fails): commitment numbers and revealed secrets past 0. */
async function usedChannel (): Promise<{ a: Attacker; ch: AttackerChannel }> {
  const a = await connectAttacker()
  const ch = await a.fundedChannel(btc, 200_000, { pushMsat: 50_000_000 })
  height = await tipHeight(btc)
  const inv = a.invoice(10_000_000)
  await ch.offer({ amountMsat: 10_000_000, paymentHash: inv.paymentHash, recipient: a.nodeId })
  await until(() => ch.settled && (ch.state.localCommit?.index ?? 0) >= 2, 'the dance to finish')
  return { a, ch }
}

/** The attacker reconnects and sends `lie` in place of its channel_reestablish; resolves with the hub's answer. */
async function lieOnReconnect (
  a: Attacker, ch: AttackerChannel, lie: (m: Extract<PeerMessage, { type: 'channel_reestablish' }>) => PeerMessage,
): Promise<string> {
  ch.tamper = msg => msg.type === 'channel_reestablish' ? lie(msg) : msg
  const seen = ch.notices().length
  await a.reconnect()
  await until(() => ch.notices().length > seen, 'the hub\'s answer')
  ch.tamper = undefined
  return ch.notices()[seen]!
}

for (const [name, lie, expect] of [
  [
    'a forged your_last_per_commitment_secret',
    (m: Extract<PeerMessage, { type: 'channel_reestablish' }>) => ({ ...m, your_last_per_commitment_secret: '42'.repeat(32) }),
    /^error: peer_lying: your_last_per_commitment_secret is not our secret/,
  ],
  ['a next_revocation_number it cannot prove', (m: Extract<PeerMessage, { type: 'channel_reestablish' }>) => ({
    ...m, next_revocation_number: m.next_revocation_number + 3, your_last_per_commitment_secret: '42'.repeat(32),
  }), /^error: peer_lying: next_revocation_number \d+ > \d+ without a valid secret/],
  [
    'numbers below the hub\'s: it claims to have lost state',
    (m: Extract<PeerMessage, { type: 'channel_reestablish' }>) => ({ ...m, next_commitment_number: m.next_commitment_number - 1 }),
    /^error: peer_behind: next_commitment_number/,
  ],
] as const) {
  t.test(`recv channel_reestablish (${name}) on own channel: the hub fails it and closes with its latest commitment`, async t => {
    const before = await honest.view()
    const { a, ch } = await usedChannel()
    t.match(await lieOnReconnect(a, ch, lie), expect, 'the hub answers with an error naming the lie')
    await hubClosesWithLatest(t, btc, hub, ch)
    await honest.untouched(t, before, 'after the lie')
    await honest.pays(t, 'after the lie')
  })
}

t.test('recv channel_reestablish (next_commitment_number it cannot prove) on a hub-funded channel without HTLCs: the hub\'s coins are never locked; its operator can still close', async t => {
  const before = await honest.view()
  const a = await connectAttacker()
  const ch = await a.hubFundedChannel(btc)
  t.match(
    await lieOnReconnect(a, ch, m => ({ ...m, next_commitment_number: m.next_commitment_number + 5 })),
    /^warning: we_may_be_behind: next_commitment_number/, 'a warning: the claim changes nothing',
  )
  a.close()
  const row = (await hubChannels(hub)).find(r => r.channel_id === ch.channelId)!
  t.equal(row.phase, 'normal', 'the channel is still normal at the hub (its peer is away)')
  const r = await admin(hub, '/channels/force-close', { channel_id: ch.channelId })
  t.same([r.status, r.body.broadcast], [200, true], 'the operator closes it with the hub\'s latest commitment')
  await hubClosesWithLatest(t, btc, hub, ch)
  await honest.untouched(t, before, 'after the lie')
})
