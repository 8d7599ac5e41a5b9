// A creator that broadcasts a revoked commitment during a payout batch (scenario 24, docs/DESIGN.md
// "Batched settlement"), on each funding a batch leaves pending:
//   (a) of its OLD funding while the batch is broadcast and unconfirmed: the commitment is mined
//       instead (a block holding it), the batch can never confirm; the hub's penalty takes the whole
//       channel, every other channel drops the batch's candidate once the spend is final, the batch is
//       abandoned saying why, and the next batch pays the honest creators exactly;
//   (b) of its NEW funding (the batch's candidate, revoked by a payment made after the batch was
//       signed), once the batch confirms and before splice_locked: the penalty takes it from the
//       candidate's output, and the batch still pays the others.
// Real btcd, the hub process, SDK clients; the thief's commitments are its own, as its SDK stored them.
import t, { type Test } from 'tap'
import type { HubClient } from '../../../client-sdk/index.ts'
import { candidateSetup, candidateSpec, type ChannelSigner, type ChannelState } from '../../../protocol/channel/index.ts'
import type { ChannelKeys } from '../../../protocol/keys/channel.ts'
import { buildLocal, monitorKeys } from '../../../protocol/monitor/index.ts'
import { txHex } from '../../../protocol/tx/index.ts'
import { addressScript } from '../../../host/wallet/address.ts'
import { useBtcd, type Btcd } from '../../helpers/btcd.ts'
import { waitFor, type HubProcess } from '../../helpers/hub.ts'
import { admin, findSpend, hubWalletTotal } from '../monitor/helpers.ts'
import { FINALITY_DEPTH, KEEP_SAT, setting, untilStage } from './fixture.ts'

/** The hub's (and the SDK's) default finality depth: a spend elsewhere of a batch input is final there. */
const CHANNEL_FINALITY = 6

interface Internals { channelSet: { channels (): Array<{ driver: { state: ChannelState }; keys: ChannelKeys; signer: ChannelSigner }> } }

/** The creator's latest commitment as its SDK holds it, signed, on the channel's funding or on
 *  candidate `candidate`: what a thief broadcasts once a payment has revoked it. */
function heldCommitment (client: HubClient, candidate?: string): { txid: string; hex: string; number: number } {
  const ch = (client as unknown as Internals).channelSet.channels()[0]!
  const s = ch.driver.state
  const local = s.localCommit!
  const c = s.splice?.candidates.find(x => x.txid === candidate)
  if (candidate !== undefined && c === undefined) throw new Error(`no candidate ${candidate}`)
  const built = buildLocal(c !== undefined ? candidateSetup(s.setup, c) : s.setup, monitorKeys(ch.keys), {
    number: local.index, perCommitmentPoint: ch.signer.perCommitmentPoint(local.index),
    spec: c !== undefined ? candidateSpec(local.spec, c) : local.spec,
    signature: c !== undefined ? c.localSigs.signature : local.signature,
    htlcSignatures: c !== undefined ? c.localSigs.htlcSignatures : local.htlcSignatures,
  })
  return { txid: built.commitment.txid, hex: txHex(built.signedTx), number: local.index }
}

async function mineExactly (btc: Btcd, hexes: string[]): Promise<void> {
  const r = await btc.chain.submitBlock(hexes)
  if (!r.ok) throw new Error(`block refused: ${JSON.stringify(r.error)}`)
  const s = await btc.chain.syncFollowers()
  if (!s.ok) throw new Error(s.error.detail)
}

/** Pays `to` from the platform, settled on both sides. */
async function pay (t: Test, platform: HubClient, to: HubClient, amountMsat: number): Promise<void> {
  const r = await platform.pay((await to.createInvoice({ amountMsat })).invoice)
  t.ok(r.ok, `paid ${amountMsat} msat${r.ok ? '' : `: ${r.reason} ${r.detail}`}`)
  await waitFor(() => to.channels()[0]!.settled && platform.channels()[0]!.settled, 'settled')
}

/** The revoked commitment `commit` confirmed: the hub's monitor spends every output of it (its penalty,
 *  and its own output), nothing is left to the thief, and the hub's wallet gains exactly what those
 *  transactions pay. `capacitySat` is the funding the commitment spends. */
async function checkPenalty (
  t: Test, btc: Btcd, hub: HubProcess, commitTxid: string, fromHeight: number, hubBefore: number, capacitySat: number,
): Promise<void> {
  const commit = await btc.chain.getRawTransaction(commitTxid)
  if (!commit.ok || commit.value === null) throw new Error('the revoked commitment is not on chain')
  const outs = commit.value.tx.outputs
  const value = outs.reduce((n, o) => n + (o.value as number), 0)
  t.ok(capacitySat - value > 0 && capacitySat - value < 5_000, `the commitment holds the channel less its fee (${capacitySat - value})`)
  // Each output's spender: the hub's penalty (the thief's to_local), its claim of its own output.
  const spenders = new Map<string, number>()
  const spent = new Set<number>()
  for (let i = 0; i <= 20 && spent.size < outs.length; i++) {
    if (i > 0) { await new Promise(resolve => setTimeout(resolve, 300)); await btc.mine(1) }
    for (const vout of outs.keys()) {
      if (spent.has(vout)) continue
      const found = await findSpend(btc, commitTxid, vout, fromHeight)
      if (found === undefined) continue
      spent.add(vout)
      spenders.set(found.tx.txid, found.tx.outputs.reduce((n, o) => n + (o.value as number), 0))
    }
  }
  t.equal(spent.size, outs.length, 'every output of the revoked commitment is spent, the thief\'s by the penalty')
  const paid = [...spenders.values()].reduce((n, v) => n + v, 0)
  t.ok(value - paid > 0 && value - paid < 5_000, `the hub's claims pay it the whole commitment less their fees (${value - paid})`)
  await btc.mine(1)
  await waitFor(async () => await hubWalletTotal(hub) === hubBefore + paid, 'the hub wallet holding the penalty', 60_000)
  t.equal(await hubWalletTotal(hub), hubBefore + paid, 'the hub\'s wallet gained exactly what its claims pay')
}

t.test('e2e: a creator broadcasts a revoked commitment during a batch, of the old funding then of the new: penalised, others paid', async t => {
  const btc = await useBtcd(t)
  const s = await setting(btc, t, { name: 'e2e-settle-revoked', creators: 4 })
  const { hub, platform, creators } = s
  for (const c of creators) await c.client.setPayoutPolicy({
    address: c.address, thresholdSat: 20_000, intervalBlocks: 1, keepSat: KEEP_SAT,
  })
  const [thiefA, thiefB] = [creators[0]!, creators[1]!]
  const honest = creators.slice(2)
  const tipHeight = async (): Promise<number> => {
    const r = await btc.chain.tip(); if (!r.ok) throw new Error(r.error.detail); return r.value.height
  }

  // ── (a) the old funding's revoked commitment, mined while the batch is in the mempool ──
  const oldA = heldCommitment(thiefA.client)
  await pay(t, platform, thiefA.client, 7_000_000)
  const capacityA = thiefA.client.channels()[0]!.capacitySat
  const run1 = await admin(hub, '/settlement/run', {})
  t.equal(run1.body.started, true, 'settle now starts a batch')
  const id1 = run1.body.batch.id as number
  const b1 = await untilStage(hub, id1, 'broadcast')
  t.equal(b1.channels.length, 4, 'every creator in the batch')
  const hubBefore = await hubWalletTotal(hub)
  const from = await tipHeight() + 1
  await mineExactly(btc, [oldA.hex])
  const gone = await btc.chain.getRawTransaction(b1.txid)
  t.ok(gone.ok && gone.value === null, 'the batch left the mempool: its input is spent by the revoked commitment')
  await checkPenalty(t, btc, hub, oldA.txid, from, hubBefore, capacityA)

  // Every other channel drops the batch's candidate once the spend is final; the batch is abandoned.
  await btc.mine(CHANNEL_FINALITY)
  const abandoned = await untilStage(hub, id1, 'abandoned', 120_000)
  t.match(abandoned.reason, /spent elsewhere/, `the batch is abandoned, saying why: ${abandoned.reason}`)
  for (const c of [thiefB, ...honest]) {
    let sp: { txid: string; channel_id: string; dropped?: string } | undefined
    await waitFor(async () => {
      sp = ((await admin(hub, '/splices')).body as Array<typeof sp>).find(
        x => x !== undefined && x.txid === b1.txid && x.channel_id === c.channelId
      )
      return sp?.dropped !== undefined
    }, 'the hub dropping the candidate', 60_000)
    t.match(
      sp?.dropped, new RegExp(`spent by ${oldA.txid}`), `channel ${c.channelId.slice(0, 8)} dropped the batch: A's commitment spent it`,
    )
    await waitFor(
      () => ((c.client as unknown as Internals).channelSet.channels()[0]!.driver.state.splice?.candidates.length ?? 0) === 0,
      'the creator dropped the candidate too', 60_000,
    )
  }

  // ── the batch rebuilt without A; (b) B's revoked commitment of the batch's candidate ──
  const before = new Map(creators.map(c => [c.channelId, c.client.channels()[0]!.localMsat]))
  const run2 = await admin(hub, '/settlement/run', {})
  t.equal(run2.body.started, true, `a new batch (${JSON.stringify(run2.body).slice(0, 200)})`)
  const id2 = run2.body.batch.id as number
  const b2 = await untilStage(hub, id2, 'broadcast')
  t.same([...b2.channels].sort(), [thiefB, ...honest].map(c => c.channelId).sort(), 'every channel but A\'s')
  await waitFor(
    () => (
      thiefB.client as unknown as Internals
    ).channelSet.channels()[0]!.driver.state.splice?.candidates.some(c => c.txid === b2.txid) === true,
    'B holds the candidate',
  )
  const newB = heldCommitment(thiefB.client, b2.txid)
  await pay(t, platform, thiefB.client, 9_000_000)
  const payoutB = b2.payouts.find((p: any) => p.channel_id === thiefB.channelId)
  const capacityB = thiefB.client.channels()[0]!.capacitySat - payoutB.payout_sat - payoutB.fee_sat
  await btc.mine(1)
  const confirmedOnce = await btc.chain.getRawTransaction(b2.txid)
  t.ok(confirmedOnce.ok && confirmedOnce.value?.confirmations === 1, 'the batch confirmed')
  const hubBeforeB = await hubWalletTotal(hub)
  const fromB = await tipHeight() + 1
  await mineExactly(btc, [newB.hex])
  await checkPenalty(t, btc, hub, newB.txid, fromB, hubBeforeB, capacityB)

  // The batch is done for the honest creators: paid exactly, once.
  await btc.mine(FINALITY_DEPTH)
  const done = await untilStage(hub, id2, 'confirmed')
  for (const c of honest) {
    const p = done.payouts.find((x: any) => x.channel_id === c.channelId)
    const script = (addressScript(c.address) as { ok: true; value: string }).value
    t.equal(p.payout_sat + p.fee_sat, Math.floor(before.get(c.channelId)! / 1000) - KEEP_SAT, 'its balance above what it keeps')
    await waitFor(() => c.client.wallet.utxos().some(u => u.txid === b2.txid), 'the creator\'s wallet sees its payout')
    t.same(
      c.client.wallet.utxos().filter(u => u.script === script).map(u => [u.txid, u.value]), [[b2.txid, p.payout_sat]],
      'an honest creator is paid once, exactly',
    )
  }
})
