// The accounting export has a row for a force close on either side (DESIGN.md "Accounting"), real
// everything: a btcd regtest node, the hub as a child process, a platform and a creator as SDK clients.
// After payments the platform closes its channel alone (HubClient.forceClose), then the hub operator
// closes the creator's (admin POST /channels/force-close). Each account's own export and the hub's
// export of it have one close_force row naming the channel: its whole balance left it, onchain_sat is
// what the commitment pays the account (the commitment fee taken from the funder's), fee_msat the rest;
// the rows sum to the balance change to the msat, and the commitment that confirms has that output.
//
// Then a force close with an HTLC in flight each way: the platform pays a treasury that is offline (the
// hub holds the HTLC, which times out on-chain) and is paid by the creator while the hub's messages
// after its revoke_and_ack are dropped (the platform knows the preimage, its commitment still holds the
// HTLC: it claims it on-chain). Each export has an htlc_onchain row for both, the sums stay exact, and
// the platform's sweep rows' fees are what its wallet did not receive of the outputs, to the satoshi.
import path from 'node:path'
import t from 'tap'
import type { AccountingRow } from '../../protocol/accounting/rows.ts'
import type { HubClient } from '../../client-sdk/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import {
  fundHub, openFundedChannel, requestHubChannel, startClient, startHub, startHubPlatformCreator, tempDir, waitFor, type HubProcess,
} from '../helpers/hub.ts'
import { hookedSocketFactory } from '../helpers/socket-hook.ts'
import { admin, commitFeerate, findSpend } from './monitor/helpers.ts'
import { hubAccountingRows, sdkAccountingRows, sumMsat } from '../helpers/accounting.ts'

const CAPACITY_SAT = 400_000

/** The client's own export, and the hub's export of the client's account. */
const rowsOf = async (c: HubClient): Promise<AccountingRow[]> => await sdkAccountingRows(c)
const hubRows = async (hub: HubProcess, c: HubClient): Promise<AccountingRow[]> => await hubAccountingRows(hub, c.nodeId)
const sum = sumMsat
/** BOLT #3: the weight of a commitment without HTLC outputs (its fee is weight × feerate_per_kw / 1000). */
const COMMITMENT_WEIGHT_NO_HTLC = 724

t.test('e2e: a force close by the client and one by the hub operator each have an exact close_force row in both exports',
  async t => {
    const btc = await useBtcd(t)
    const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
      name: 'e2e-accounting-fc', hubSat: 2_000_000, platformCapacitySat: CAPACITY_SAT,
      hubConfig: { channels: { finalityDepth: 3 } },
    })
    /** The balance an export reconciles with: a failed, closing or closed channel holds nothing of ours any more. */
    const balance = (c: HubClient): number =>
      c.channels().filter(ch => !['failed', 'closing', 'closed'].includes(ch.phase)).reduce((s, ch) => s + ch.localMsat, 0)
    const start = new Map([platform, creator].map(c => [c, balance(c)]))
    const hubRowsOf = async (c: HubClient): Promise<AccountingRow[]> => await hubRows(hub, c)
    const forceRows = async (c: HubClient, side: 'sdk' | 'hub'): Promise<AccountingRow[]> =>
      (side === 'sdk' ? await rowsOf(c) : await hubRowsOf(c)).filter(r => r.kind === 'close_force')

    for (let i = 0; i < 3; i++) {
      const r = await platform.pay((await creator.createInvoice({ amountMsat: 10_000_000 + i * 1_234_567 })).invoice)
      t.ok(r.ok, `payment ${i} succeeded`)
    }
    await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, 'both channels settled', 60_000)
    const tip0 = await btc.chain.tip()
    const startHeight = tip0.ok ? tip0.value.height + 1 : 0

    const cases = [
      { who: 'platform', c: platform, close: async (id: string) => {
        t.same(await platform.forceClose(id), [id], 'the platform force-closes its channel')
      } },
      { who: 'creator', c: creator, close: async (id: string) => {
        const r = await admin(hub, '/channels/force-close', { channel_id: id })
        t.same([r.status, r.body], [200, { ok: true, broadcast: true }], 'the hub operator force-closes the creator\'s channel')
      } },
    ] as const
    for (const { who, c, close } of cases) {
      const ch = c.channels()[0]!
      const feerate = commitFeerate(c, ch.channelId)
      const funded = who === 'platform'
      const onchainSat = Math.floor(ch.localMsat / 1000) - (funded ? Math.floor(COMMITMENT_WEIGHT_NO_HTLC * feerate / 1000) : 0)
      await close(ch.channelId)
      await waitFor(async () => (await forceRows(c, 'sdk')).length > 0 && (await forceRows(c, 'hub')).length > 0,
        `the ${who}'s close_force rows`, 60_000)
      const expected = { kind: 'close_force', ref: ch.channelId, amount_msat: -ch.localMsat, onchain_sat: onchainSat,
        fee_msat: ch.localMsat - onchainSat * 1000, payment_hash: '' }
      const own = await forceRows(c, 'sdk')
      t.equal(own.length, 1, `the ${who}'s export has one close_force row`)
      t.match(own[0], expected, '... its whole balance, what its commitment pays it, the rest as fee')
      t.same((await forceRows(c, 'hub')).map(r => ({ ...r, at: 0 })), [{ ...own[0], at: 0 }],
        '... and the same row in the hub\'s export (at its own time)')
      const change = balance(c) - start.get(c)!
      t.equal(sum(await rowsOf(c)), change, `the ${who}'s rows sum to its balance change (${change} msat)`)
      t.equal(sum(await hubRowsOf(c)), change, `the hub's rows of the ${who} sum to it too`)

      await btc.mine(1)
      const spend = await findSpend(btc, ch.fundingTxid!, undefined, startHeight)
      t.ok(spend?.tx.outputs.some(o => o.value === onchainSat), `the commitment that confirmed pays the ${who} ${onchainSat} sat`)
    }
    t.equal(sum(await rowsOf(platform)), -CAPACITY_SAT * 1000, 'the platform\'s rows sum to its whole channel: it is gone, to the msat')
    t.equal(sum(await rowsOf(creator)), 0, 'the creator\'s rows: what it received, and all of it gone with its channel')
  })

t.test('e2e: the hub SIGKILLed right after storing a channel\'s failure writes its close_force row when it starts again', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'e2e-accounting-fc-crash', hubSat: 2_000_000, platformCapacitySat: CAPACITY_SAT,
  })
  const r = await platform.pay((await creator.createInvoice({ amountMsat: 12_345_678 })).invoice)
  t.ok(r.ok, 'a payment succeeded')
  await waitFor(() => platform.channels()[0]!.settled, 'the platform\'s channel settled', 60_000)
  await hub.restart({ HUB_CRASH_AT: 'after:persist:force_close:1' })
  await waitFor(() => platform.channels()[0]!.link === 'up', 'the platform reconnected', 60_000)
  const ch = platform.channels()[0]!

  t.same(await platform.forceClose(ch.channelId), [ch.channelId], 'the platform force-closes its channel')
  await hub.exited()
  t.pass('the hub died right after storing its channel\'s failure, before its accounting row')
  await hub.restart()
  const rows = await hubRows(hub, platform)
  const force = rows.filter(x => x.kind === 'close_force')
  t.match(force, [{ ref: ch.channelId, amount_msat: -ch.localMsat }], 'the hub\'s export has the close_force row after the restart')
  t.equal(rows.reduce((s, x) => s + x.amount_msat, 0), -CAPACITY_SAT * 1000, '... and its rows of the platform sum to its whole channel')
  await hub.restart()
  t.equal((await hubRows(hub, platform)).filter(x => x.kind === 'close_force').length, 1, 'another start writes no second row')
})

t.test('e2e: a force close with an HTLC in flight each way (one timed out, one claimed by preimage) has exact rows and sweep fees',
  async t => {
    const btc = await useBtcd(t)
    const dir = tempDir('e2e-accounting-fc-htlcs')
    const hub = await startHub({
      dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc,
      config: { channels: { finalityDepth: 3, toSelfDelay: 6 }, router: { holdMs: 600_000 } },
    }, t)
    await fundHub(btc, hub, 3_000_000)
    // 'armed': the hub's messages reach the platform up to its next revoke_and_ack, then none do.
    let hook: 'open' | 'armed' | 'dropping' = 'open'
    const socketFactory = hookedSocketFactory(m => {
      if (hook === 'dropping') return
      m.deliver()
      if (hook === 'armed' && m.type === 'revoke_and_ack') hook = 'dropping'
    })
    const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', socketFactory }, t)
    const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
    const treasury = await startClient({ hub, btc, dataDir: path.join(dir, 'treasury'), role: 'creator' }, t)
    await openFundedChannel(btc, platform, CAPACITY_SAT)
    await requestHubChannel(btc, creator)
    await requestHubChannel(btc, treasury)
    const hubRowsOf = async (c: HubClient): Promise<AccountingRow[]> => await hubRows(hub, c)

    t.match(await platform.pay((await creator.createInvoice({ amountMsat: 40_000_000 })).invoice), { ok: true }, 'the creator is paid')
    await treasury.stop()
    await waitFor(() => platform.channels()[0]!.settled, 'the platform\'s channel settled', 60_000)

    // Out: a push payment to the offline treasury, held by the hub: its HTLC stays in the platform's commitment.
    const OUT_MSAT = 7_654_321
    const IN_MSAT = 3_333_333
    const failed: string[] = []
    platform.on('payment_failed', e => { failed.push(e.paymentHash) })
    const held = await platform.pay({ to: treasury.nodeId, amountMsat: OUT_MSAT, reference: 'held' })
    t.match(held, { ok: false, reason: 'pending' }, 'the push payment to the offline treasury is held by the hub')
    const outHash = held.paymentHash!
    const outMsat = platform.channels()[0]!.inFlightMsat
    t.ok(outMsat >= OUT_MSAT, 'the platform\'s commitment holds its HTLC (its amount and the hub\'s fee)')

    // In: the creator pays the platform; the platform fulfils, the hub's next messages never arrive.
    const received: string[] = []
    platform.on('payment_received', e => { received.push(e.paymentHash) })
    const inv = await platform.createInvoice({ amountMsat: IN_MSAT })
    hook = 'armed'
    const creatorPaid = creator.pay(inv.invoice)
    await waitFor(() => received.includes(inv.paymentHash) && hook === 'dropping', 'the platform fulfilled, cut off from the hub', 60_000)
    const ch = platform.channels()[0]!
    t.equal(ch.inFlightMsat, outMsat + IN_MSAT, 'the platform\'s commitment holds both HTLCs')
    const walletBefore = platform.balances().onchain.totalSat
    t.same(await platform.forceClose(ch.channelId), [ch.channelId], 'the platform force-closes its channel')
    t.match(await creatorPaid, { ok: true }, 'the creator\'s payment succeeded (the hub had the preimage off-chain)')

    // Blocks one at a time: the commitment, the HTLC-success claim, the timeout past the held HTLC's
    // expiry, the delayed outputs' sweeps, until the platform's monitor has resolved everything.
    const done = async (): Promise<boolean> => {
      const rows = await rowsOf(platform)
      return rows.filter(r => r.kind === 'htlc_onchain').length === 2 && rows.some(r => r.kind === 'sweep')
    }
    for (let i = 0; i < 300 && !(await done()); i++) {
      await btc.mine(1)
      await new Promise(resolve => setTimeout(resolve, 150))
    }
    await waitFor(done, 'the platform\'s htlc_onchain and sweep rows', 60_000)
    const rows = await rowsOf(platform)
    const htlcRows = rows.filter(r => r.kind === 'htlc_onchain')
    t.same(htlcRows.map(r => [r.ref, -r.amount_msat]).sort(), [[ch.channelId, IN_MSAT], [ch.channelId, outMsat]].sort(),
      'an htlc_onchain row for each HTLC, naming the channel')
    t.same(htlcRows.find(r => -r.amount_msat === IN_MSAT)?.payment_hash, inv.paymentHash, '... the claimed one names its payment')
    for (const r of htlcRows) t.equal(r.onchain_sat * 1000 + r.fee_msat, -r.amount_msat, '... its output and the msat rounded away')
    t.ok(rows.some(r => r.kind === 'payment_in' && r.payment_hash === inv.paymentHash && r.amount_msat === IN_MSAT),
      'the payment claimed on-chain has its payment_in row')
    await waitFor(() => failed.includes(outHash), 'the held payment\'s outcome', 60_000)
    t.notOk(rows.some(r => r.payment_hash === outHash && r.kind === 'payment_out'), 'it failed (timed out on-chain): no payment_out row')
    t.same(htlcRows.find(r => -r.amount_msat === outMsat)?.payment_hash, outHash, '... its htlc_onchain row names it')
    t.equal(sum(rows), -CAPACITY_SAT * 1000, 'the platform\'s rows sum to its whole channel, to the msat')
    await waitFor(async () => (await hubRowsOf(platform)).some(r => r.kind === 'htlc_onchain' && -r.amount_msat === outMsat),
      'the hub\'s htlc_onchain row of the timed-out HTLC', 60_000)
    t.equal(sum(await hubRowsOf(platform)), -CAPACITY_SAT * 1000, 'the hub\'s rows of the platform sum to the same')

    const sweeps = rows.filter(r => r.kind === 'sweep')
    t.ok(
      sweeps.length >= 3, `a sweep row per claim (${sweeps.length}: the HTLC-success and -timeout transactions, their outputs, to_local)`,
    )
    for (const r of sweeps) t.ok(r.amount_msat === 0 && r.fee_msat > 0 && r.fee_msat % 1000 === 0, `sweep ${r.ref}: amount 0, a fee in sat`)
    const reached = sweeps.reduce((s, r) => s + r.onchain_sat, 0)
    const onchain = rows.filter(r => r.kind === 'close_force' || r.kind === 'htlc_onchain').reduce((s, r) => s + r.onchain_sat, 0)
    t.equal(onchain - sweeps.reduce((s, r) => s + r.fee_msat / 1000, 0), reached,
      'the outputs less the sweep fees are what the sweeps paid, to the satoshi')
    await waitFor(() => platform.balances().onchain.totalSat === walletBefore + reached, 'the wallet holds the sweeps', 60_000)
    t.equal(platform.balances().onchain.totalSat - walletBefore, reached, 'the platform\'s wallet received exactly that')
  })
