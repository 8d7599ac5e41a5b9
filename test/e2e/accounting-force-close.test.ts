// The accounting export has a row for a force close on either side (DESIGN.md "Accounting"), real
// everything: a btcd regtest node, the hub as a child process, a platform and a creator as SDK clients.
// After payments the platform closes its channel alone (HubClient.forceClose), then the hub operator
// closes the creator's (admin POST /channels/force-close). Each account's own export and the hub's
// export of it have one close_force row naming the channel: its whole balance left it, onchain_sat is
// what the commitment pays the account (the commitment fee taken from the funder's), fee_msat the rest;
// the rows sum to the balance change to the msat, and the commitment that confirms has that output.
import t from 'tap'
import type { AccountingRow } from '../../protocol/accounting/rows.ts'
import type { HubClient } from '../../client-sdk/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../helpers/hub.ts'
import { admin, commitFeerate, findSpend } from './monitor/helpers.ts'

const CAPACITY_SAT = 400_000
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
    const rowsOf = async (c: HubClient): Promise<AccountingRow[]> =>
      (await c.exportAccounting({ format: 'jsonl' })).data.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as AccountingRow)
    const hubRowsOf = async (c: HubClient): Promise<AccountingRow[]> => {
      const r = await hub.adminFetch(`/accounts/${c.nodeId}/accounting?format=jsonl`)
      return (await r.text()).split('\n').filter(l => l !== '').map(l => JSON.parse(l) as AccountingRow)
    }
    const sum = (rows: AccountingRow[]): number => rows.reduce((s, r) => s + r.amount_msat, 0)
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
  const hubRows = async (): Promise<AccountingRow[]> =>
    (await (await hub.adminFetch(`/accounts/${platform.nodeId}/accounting?format=jsonl`)).text())
      .split('\n').filter(l => l !== '').map(l => JSON.parse(l) as AccountingRow)

  t.same(await platform.forceClose(ch.channelId), [ch.channelId], 'the platform force-closes its channel')
  await hub.exited()
  t.pass('the hub died right after storing its channel\'s failure, before its accounting row')
  await hub.restart()
  const rows = await hubRows()
  const force = rows.filter(x => x.kind === 'close_force')
  t.match(force, [{ ref: ch.channelId, amount_msat: -ch.localMsat }], 'the hub\'s export has the close_force row after the restart')
  t.equal(rows.reduce((s, x) => s + x.amount_msat, 0), -CAPACITY_SAT * 1000, '... and its rows of the platform sum to its whole channel')
  await hub.restart()
  t.equal((await hubRows()).filter(x => x.kind === 'close_force').length, 1, 'another start writes no second row')
})
