// The accounting rows of splices and closes (client-sdk/chain-moves.ts) read from a channel's stored
// state: exact by construction (amount = what the balance moved = −(on-chain + fee) when money leaves),
// recorded once, and an RBF replacement's row replaces the row of the transaction it replaces, in the
// export too (client-sdk/accounting.ts); after a force close, the HTLC and sweep rows of what the chain
// did (protocol/accounting/onchain.ts), recorded once, in the export with the HTLC's payment hash.
import t from 'tap'
import { MemoryStore } from '../../../host/store/index.ts'
import type { ChannelState } from '../../../protocol/channel/index.ts'
import { exportAccounting } from '../../../client-sdk/accounting.ts'
import { movesOf, recordMoves, recordOnchainMoves } from '../../../client-sdk/chain-moves.ts'
import type { OnchainMove } from '../../../protocol/accounting/onchain.ts'

const CH = 'cc'.repeat(32)
const [A, B, C] = ['a1', 'b2', 'c3'].map(x => x.repeat(32)) as [string, string, string]

/** The fields of a channel's state the rows are read from (the rest of a ChannelState is not read). */
function state (o: {
  candidates?: Array<{ txid: string; local: number; outputs?: number[]; signed?: boolean }>
  close?: { txid: string; localSat: number }; toLocalMsat?: number
}): ChannelState {
  return {
    channelId: CH,
    localCommit: { spec: { toLocalMsat: o.toLocalMsat ?? 0 } },
    closing: o.close === undefined ? {} : { signedTx: { txid: o.close.txid, localSat: o.close.localSat } },
    splice: {
      candidates: (o.candidates ?? []).map(c => ({
        txid: c.txid, contributionSat: { local: c.local, remote: 0 }, ownOutputs: (c.outputs ?? []).map(sats => ({ script: '00', sats })),
        ...(c.signed === false ? {} : { signedTx: '00' }),
      })),
    },
  } as unknown as ChannelState
}

t.test('a splice-out, a splice-in and a mutual close, each exact to the msat', async t => {
  t.same(movesOf(state({ candidates: [{ txid: A, local: -100_250, outputs: [100_000] }] }), 5), [{
    at: 5, kind: 'splice_out', channelId: CH, txid: A, amountMsat: -100_250_000, onchainSat: 100_000, feeMsat: 250_000,
  }], 'splice-out: the contribution, the payout on-chain and our fee share')
  t.same(movesOf(state({ candidates: [{ txid: A, local: 50_000, outputs: [7_000] }] }), 5), [{
    at: 5, kind: 'splice_in', channelId: CH, txid: A, amountMsat: 50_000_000, onchainSat: 50_000, feeMsat: 0,
  }], 'splice-in: what the wallet added (the wallet paid the fee and got its change)')
  t.same(movesOf(state({ candidates: [{ txid: A, local: -1_000, signed: false }] }), 5), [], 'a candidate not signed: no row')
  t.same(movesOf(state({ close: { txid: C, localSat: 1_000 }, toLocalMsat: 1_234_567 }), 5), [{
    at: 5, kind: 'close_mutual', channelId: CH, txid: C, amountMsat: -1_234_567, onchainSat: 1_000, feeMsat: 234_567,
  }], 'close: the whole balance, what the transaction pays us, the rest as fee')
})

t.test('recorded once; an RBF replacement replaces the row, in the export too', async t => {
  const store = new MemoryStore()
  const page = async (): Promise<Array<{ kind: string; ref: string; at: number }>> =>
    (await exportAccounting(store, { from: 0, to: Number.MAX_SAFE_INTEGER, format: 'jsonl', limit: 100 })).data
      .split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { kind: string; ref: string; at: number })
  await recordMoves(store, state({ candidates: [{ txid: A, local: -10_300, outputs: [10_000] }] }), 1_000)
  await recordMoves(store, state({ candidates: [{ txid: A, local: -10_300, outputs: [10_000] }] }), 2_000)
  t.same((await page()).map(r => [r.kind, r.ref, r.at]), [['splice_out', A, 1_000]], 'one row, at the time first recorded')
  await recordMoves(
    store, state({ candidates: [{ txid: A, local: -10_300, outputs: [10_000] }, { txid: B, local: -10_600, outputs: [10_000] }] }), 3_000,
  )
  t.same((await page()).map(r => [r.kind, r.ref, r.at]), [['splice_out', B, 3_000]], 'the replacement\'s row replaces the replaced one')
  const keys: string[] = []
  for await (const [k] of store.iterate('chain-move')) keys.push(k)
  t.equal(keys.length, 2, 'the replaced record and its time index are gone')
})

t.test('a failed channel: a close_force row of its whole balance and what our commitment pays us, recorded once', async t => {
  const failed = (isFunder: boolean): ChannelState => ({
    channelId: CH, phase: 'failed', closing: {},
    setup: { channelType: 'static_remotekey', isFunder, local: { dustLimitSat: 546 } },
    localCommit: { spec: { toLocalMsat: 1_234_567_891, toRemoteMsat: 1_000, feeratePerKw: 2_500, htlcs: [] } },
  }) as unknown as ChannelState
  // 724 × 2500 / 1000 = 1810 sat of commitment fee, paid by the funder.
  t.same(movesOf(failed(true), 5), [{
    at: 5, kind: 'close_force', channelId: CH, txid: CH, amountMsat: -1_234_567_891, onchainSat: 1_232_757, feeMsat: 1_810_891,
  }], 'we funded: the commitment fee and the msat rounded away are the fee')
  t.same(movesOf(failed(false), 5).map(m => [m.onchainSat, m.feeMsat]), [[1_234_567, 891]], 'the peer funded: the msat alone')
  const store = new MemoryStore()
  await recordMoves(store, failed(true), 1_000)
  await recordMoves(store, failed(true), 2_000)
  const page = (await exportAccounting(store, { from: 0, to: Number.MAX_SAFE_INTEGER, format: 'jsonl', limit: 100 })).data
  t.same(page.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { kind: string; ref: string; at: number; amount_msat: number })
    .map(r => [r.kind, r.ref, r.at, r.amount_msat]), [['close_force', CH, 1_000, -1_234_567_891]], 'one row, named by the channel')
})

t.test('after a force close: an htlc_onchain row names the HTLC\'s payment and the channel, a sweep its txid; recorded once', async t => {
  const store = new MemoryStore()
  const moves: OnchainMove[] = [
    { kind: 'htlc_onchain', ref: CH, paymentHash: A, amountMsat: -7_654_321, onchainSat: 7_654, feeMsat: 321 },
    { kind: 'sweep', ref: B, paymentHash: '', amountMsat: 0, onchainSat: 6_000, feeMsat: 1_205_000 },
  ]
  await recordOnchainMoves(store, CH, moves, 1_000)
  await recordOnchainMoves(store, CH, moves, 2_000)
  const rows = (await exportAccounting(store, { from: 0, to: 10_000, format: 'jsonl', limit: 10 })).data.trim().split('\n')
    .map(l => JSON.parse(l) as Record<string, unknown>)
  t.same(rows.map(r => [r.at, r.kind, r.payment_hash, r.ref, r.amount_msat, r.onchain_sat, r.fee_msat]), [
    [1_000, 'htlc_onchain', A, CH, -7_654_321, 7_654, 321],
    [1_000, 'sweep', '', B, 0, 6_000, 1_205_000],
  ], 'one row each, at the first record\'s time: the HTLC\'s payment hash and the channel, the claim\'s txid')
})

t.test('a dropped splice: its row reversed once (at the drop or the next start), none for a splice without a row', async t => {
  const store = new MemoryStore()
  const page = async (): Promise<Array<[string, number, number, number, string]>> =>
    (await exportAccounting(store, { from: 0, to: Number.MAX_SAFE_INTEGER, format: 'jsonl', limit: 100 })).data
      .split('\n').filter(l => l !== '').map(l => JSON.parse(l) as {
        kind: string; amount_msat: number; onchain_sat: number; fee_msat: number; ref: string
      })
      .map(r => [r.kind, r.amount_msat, r.onchain_sat, r.fee_msat, r.ref])
  const dropped = (txids: string[]): ChannelState => {
    const s = state({})
    s.splice!.dropped = txids.map(txid => ({ txid: txid as never, input: `${C}:0`, spentBy: C as never }))
    return s
  }
  await recordMoves(store, state({ candidates: [{ txid: A, local: -10_300, outputs: [10_000] }] }), 1_000)
  // B was dropped before its row was written (a stop between the signatures' write and the row's): nothing to reverse.
  await recordMoves(store, dropped([B, A]), 2_000)
  await recordMoves(store, dropped([B, A]), 3_000)
  const rows = await page()
  t.same(rows, [
    ['splice_out', -10_300_000, 10_000, 300_000, A],
    ['splice_dropped', 10_300_000, -10_000, -300_000, `${A}/${C}`],
  ], 'the splice-out and its reversal, every amount negated, naming the splice and the spending transaction; once')
  t.equal(rows.reduce((s, r) => s + r[1], 0), 0, 'together they move nothing')
})
