// Fake funding over the hub's real WebSocket protocol, with a real btcd: an attacker opens a channel to
// the hub and names, as its funding, an output that is not what it claims — a confirmed coinbase, an
// output paying another script, or the right 2-of-2 script holding less than funding_satoshis. It then
// tells its own channel machine the funding is fine (so it sends channel_ready) and tries to pay its
// second identity, an honest SDK payee with a hub-funded channel: the theft this would be if the hub
// trusted funding_created. The hub must look the output up, abandon the channel, never send
// channel_ready, forward nothing; its wallet and its channel to the payee stay exactly as they were.
import t from 'tap'
import path from 'node:path'
import { amountToOffer } from '../../protocol/forwarding.ts'
import { hexToBytes, type Txid } from '../../protocol/types.ts'
import type { Msat } from '../../protocol/types.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { Attacker, connectedLink, until, type FundingChoice } from './fixtures/attacker.ts'
import { hubChannels, hubWalletTotal } from './fixtures/hub-view.ts'

const btc = await useBtcd(t)
const CAPACITY = 500_000
const STEAL_MSAT = 300_000_000

const dir = tempDir('adv-fake-funding')
const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
await fundHub(btc, hub, 3_000_000)
// The attacker's second identity: an honest SDK payee with a channel the hub funded.
const accomplice = await startClient({ hub, btc, dataDir: path.join(dir, 'accomplice'), role: 'creator' }, t)
await requestHubChannel(btc, accomplice)
const received: string[] = []
accomplice.on('payment_received', e => { received.push(e.paymentHash) })

const coinbase = async (): Promise<{ txid: Txid; outputIndex: number }> => {
  const tip = await btc.chain.tip()
  if (!tip.ok) throw new Error(tip.error.detail)
  const b = await btc.chain.getBlock(tip.value.height - 1)
  if (!b.ok || b.value === null) throw new Error('no block')
  return { txid: b.value.txs[0]!.txid, outputIndex: 0 }
}

const attacks: Array<[string, FundingChoice]> = [
  ['a confirmed coinbase', async () => await coinbase()],
  ['an output paying another script', async ({ capacitySat }) => {
    const f = await btc.faucet(hexToBytes('0014' + '77'.repeat(20)), capacitySat)
    return { txid: f.txid, outputIndex: f.vout }
  }],
  ['the 2-of-2 script holding a tenth of funding_satoshis', async ({ scriptPubkey, capacitySat }) => {
    const f = await btc.faucet(scriptPubkey, capacitySat / 10)
    return { txid: f.txid, outputIndex: f.vout }
  }],
]

for (const [what, funding] of attacks) {
  t.test(`fake funding (${what}): never ready, no HTLC forwarded, the hub's coins and the payee's balance untouched`, async t => {
    const walletBefore = await hubWalletTotal(hub)
    const payeeChannelBefore = (await hubChannels(hub)).find(c => c.peer === accomplice.nodeId)!
    const payeeBalanceBefore = accomplice.balances().channelMsat

    const link = await connectedLink(hub.url, hub.hubId)
    const attacker = new Attacker(link, { chainHash: link.chainHash })
    t.teardown(() => { attacker.close() })
    const ch = await attacker.open({ capacitySat: CAPACITY, funding })
    t.equal(ch.refusal, undefined, 'funding_created is answered (the hub signs commitment 0, which spends nothing real)')
    await ch.lieReady()
    await btc.mine(1)

    // Either the hub sees through it, or the attacker's channel becomes usable and it steals.
    await until(() => ch.refusal !== undefined || ch.state.phase === 'normal', 'the hub to decide', 60_000)
    const inv = await accomplice.createInvoice({ amountMsat: STEAL_MSAT, memo: 'stolen' })
    const tip = await btc.chain.tip()
    const height = tip.ok ? tip.value.height : 0
    const offer = {
      amountMsat: amountToOffer(STEAL_MSAT, { feeBaseMsat: link.policy.fee_base_msat, feePpm: link.policy.fee_proportional_millionths }),
      paymentHash: inv.paymentHash, cltvExpiry: height + 40 + link.policy.cltv_expiry_delta, recipient: accomplice.nodeId,
    }
    if (ch.state.phase === 'normal') {
      await ch.pay(offer)
      await waitFor(() => received.includes(inv.paymentHash), 'the theft to reach the payee', 20_000).catch(() => {})
    } else {
      // The hub refused the channel: an HTLC sent anyway is refused too.
      attacker.send({
        type: 'update_add_htlc', channel_id: ch.channelId, id: 0, amount_msat: offer.amountMsat as Msat, payment_hash: offer.paymentHash,
        cltv_expiry: offer.cltvExpiry as never, recipient: offer.recipient,
      })
      await until(
        () => attacker.other.some(m => m.type === 'warning' || m.type === 'error') || ch.received.length > 2, 'an answer to the HTLC',
      )
    }

    t.match(ch.refusal, /^funding_output_mismatch/, 'the hub abandoned the channel: its funding output is not what was agreed')
    t.notOk(ch.received.some(m => m.type === 'channel_ready'), 'the hub never sent channel_ready')
    t.notOk(
      ch.received.some(m => m.type === 'update_add_htlc' || m.type === 'revoke_and_ack' || m.type === 'commitment_signed'),
      'and signed nothing after funding_signed',
    )
    t.notOk(received.includes(inv.paymentHash), 'the payee (the attacker\'s second identity) received nothing')
    t.equal(accomplice.balances().channelMsat, payeeBalanceBefore, "the payee's channel balance is unchanged")
    const payeeChannelAfter = (await hubChannels(hub)).find(c => c.peer === accomplice.nodeId)!
    t.equal(
      payeeChannelAfter.local_msat, payeeChannelBefore.local_msat, "the hub's side of its channel to the payee is unchanged, to the msat",
    )
    t.equal(payeeChannelAfter.htlcs, 0, 'no HTLC on it')
    t.equal(await hubWalletTotal(hub), walletBefore, "the hub's wallet is unchanged")
    const forgotten = await waitFor(
      async () => !(await hubChannels(hub)).some(c => c.channel_id === ch.channelId), 'the hub to forget the channel', 30_000,
    ).then(() => true, () => false)
    t.ok(forgotten, 'the hub forgot the channel (no record, no more lookups)')
    t.equal(hub.lines.filter(l => l.event === 'fatal').length, 0, 'the hub stays up')
  })
}
