// Force close in the middle of a payment, end to end (real btcd, the hub as a child process, SDK
// clients): a party that force-closes in the middle of a payment never loses its balance to a
// penalty. The payment dance is stopped at every message, in both directions, on both legs
// (platform ↔ hub: the client offers the HTLC; hub ↔ creator: the hub offers it), with the message
// just sent (held before the other side) or just received; there the client force-closes
// (HubClient.forceClose) or the hub operator does
// (admin POST /channels/force-close). Then everything in flight is delivered, as a network would,
// and blocks are mined while the other side's real chain monitor watches.
//
// For every case: the funding output is spent by a commitment that pays each party exactly its
// balance in the latest commitment of the party that broadcast it (the closer, or the peer that
// failed the channel on the closer's error), and no transaction spends any of its outputs, or of its
// second-stage outputs, through a revocation path: any penalty fails the test.
//
// The dance is not hard-coded: a clean payment is traced first, and each of its messages is a point.
// Cases run in rounds that share the btcd and the hub; each case has its own channel (a force close
// uses it up); a round's blocks are mined once for all of its cases.
import t, { type Test } from 'tap'
import path from 'node:path'
import { useBtcd, type Btcd } from '../../helpers/btcd.ts'
import { startClient, startHub, tempDir, waitFor, type CutPlan, type HubProcess } from '../../helpers/hub.ts'
import type { ChainTx } from '../../../host/chain/backend.ts'
import type { HubClient } from '../../../client-sdk/index.ts'
import type { ChannelState } from '../../../protocol/channel/index.ts'
import { amountToOffer } from '../../../protocol/forwarding.ts'
import { admin } from './helpers.ts'
import { freezeSwitch, type FreezeSwitch } from './freeze.ts'

const HUB_CONFIG = { channels: { toSelfDelay: 6, finalityDepth: 3, fundingSat: 300_000 } }
const PLATFORM_CAPACITY_SAT = 300_000
const AMOUNT_MSAT = 20_000_000
/** client-sdk/channels.ts DUST_LIMIT_SAT and the hub's default channels.dustLimitSat. */
const CLIENT_DUST_SAT = 354
const HUB_DUST_SAT = 546
/** Cases whose clients run at once (each has a HubClient with its own store and monitor). */
const ROUND = 10

type Leg = 'platform' | 'creator'
interface Case { leg: Leg; plan: CutPlan; closer: 'client' | 'operator'; label: string }

interface HubChannelView { channel_id: string; phase: string; is_funder: boolean; local_msat: number; remote_msat: number; htlcs: number }

/** The client's channel state (the SDK keeps it in its ChannelSet). */
function clientState (c: HubClient): ChannelState {
  const set = (c as unknown as { channelSet: { channels (): Array<{ driver: { state: ChannelState } }> } }).channelSet
  return set.channels()[0]!.driver.state
}

async function hubChannel (hub: HubProcess, id: string): Promise<HubChannelView | undefined> {
  const r = await admin(hub, '/channels')
  return (r.body as HubChannelView[]).find(c => c.channel_id === id)
}

/** BOLT #3: the outputs of a commitment (holder's view), as sorted values: the funder pays the fee
 *  (724 + 172 per HTLC output weight), outputs below the holder's dust limit are trimmed. */
function commitmentOutputs (o: {
  toLocalMsat: number; toRemoteMsat: number; htlcMsat: number[]; holderIsFunder: boolean; feeratePerKw: number; dustSat: number
}): number[] {
  const htlcs = o.htlcMsat.map(m => Math.floor(m / 1000)).filter(v => v >= o.dustSat)
  const fee = Math.floor(o.feeratePerKw * (724 + 172 * htlcs.length) / 1000)
  const local = Math.floor(o.toLocalMsat / 1000) - (o.holderIsFunder ? fee : 0)
  const remote = Math.floor(o.toRemoteMsat / 1000) - (o.holderIsFunder ? 0 : fee)
  return [local, remote, ...htlcs].filter(v => v >= o.dustSat).sort((a, b) => a - b)
}

/** A spend through a revocation path (BOLT #3): to_local `<sig> 1 <script>`, an HTLC output
 *  `<sig> <revocationpubkey> <script>`. Every other spend of a commitment's outputs has a different
 *  shape (delayed: empty middle item; preimage: 32 bytes; HTLC txs: 5 items; P2WPKH: 2 items). */
const isPenaltyInput = (w: string[]): boolean => w.length === 3 && (w[1] === '01' || /^0[23][0-9a-f]{64}$/.test(w[1]!))

async function blocksFrom (btc: Btcd, from: number): Promise<Array<{ height: number; txs: ChainTx[] }>> {
  const tip = await btc.chain.tip()
  if (!tip.ok) throw new Error(tip.error.detail)
  const out: Array<{ height: number; txs: ChainTx[] }> = []
  for (let h = from; h <= tip.value.height; h++) {
    const b = await btc.chain.getBlock(h)
    if (b.ok && b.value !== null) out.push({ height: h, txs: b.value.txs })
  }
  return out
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const chunks = <T>(xs: T[], n: number): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n))

/** A coin for each platform's channel and `hubCoins` coins for the hub's; one block confirms them. */
async function fundWallets (btc: Btcd, hub: HubProcess, platforms: HubClient[], hubCoins: number): Promise<void> {
  const coins: Array<{ p: HubClient; f: { txid: string } }> = []
  // one at a time: the faucet chains its change
  for (const p of platforms) coins.push({ p, f: await btc.faucet(p.newAddress(), PLATFORM_CAPACITY_SAT + 100_000) })
  const hubAddress = (await admin(hub, '/wallet/address', {})).body.address as string
  for (let i = 0; i < hubCoins; i++) await btc.faucet(hubAddress, HUB_CONFIG.channels.fundingSat + 50_000)
  await btc.mine(1)
  for (const { p, f } of coins) await waitFor(() => p.wallet.utxos().some(u => u.txid === f.txid), 'a faucet coin in a platform wallet')
  await waitFor(
    async () => (await admin(hub, '/info')).body.wallet.spendable >= hubCoins * HUB_CONFIG.channels.fundingSat, 'the hub wallet coins',
  )
}

/** Opens every platform's channel and every creator's hub-funded channel; one block confirms them all. */
async function openAll (btc: Btcd, platforms: HubClient[], creators: HubClient[]): Promise<void> {
  const opening = [...platforms.map(p => p.openChannel({ capacitySat: PLATFORM_CAPACITY_SAT })), ...creators.map(c => c.requestChannel())]
  const all = [...platforms, ...creators]
  await waitFor(
    () => all.every(c => c.channels().some(ch => ch.phase === 'awaiting_funding_depth' && ch.fundingTxid !== null)),
    'every funding broadcast',
  )
  for (const c of all) {
    const txid = c.channels()[0]!.fundingTxid!
    await waitFor(
      async () => { const r = await btc.chain.getRawTransaction(txid); return r.ok && r.value !== null }, `funding ${txid} in the mempool`,
    )
  }
  await btc.mine(1)
  await Promise.all(opening)
}

interface Running {
  c: Case
  sw: FreezeSwitch
  client: HubClient
  channelId: string
  fundingTxid: string
  htlcMsat: number
  failedBoth: boolean
  /** Expected commitment outputs: the client's latest commitment and the hub's. */
  expect: { client: number[]; hub: number[] } | undefined
  closeResult: string
}

t.test('force close at every step of the payment dance, both legs, by the SDK and by the operator: no penalty, exact commitment amounts', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-fc-dance')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: HUB_CONFIG }, t)
  let clients = 0
  const newClient = (role: 'platform' | 'creator', sw?: FreezeSwitch): Promise<HubClient> =>
    startClient(
      { hub, btc, dataDir: path.join(dir, `${role}-${clients++}`), role, ...(sw !== undefined ? { socketFactory: sw.factory } : {}) }, t,
    )

  // ── The dance, traced once on each leg. ──
  const pTrace = freezeSwitch()
  const cTrace = freezeSwitch()
  const tracer = await newClient('platform', pTrace)
  const traceCreator = await newClient('creator', cTrace)
  await fundWallets(btc, hub, [tracer], 1)
  await openAll(btc, [tracer], [traceCreator])
  pTrace.arm(); cTrace.arm()
  const traced = await tracer.pay((await traceCreator.createInvoice({ amountMsat: AMOUNT_MSAT })).invoice)
  t.ok(traced.ok, 'a clean payment to trace the dance')
  await waitFor(() => tracer.channels()[0]!.settled && traceCreator.channels()[0]!.settled, 'the traced payment settled')
  const traces: Record<Leg,
  Array<{ direction: 'in' | 'out'; type: string }>> = { platform: pTrace.trace.slice(), creator: cTrace.trace.slice() }
  t.comment(`platform leg: ${traces.platform.map(m => `${m.direction}:${m.type}`).join(' ')}`)
  t.comment(`creator leg: ${traces.creator.map(m => `${m.direction}:${m.type}`).join(' ')}`)
  await tracer.stop(); await traceCreator.stop()

  const cases: Case[] = []
  for (const leg of ['platform', 'creator'] as const) {
    for (const direction of ['out', 'in'] as const) {
      for (const [index, m] of traces[leg].filter(x => x.direction === direction).entries()) {
        for (const timing of ['before', 'after'] as const) {
          for (const closer of ['client', 'operator'] as const) {
            const point = `${leg === 'platform' ? 'platform' : 'creator'} ${direction === 'out' ? 'sent' : 'was sent'} ${m.type} ` +
              `#${index}${timing === 'before' ? ' (not yet received)' : ' (received)'}`
            cases.push({
              leg, plan: { direction, index, timing }, closer,
              label: `${point}, the ${closer === 'client' ? 'client (SDK)' : 'hub operator'} force-closes`,
            })
          }
        }
      }
    }
  }
  t.ok(cases.length >= 64, `${cases.length} cases`)
  for (const round of chunks(cases, ROUND)) await runRound(t, btc, hub, round, newClient)
})

async function runRound (
  t: Test, btc: Btcd, hub: HubProcess, round: Case[], newClient: (role: 'platform' | 'creator', sw?: FreezeSwitch) => Promise<HubClient>,
): Promise<void> {
  const needPayee = round.some(c => c.leg === 'platform')
  const needPayer = round.some(c => c.leg === 'creator')
  const payee = needPayee ? await newClient('creator') : undefined
  const payer = needPayer ? await newClient('platform') : undefined
  const clients = await Promise.all(round.map(async c => {
    const sw = freezeSwitch(); return { c, sw, client: await newClient(c.leg, sw) }
  }))
  const platforms = [...clients.filter(x => x.c.leg === 'platform').map(x => x.client), ...(payer !== undefined ? [payer] : [])]
  const creators = [...clients.filter(x => x.c.leg === 'creator').map(x => x.client), ...(payee !== undefined ? [payee] : [])]
  await fundWallets(btc, hub, platforms, creators.length)
  await openAll(btc, platforms, creators)

  // ── Pay, stop at the planned message, force-close there, then let the network deliver. ──
  const runs: Running[] = await Promise.all(clients.map(async ({ c, sw, client }): Promise<Running> => {
    const info = client.channels()[0]!
    const from = c.leg === 'platform' ? client : payer!
    const to = c.leg === 'platform' ? payee! : client
    const policy = from.hubPolicyInfo!
    const htlcMsat = c.leg === 'platform' ? amountToOffer(AMOUNT_MSAT, policy) : AMOUNT_MSAT
    const inv = await to.createInvoice({ amountMsat: AMOUNT_MSAT, memo: c.label.slice(0, 60) })
    sw.arm(c.plan)
    void from.pay(inv.invoice)
    await waitFor(() => sw.frozen, `${c.label}: the dance reaching its point`)
    let closeResult: string
    if (c.closer === 'client') {
      closeResult = JSON.stringify(await client.forceClose(info.channelId))
    } else {
      const r = await admin(hub, '/channels/force-close', { channel_id: info.channelId })
      closeResult = `${r.status} ${JSON.stringify(r.body)}`
    }
    sw.release()
    return {
      c, sw, client, channelId: info.channelId, fundingTxid: info.fundingTxid!, htlcMsat, failedBoth: false, expect: undefined, closeResult,
    }
  }))

  // Both sides fail the channel (the closer, and its peer on the closer's error): then each side's
  // latest commitment is final; either may be the one that confirms.
  await Promise.all(runs.map(async r => {
    try {
      await waitFor(
        async () => clientState(r.client).phase === 'failed' && (await hubChannel(hub, r.channelId))?.phase === 'failed',
        `${r.c.label}: both sides failed`, 30_000,
      )
      r.failedBoth = true
    } catch { r.failedBoth = false }
  }))
  for (const r of runs) {
    const s = clientState(r.client)
    const h = await hubChannel(hub, r.channelId)
    const spec = s.localCommit!.spec
    r.expect = {
      client: commitmentOutputs({
        toLocalMsat: spec.toLocalMsat, toRemoteMsat: spec.toRemoteMsat, htlcMsat: spec.htlcs.map(x => x.amountMsat),
        holderIsFunder: s.setup.isFunder, feeratePerKw: spec.feeratePerKw, dustSat: CLIENT_DUST_SAT,
      }),
      hub: h === undefined ? [] : commitmentOutputs({
        toLocalMsat: h.local_msat, toRemoteMsat: h.remote_msat, htlcMsat: Array.from({ length: h.htlcs }, () => r.htlcMsat),
        holderIsFunder: h.is_funder, feeratePerKw: spec.feeratePerKw, dustSat: HUB_DUST_SAT,
      }),
    }
  }

  // ── The chain: the commitments confirm; blocks follow while both sides' monitors watch. ──
  const tip = await btc.chain.tip()
  const from = tip.ok ? tip.value.height + 1 : 0
  await btc.mine(1)
  for (let i = 0; i < 4; i++) {
    // The hub's monitor runs in another process: give it (and the clients' monitors) time to answer
    // the last block — a penalty would be broadcast now — before the next one.
    await sleep(1_500)
    await btc.mine(1)
  }
  const blocks = await blocksFrom(btc, from)
  const spenders = new Map<string, ChainTx>()
  for (const b of blocks) for (const tx of b.txs) for (const i of tx.inputs) spenders.set(`${i.txid}:${i.vout}`, tx)

  for (const r of runs) {
    t.test(r.c.label, async t => {
      t.ok(
        r.closeResult.startsWith('200') || r.closeResult === JSON.stringify([r.channelId]), `the force close was done (${r.closeResult})`,
      )
      t.ok(r.failedBoth, 'both sides failed the channel (the peer on the closer\'s error)')
      const commit = spenders.get(`${r.fundingTxid}:0`) ?? [...spenders.entries()].find(([k]) => k.startsWith(`${r.fundingTxid}:`))?.[1]
      t.ok(commit !== undefined, 'a commitment spent the funding output')
      if (commit === undefined) return
      const outs = commit.outputs.map(o => o.value as number).sort((a, b) => a - b)
      const which = JSON.stringify(outs) === JSON.stringify(r.expect!.client)
        ? 'client'
        : JSON.stringify(outs) === JSON.stringify(r.expect!.hub) ? 'hub' : undefined
      t.ok(which !== undefined, `the commitment pays each party its latest balance (${which ?? 'neither'}'s commitment: ` +
        `${outs.join(', ')}; client ${r.expect!.client.join(', ')}; hub ${r.expect!.hub.join(', ')})`)
      // Its outputs, and the outputs of what spends them (second-stage HTLC transactions).
      const family = new Set([commit.txid])
      const penalties: string[] = []
      for (const b of blocks) {
        for (const tx of b.txs) {
          const spends = tx.inputs.filter(i => family.has(i.txid))
          if (spends.length === 0) continue
          family.add(tx.txid)
          if (spends.some(i => isPenaltyInput(i.witness))) penalties.push(tx.txid)
        }
      }
      t.same(penalties, [], 'no penalty: nothing spends the commitment (or its HTLC transactions) through a revocation path')
    })
  }
  for (const r of runs) await r.client.stop()
  await payee?.stop()
  await payer?.stop()
}
