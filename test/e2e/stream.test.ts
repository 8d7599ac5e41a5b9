// Streams end to end (DESIGN.md "Streams"), real everything: a btcd regtest node, the hub as a child
// process, a platform and a creator as SDK clients over WebSockets. Thousands of line items of 1 msat
// and up go into ticks (one HTLC each, a handful in flight); every item has a receipt that verifies
// offline; the creator's balance grows by the sum of the items to the msat, the platform's shrinks by
// that and the hub's fee per tick; pushing the same ids again pays nothing.
import t from 'tap'
import { forwardingFee } from '../../protocol/forwarding.ts'
import { MAX_STREAM_TICKS_IN_FLIGHT } from '../../protocol/limits.ts'
import { verifyStreamReceipt } from '../../protocol/stream/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../helpers/hub.ts'

const ITEMS = 5_000
const CAPACITY_SAT = 2_000_000

t.test('e2e: a stream of 5,000 items in ticks, each item with a receipt; exact balances; ids paid once', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(
    btc, t, { name: 'e2e-stream', hubSat: 5_000_000, platformCapacitySat: CAPACITY_SAT },
  )
  const policy = platform.hubPolicyInfo!
  const ticks: Array<{ payer: string; paymentHash: string; count: number; amountMsat: number }> = []
  creator.on('stream_tick', e => { ticks.push(e) })
  let maxInFlight = 0
  const watch = setInterval(() => { maxInFlight = Math.max(maxInFlight, platform.channels()[0]!.inFlightMsat > 0 ? countHtlcs() : 0) }, 5)
  const countHtlcs = (): number => (platform as unknown as {
    channelSet: { channels: () => Array<{ driver: { state: { localCommit?: { spec: { htlcs: unknown[] } } } } }> }
  }).channelSet.channels()[0]!.driver.state.localCommit?.spec.htlcs.length ?? 0

  const amountOf = (i: number): number => 1 + (i * 7_919) % 5_000
  const stream = platform.stream(creator.nodeId, { tickMs: 20 })
  const pushes: Array<Promise<void>> = []
  for (let i = 0; i < ITEMS; i++) pushes.push(stream.push({ id: `view-${i}`, amountMsat: amountOf(i), memo: i % 2 === 0 ? 'view' : '' }))
  await Promise.all(pushes)
  const summary = await stream.flush()
  clearInterval(watch)
  const expected = Array.from({ length: ITEMS }, (_, i) => amountOf(i)).reduce((a, b) => a + b, 0)
  t.equal(summary.itemsPaid, ITEMS, 'every item was paid')
  t.equal(summary.msatPaid, expected, 'the ticks paid the sum of the items')
  t.same(summary.failedIds, [], 'no item failed')
  t.ok(summary.ticksPaid > 1 && summary.ticksPaid < ITEMS / 10, `items were aggregated into ${summary.ticksPaid} ticks`)
  t.ok(maxInFlight <= MAX_STREAM_TICKS_IN_FLIGHT, `at most ${MAX_STREAM_TICKS_IN_FLIGHT} HTLCs in flight (saw ${maxInFlight})`)
  await waitFor(() => ticks.length === summary.ticksPaid, 'the creator to report every tick')
  t.equal(ticks.reduce((s, x) => s + x.count, 0), ITEMS, 'the creator received every item')
  t.ok(ticks.every(x => x.payer === platform.nodeId), 'the creator knows the payer of each tick')

  // Every item has a receipt that verifies offline against the creator's node id.
  let verified = 0
  const seen = new Set<string>()
  for await (const r of stream.receipts()) {
    const v = verifyStreamReceipt(JSON.parse(JSON.stringify(r)), creator.nodeId)
    if (!v.ok) { t.fail(`receipt of ${r.item.id}: ${v.error.reason} ${v.error.detail}`); continue }
    seen.add(r.item.id)
    verified++
  }
  t.equal(verified, ITEMS, 'one verified receipt per item')
  t.equal(seen.size, ITEMS, '... for distinct items')
  const one = await stream.receipt('view-42')
  t.match(one, { item: { id: 'view-42', amountMsat: amountOf(42), memo: 'view' } }, 'receipt(id) finds one item\'s receipt')
  t.ok(verifyStreamReceipt(one, creator.nodeId).ok, '... and it verifies')
  const tick = await creator.streamTick(one!.tick.paymentHash)
  t.ok(tick?.items.some(([id]) => id === 'view-42'), 'the creator kept the tick\'s items')

  // Balances, to the msat: the creator gained the sum of the items, the platform lost that and one fee per tick.
  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, 'both channels settled')
  const fees = ticks.reduce((s, x) => s + forwardingFee(x.amountMsat, policy), 0)
  t.equal(creator.channels()[0]!.localMsat, expected, 'creator balance = sum of item amounts')
  t.equal(platform.channels()[0]!.localMsat, CAPACITY_SAT * 1000 - expected - fees, 'platform balance = capacity − items − fee per tick')

  // The same ids again (an application that pushes again after a restart): nothing is paid twice.
  const before = creator.channels()[0]!.localMsat
  await Promise.all([0, 1, 2, 4_999].map(i => stream.push({ id: `view-${i}`, amountMsat: amountOf(i) })))
  await stream.flush()
  t.equal(stream.stats.itemsPaid, ITEMS, 'ids already paid are ignored')
  t.equal(creator.channels()[0]!.localMsat, before, 'nothing more reached the creator')

  // Accounting: every export sums to the balance change, to the msat (SDK on both sides, the hub's
  // admin API per account), and the hub's fee ledger holds one fee per tick across a hub restart.
  const sdkRows = async (c: typeof platform): Promise<Array<{ kind: string; amount_msat: number; fee_msat: number }>> => {
    const rows: Array<{ kind: string; amount_msat: number; fee_msat: number }> = []
    let cursor: string | undefined
    do {
      const page = await c.exportAccounting({ format: 'jsonl', limit: 2, ...(cursor !== undefined ? { cursor } : {}) })
      rows.push(...page.data.split('\n').filter(l => l !== '').map(l => JSON.parse(l)))
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    return rows
  }
  const sum = (rows: Array<{ amount_msat: number }>): number => rows.reduce((s, r) => s + r.amount_msat, 0)
  const platformRows = await sdkRows(platform)
  t.equal(sum(platformRows), -(expected + fees), 'SDK export, platform: rows sum to its balance change (items + fees)')
  t.equal(platformRows.reduce((s, r) => s + r.fee_msat, 0), fees, '... its fee column sums to the fees paid')
  t.ok(platformRows.every(r => r.kind === 'stream_tick_out'), '... every row is a stream tick it paid')
  const creatorRows = await sdkRows(creator)
  t.equal(sum(creatorRows), expected, 'SDK export, creator: rows sum to its balance change')
  t.ok(creatorRows.every(r => r.kind === 'stream_tick_in'), '... every row is a stream tick it received')
  const csv = await creator.exportAccounting({ format: 'csv' })
  t.equal(csv.data.split('\r\n')[0], 'at,kind,amount_msat,fee_msat,payment_hash,counterparty,ref,onchain_sat', 'CSV has its header')
  t.equal(csv.rows, summary.ticksPaid, '... and a line per tick')

  const hubRows = async (node: string, format: 'csv' | 'jsonl'): Promise<string> => {
    const r = await hub.adminFetch(`/accounts/${node}/accounting?format=${format}`)
    t.equal(r.status, 200, `GET /accounts/…/accounting?format=${format}`)
    return await r.text()
  }
  const lines = (text: string): Array<{
    amount_msat: number; kind: string
  }> => text.split('\n').filter(l => l !== '').map(l => JSON.parse(l))
  t.equal(sum(lines(await hubRows(platform.nodeId, 'jsonl'))), -(expected + fees), 'hub export, platform: sums to its balance change')
  t.equal(sum(lines(await hubRows(creator.nodeId, 'jsonl'))), expected, 'hub export, creator: sums to its balance change')
  const hubCsv = (await hubRows(creator.nodeId, 'csv')).trim().split('\r\n')
  t.equal(hubCsv.length, 1 + summary.ticksPaid, 'hub CSV: a header and a line per tick')
  t.equal((await hub.adminFetch('/accounts/nobody/accounting')).status, 400, 'a bad node id is refused')
  const feesBefore = await (await hub.adminFetch('/fees?period=hour')).json() as { total_fees_msat: number; payments: number }
  t.equal(feesBefore.total_fees_msat, fees, 'GET /fees: the hub earned one fee per tick')
  t.equal(feesBefore.payments, summary.ticksPaid, '... on every tick')
  await hub.restart()
  const feesAfter = await (await hub.adminFetch('/fees?period=day')).json() as { total_fees_msat: number }
  t.equal(feesAfter.total_fees_msat, fees, 'the fee ledger survives a hub restart')
  await platform.untilReestablished()
  await creator.untilReestablished()

  // Bad arguments are refused with the field named; nothing is queued.
  await t.rejects(stream.push({ id: '', amountMsat: 1 }), /stream\.push\.id/)
  await t.rejects(stream.push({ id: 'x', amountMsat: 0 }), /stream\.push\.amountMsat/)
  await t.rejects(stream.push({ id: 'quote"', amountMsat: 1 }), /stream\.push\.id/)
  t.throws(() => platform.stream('02' + '00'.repeat(32)), /stream\.to/)
})
