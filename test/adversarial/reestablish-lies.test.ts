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
import { Attacker, until } from './fixtures/attacker.ts'
import { hubChannels } from './fixtures/hub-view.ts'
import { honestParties } from './fixtures/honest.ts'
import { confirmedSince, isConfirmed, paidTo, tipHeight } from './fixtures/chain-view.ts'

/** The delay the hub imposes on its peers' own outputs (channels.toSelfDelay), short to keep the test fast. */
const HUB_TO_SELF_DELAY = 6

const btc = await useBtcd(t)
const dir = tempDir('adv-reestablish')
const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { channels: { toSelfDelay: HUB_TO_SELF_DELAY } } }, t)
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
  t.equal(await paidTo(btc, [ch.toRemoteScript, payee.walletScript], start), 0, 'the payee got nothing on-chain (its balance in the channel was 0)')

  t.equal(hub.lines.slice(hubLinesBefore).filter(l => l.event === 'fatal').length, 0, 'the hub stays up')
  await honest.untouched(t, before, 'after the lie')
  await honest.pays(t, 'after the lie')
})
