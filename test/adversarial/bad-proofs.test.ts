// Wrong proofs on the attacker's own channels, over the hub's real protocol with a real btcd: every
// signature, preimage and per-commitment secret is a claim the hub checks before it acts on it
// (BOLT #2 commitment_signed / revoke_and_ack / update_fulfill_htlc receiver rules).
//
// The attacker is two identities: a payer with a channel it funded and a payee in a channel the hub
// funded; it pays itself through the hub and, on the way, replaces what its own machine signed with a
// forgery (fixtures/forge.ts). Each time the hub answers with the reason, and:
//   - a disconnect-class violation (bad or high-S signatures, wrong HTLC signature count, a replayed
//     commitment_signed or revoke_and_ack, a wrong preimage, a fulfil of its own HTLC): the hub applies
//     nothing; after an honest reconnect the payment completes exactly once, the attacker's balances at
//     both ends agree with the hub's to the msat;
//   - a wrong per-commitment secret (new or replayed) while the hub waits for a revocation: BOLT #2
//     "MUST send an `error` and fail the channel": the hub closes with its latest commitment; on-chain
//     the hub sweeps exactly its balance, the attacker's output is no more than its own balance.
// The honest platform and creator are untouched to the msat throughout and keep paying.
import t, { type Test } from 'tap'
import path from 'node:path'
import type { PeerMessage } from '../../protocol/wire/index.ts'
import { amountToOffer } from '../../protocol/forwarding.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { Attacker, until, type AttackerChannel, type Tamper } from './fixtures/attacker.ts'
import { highS, once, random32Hex, wrongKeySignatures } from './fixtures/forge.ts'
import { honestParties } from './fixtures/honest.ts'
import { hubChannels } from './fixtures/hub-view.ts'
import { admin, tipHeight } from './fixtures/chain-view.ts'
import { hubClosesWithLatest } from './fixtures/settle.ts'

const btc = await useBtcd(t)
const dir = tempDir('adv-bad-proofs')
const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { channels: { toSelfDelay: 6 } } }, t)
await fundHub(btc, hub, 3_000_000)
const honest = await honestParties(btc, hub, dir, t)
let height = await tipHeight(btc)
const payerId = await Attacker.connect(hub, { height: () => height, limits: { toSelfDelay: 6 } })
const payeeId = await Attacker.connect(hub, { height: () => height })
t.teardown(() => { payerId.close(); payeeId.close() })
const payer = await payerId.fundedChannel(btc, 400_000)
const payee = await payeeId.hubFundedChannel(btc)
height = await tipHeight(btc)
const AMOUNT = 20_000_000
const OFFERED = amountToOffer(AMOUNT, { feeBaseMsat: payerId.policy.fee_base_msat, feePpm: payerId.policy.fee_proportional_millionths })
/** The hub's view of an attacker channel: [the attacker's balance, the hub's], in its latest commitment. */
async function atHub (ch: AttackerChannel): Promise<[number | null, number | null]> {
  const row = (await hubChannels(hub)).find(r => r.channel_id === ch.channelId)!
  return [row.remote_msat, row.local_msat]
}

/**
 * The payer pays the payee AMOUNT through the hub, one of the two identities forging one message on
 * the way. The hub must answer with `expect`; then the forger reconnects honestly and the payment
 * completes exactly once.
 */
async function forgedPayment (
  t: Test, forger: 'payer' | 'payee', tamper: Tamper & { readonly fired: boolean }, expect: RegExp, extra?: () => void,
): Promise<void> {
  const [id, ch] = forger === 'payer' ? [payerId, payer] : [payeeId, payee]
  await waitFor(() => payer.settled && payee.settled, 'both attacker channels settled')
  const before = await honest.view()
  const payerBefore = payer.balanceMsat
  const payeeBefore = payee.balanceMsat
  const inv = payeeId.invoice(AMOUNT, 'forged')
  ch.tamper = tamper
  const seen = ch.notices().length
  const offered = await payer.offer({ amountMsat: AMOUNT, paymentHash: inv.paymentHash, recipient: payeeId.nodeId })
  t.ok('id' in offered, 'the payer offers the HTLC')
  extra?.()
  await until(() => ch.notices().length > seen, 'the hub\'s answer', 20_000)
  t.ok(tamper.fired, 'the forgery was sent')
  t.match(ch.notices()[seen], expect, 'the hub answers with the reason')
  const code = await id.untilDisconnected()
  t.pass(`and disconnects the forger (close code ${code})`)
  ch.tamper = undefined
  await id.reconnect()
  if (forger === 'payer' && !payeeId.connected) await payeeId.reconnect()
  await waitFor(
    () => payer.settled && payee.settled && payee.incoming.some(h => h.paymentHash === inv.paymentHash),
    'the payment to complete after an honest reconnect',
  )
  t.equal(payee.balanceMsat - payeeBefore, AMOUNT, 'the payee received the amount exactly once')
  t.equal(payerBefore - payer.balanceMsat, OFFERED, 'the payer paid it once (amount + the hub\'s fee)')
  t.same(
    await atHub(payer), [payer.balanceMsat, payer.state.localCommit!.spec.toRemoteMsat],
    'the hub agrees with the payer\'s channel to the msat',
  )
  t.same(
    await atHub(payee), [payee.balanceMsat, payee.state.localCommit!.spec.toRemoteMsat],
    'the hub agrees with the payee\'s channel to the msat',
  )
  await honest.untouched(t, before, 'after the forgery')
}

type CS = Extract<PeerMessage, { type: 'commitment_signed' }>
const lastSent = <T extends PeerMessage['type']>(ch: AttackerChannel, type: T): Extract<PeerMessage, { type: T }> =>
  [...ch.sent].reverse().find(m => m.type === type) as Extract<PeerMessage, { type: T }>

t.test('recv commitment_signed (high-S signature) on own channel', async t => {
  await forgedPayment(
    t, 'payer', once('commitment_signed', m => ({ ...m, signature: highS(m.signature) })),
    /^warning: bad_signature: invalid signature for commitment/,
  )
})

t.test('recv commitment_signed (signature by another key) on own channel', async t => {
  await forgedPayment(
    t, 'payer', once('commitment_signed', (m, ch) => wrongKeySignatures(ch, m, 'commitment')),
    /^warning: bad_signature: invalid signature for commitment/,
  )
})

t.test('recv commitment_signed (the signature of the previous commitment, replayed) on own channel', async t => {
  const old = lastSent(payer, 'commitment_signed')
  await forgedPayment(
    t, 'payer', once('commitment_signed', m => ({ ...m, signature: old.signature })),
    /^warning: bad_signature: invalid signature for commitment/,
  )
})

t.test('recv commitment_signed (one HTLC signature missing) on own channel', async t => {
  await forgedPayment(
    t, 'payer', once('commitment_signed', (m: CS) => ({ ...m, htlc_signatures: m.htlc_signatures.slice(1) })),
    /^warning: wrong_htlc_signature_count: num_htlcs 0 ≠ 1/,
  )
})

t.test('recv commitment_signed (one HTLC signature too many) on own channel', async t => {
  await forgedPayment(
    t, 'payer', once('commitment_signed', (m: CS) => ({ ...m, htlc_signatures: [...m.htlc_signatures, m.htlc_signatures[0]!] })),
    /^warning: wrong_htlc_signature_count: num_htlcs 2 ≠ 1/,
  )
})

t.test('recv commitment_signed (high-S HTLC signature) on own channel', async t => {
  await forgedPayment(
    t, 'payer', once('commitment_signed', (m: CS) => ({ ...m, htlc_signatures: m.htlc_signatures.map(highS) })),
    /^warning: bad_signature: invalid signature for commitment/,
  )
})

t.test('recv commitment_signed (HTLC signature by another key) on own channel', async t => {
  await forgedPayment(
    t, 'payer', once('commitment_signed', (m, ch) => wrongKeySignatures(ch, m, 'htlc')),
    /^warning: bad_signature: invalid signature for commitment/,
  )
})

t.test('recv update_fulfill_htlc (wrong preimage) on own channel', async t => {
  await forgedPayment(
    t, 'payee', once('update_fulfill_htlc', m => ({ ...m, payment_preimage: random32Hex() })),
    /^warning: bad_preimage: preimage does not hash to payment_hash/,
  )
})

t.test('recv update_fulfill_htlc (the preimage of an earlier payment) on own channel', async t => {
  const earlier = [...payeeId.preimages.values()][0]!
  await forgedPayment(
    t, 'payee', once('update_fulfill_htlc', m => ({ ...m, payment_preimage: earlier })),
    /^warning: bad_preimage: preimage does not hash to payment_hash/,
  )
})

t.test('recv update_fulfill_htlc (an HTLC it offered itself) on own channel', async t => {
  // The payer "fulfils" its own HTLC right behind its commitment_signed: only the hub may remove it.
  await forgedPayment(t, 'payer', once('commitment_signed', m => [
    m, { type: 'update_fulfill_htlc', channel_id: m.channel_id, id: payer.state.nextLocalHtlcId - 1, payment_preimage: random32Hex() },
  ]), /^warning: unknown_htlc: no HTLC \d+ of ours in our current commitment/)
})

t.test('recv commitment_signed (replayed after the dance: nothing to sign) on own channel', async t => {
  await waitFor(() => payer.settled, 'settled')
  const seen = payer.notices().length
  payerId.send(lastSent(payer, 'commitment_signed'))
  await until(() => payer.notices().length > seen, 'the hub\'s answer')
  t.match(payer.notices()[seen], /^warning: empty_commitment: commitment_signed without any update/)
  await payerId.untilDisconnected()
  await payerId.reconnect()
  await waitFor(() => payer.settled, 'the channel reestablished')
  t.same(await atHub(payer), [payer.balanceMsat, payer.state.localCommit!.spec.toRemoteMsat], 'nothing changed at the hub')
})

t.test('recv revoke_and_ack (replayed after the dance: nothing to revoke) on own channel', async t => {
  await waitFor(() => payer.settled, 'settled')
  const seen = payer.notices().length
  payerId.send(lastSent(payer, 'revoke_and_ack'))
  await until(() => payer.notices().length > seen, 'the hub\'s answer')
  t.match(payer.notices()[seen], /^warning: unexpected_revocation: revoke_and_ack without an outstanding commitment_signed/)
  await payerId.untilDisconnected()
  await payerId.reconnect()
  await waitFor(() => payer.settled, 'the channel reestablished')
  t.same(await atHub(payer), [payer.balanceMsat, payer.state.localCommit!.spec.toRemoteMsat], 'nothing changed at the hub')
  await honest.pays(t, 'after the replays')
})

/**
 * A wrong per-commitment secret while the hub waits for one: the hub fails the channel and closes
 * with its latest commitment. On-chain, the hub's output is exactly its balance and reaches its wallet
 * (less the sweep fee); the attacker's output is at most its own balance; nothing else of the hub's moves.
 */
async function wrongSecret (t: Test, secretFor: (ch: AttackerChannel) => string): Promise<void> {
  const before = await honest.view()
  const ch = await payerId.fundedChannel(btc, 200_000)
  height = await tipHeight(btc)
  // One payment first, so that a replayed secret (of commitment 0) exists.
  const first = payeeId.invoice(10_000_000)
  await ch.offer({ amountMsat: 10_000_000, paymentHash: first.paymentHash, recipient: payeeId.nodeId })
  await waitFor(() => ch.settled && payee.settled && payee.incoming.some(h => h.paymentHash === first.paymentHash), 'the first payment')
  const inv = payeeId.invoice(AMOUNT)
  ch.tamper = once('revoke_and_ack', m => ({ ...m, per_commitment_secret: secretFor(ch) }))
  const seen = ch.notices().length
  await ch.offer({ amountMsat: AMOUNT, paymentHash: inv.paymentHash, recipient: payeeId.nodeId })
  await until(() => ch.notices().length > seen, 'the hub\'s answer', 20_000)
  t.match(
    ch.notices()[seen], /^error: bad_revocation_secret: per_commitment_secret does not match the point of commitment/,
    'the hub fails the channel: error bad_revocation_secret',
  )
  await waitFor(
    async () => (await hubChannels(hub)).find(r => r.channel_id === ch.channelId)?.phase === 'failed', 'the hub to fail the channel',
  )
  t.equal(
    (await hubChannels(hub)).find(r => r.channel_id === ch.channelId)!.htlcs, 1,
    'the hub\'s latest commitment holds the HTLC (never forwarded: its revocation never came)',
  )
  t.notOk(payee.incoming.some(h => h.paymentHash === inv.paymentHash), 'the payee was never offered it')
  await hubClosesWithLatest(t, btc, hub, ch)
  await honest.untouched(t, before, 'after the failed channel')
  await honest.pays(t, 'after the failed channel')
  t.equal((await admin(hub, '/info')).status, 200, 'the hub stays up')
}

t.test('recv revoke_and_ack (wrong per_commitment_secret) on own channel: the hub fails it and closes with its latest commitment', async t => {
  await wrongSecret(t, () => random32Hex())
})

t.test('recv revoke_and_ack (an old per_commitment_secret, replayed) on own channel: the hub fails it and closes with its latest commitment', async t => {
  await wrongSecret(t, ch => ch.signer.perCommitmentSecret(0))
})
