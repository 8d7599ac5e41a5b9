// The accounting export reconciles (DESIGN.md "Accounting"), real everything: a btcd regtest node, the
// hub as a child process, a platform, a creator and a treasury as SDK clients. The platform pays an
// invoice, a push payment, a 2-way split, a stream of line items, then splices part of its balance out
// to an address and closes its channel. After each step every account's export (SDK) sums to its
// channel balance's change to the msat; the splice-out and the close have a row each with what went
// on-chain and the fee; the split's legs and the stream's ticks are named as such; the hub's export
// (GET /accounts/:node_id/accounting) of every account sums to the same change and has the same rows.
// The channel balance here is that of channels not closing: a channel whose close is agreed holds nothing of ours.
import path from 'node:path'
import t from 'tap'
import type { AccountingRow } from '../../protocol/accounting/rows.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../protocol/limits.ts'
import type { HubClient } from '../../client-sdk/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { requestHubChannel, startClient, startHubPlatformCreator, waitFor } from '../helpers/hub.ts'
import { hubAccountingRows, sumMsat } from '../helpers/accounting.ts'

const CAPACITY_SAT = 2_000_000
const PAYOUT_SAT = 100_000

t.test('e2e: exports sum to the balance change across payments, a split, a stream, a splice-out and a close', async t => {
  const btc = await useBtcd(t)
  const { dir, hub, platform, creator } = await startHubPlatformCreator(
    btc, t, { name: 'e2e-accounting', hubSat: 6_000_000, platformCapacitySat: CAPACITY_SAT },
  )
  const treasury = await startClient({ hub, btc, dataDir: path.join(dir, 'treasury'), role: 'creator' }, t)
  await requestHubChannel(btc, treasury)
  const everyone = [platform, creator, treasury]
  /** The channel balance an export reconciles with: a channel that is closing or closed holds nothing of ours any more. */
  const balance = (c: HubClient): number =>
    c.channels().filter(ch => ch.phase !== 'closing' && ch.phase !== 'closed').reduce((s, ch) => s + ch.localMsat, 0)
  const start = new Map(everyone.map(c => [c, balance(c)]))
  const rowsOf = async (c: HubClient): Promise<AccountingRow[]> => {
    const rows: AccountingRow[] = []
    let cursor: string | undefined
    do {
      const page = await c.exportAccounting({ format: 'jsonl', limit: 3, ...(cursor !== undefined ? { cursor } : {}) })
      rows.push(...page.data.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as AccountingRow))
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    return rows
  }
  const sum = sumMsat
  const hubRowsOf = async (c: HubClient): Promise<AccountingRow[]> => await hubAccountingRows(hub, c.nodeId)
  const reconciled = async (step: string): Promise<void> => {
    await waitFor(() => everyone.every(c => c.channels().every(ch => ch.settled || ch.phase === 'closing' || ch.phase === 'closed')),
      'channels settled', 60_000)
    for (const [c, name] of [[platform, 'platform'], [creator, 'creator'], [treasury, 'treasury']] as const) {
      const now = balance(c)
      t.equal(
        sum(await rowsOf(c)), now - start.get(c)!, `${step}: the ${name}'s rows sum to its balance change (${now - start.get(c)!} msat)`,
      )
      t.equal(sum(await hubRowsOf(c)), now - start.get(c)!, `${step}: the hub's rows of the ${name} sum to it too`)
    }
  }

  // ── payments: an invoice and a push payment ──
  const inv = await creator.createInvoice({ amountMsat: 1_234_567, memo: 'invoice 1' })
  t.match(await platform.pay(inv.invoice), { ok: true }, 'an invoice paid')
  t.match(await platform.pay({ to: creator.nodeId, amountMsat: 50_001, reference: 'push 1' }), { ok: true }, 'a push payment paid')
  await reconciled('payments')

  // ── a 2-way split ──
  const split = await platform.paySplit({
    total: 100_003, reference: 'sale 1', shares: [{ to: creator.nodeId, ppm: 700_000 }, { to: treasury.nodeId, ppm: 300_000 }],
  })
  t.match(split, { ok: true }, 'a split paid')
  if (!split.ok) return
  await reconciled('split')
  const legsOut = (await rowsOf(platform)).filter(r => r.kind === 'split_leg_out')
  t.same(legsOut.map(r => r.ref), [split.splitId, split.splitId], 'the platform has a split_leg_out row per leg, naming the split')
  t.equal(-sum(legsOut), 100_003 + split.feeMsat, '... they sum to the total and the fees')
  t.same((await rowsOf(treasury)).map(r => [r.kind, r.ref, r.amount_msat]), [['split_leg_in', split.splitId, 30_000]],
    'the treasury has its leg, named as a split leg')

  // ── a stream ──
  const stream = platform.stream(creator.nodeId, { tickMs: 20 })
  await Promise.all(Array.from({ length: 300 }, (_, i) => stream.push({ id: `item-${i}`, amountMsat: 1 + i })))
  const summary = await stream.flush()
  t.equal(summary.itemsPaid, 300, 'the stream paid its items')
  await reconciled('stream')
  t.equal((await rowsOf(creator)).filter(r => r.kind === 'stream_tick_in').reduce((s, r) => s + r.amount_msat, 0), summary.msatPaid,
    'the creator\'s stream_tick_in rows sum to the items')

  // The hub's export of each payee has the same payment rows as the payee's own.
  for (const c of [creator, treasury]) {
    const hubRows = await hubRowsOf(c)
    const key = (x: AccountingRow): string => `${x.kind} ${x.payment_hash} ${x.amount_msat}`
    t.same(hubRows.map(key).sort(), (await rowsOf(c)).map(key).sort(), 'the hub\'s export of a payee has the payee\'s rows')
  }

  // ── a splice-out of the platform's balance to an address ──
  const splice = await platform.spliceOut({ amountSat: PAYOUT_SAT, address: platform.newAddress() })
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  await platform.untilSpliceLocked({ txid: splice.txid, timeoutMs: 60_000 })
  await reconciled('splice-out')
  const spliceRows = (await rowsOf(platform)).filter(r => r.kind === 'splice_out')
  t.same(spliceRows.map(r => [r.ref, r.amount_msat, r.onchain_sat, r.fee_msat]),
    [[splice.txid, splice.contributionSat * 1000, PAYOUT_SAT, splice.feeSat * 1000]], 'one splice_out row: its txid, payout and fee')
  t.same((await hubRowsOf(platform)).filter(
    r => r.kind === 'splice_out'
  ).map(r => ({ ...r, at: 0 })), spliceRows.map(r => ({ ...r, at: 0 })),
    '... the same row in the hub\'s export (at its own time)')

  // ── a mutual close ──
  const closed = await platform.close()
  t.match(closed, { ok: true }, 'the platform closed its channel')
  if (!closed.ok) return
  const c = closed.closed[0]!
  await btc.mine(1)
  await reconciled('close')
  const closeRows = (await rowsOf(platform)).filter(r => r.kind === 'close_mutual')
  t.equal(closeRows.length, 1, 'one close_mutual row')
  t.match(closeRows[0], { ref: c.closingTxid, onchain_sat: c.localSat }, '... with its txid and what it paid the platform')
  t.same((await hubRowsOf(platform)).filter(r => r.kind === 'close_mutual').map(r => ({ ...r, at: 0 })), [{ ...closeRows[0], at: 0 }],
    '... and the same row in the hub\'s export')
  t.equal(sum(await rowsOf(platform)), -CAPACITY_SAT * 1000, 'the platform\'s rows sum to its whole channel: it is gone, to the msat')
  const csv = await platform.exportAccounting({ format: 'csv' })
  t.equal(csv.data.split('\r\n')[0], 'at,kind,amount_msat,fee_msat,payment_hash,counterparty,ref,onchain_sat', 'the CSV header')

  await Promise.all(everyone.map(x => x.stop()))
})
