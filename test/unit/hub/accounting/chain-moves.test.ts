// The hub's rows of force closes (hub/accounting/chain-moves.ts) in its ledger (ledger.ts): written when
// a channel fails with a commitment to broadcast, and at load for a stored failed channel whose row is
// missing (a stop between the channel's write and the row's), never twice; after a force close, the
// rows of what the chain did (an HTLC it gave the account, the account's claims), once.
import t from 'tap'
import { MemoryStore } from '../../../../host/store/index.ts'
import type { ChannelEvent } from '../../../../protocol/channel/index.ts'
import type { ManagedChannel } from '../../../../hub/channels/manager.ts'
import { AccountChainMoves } from '../../../../hub/accounting/chain-moves.ts'
import { Ledger } from '../../../../hub/accounting/ledger.ts'
import { sha256 } from '../../../../protocol/crypto/hash.ts'
import type { MonitorTx } from '../../../../protocol/monitor/index.ts'
import { bytesToHex, type Txid } from '../../../../protocol/types.ts'
import { KeyedPair } from '../../../../scripts/lib/keyed-pair.ts'
import { SimChain } from '../../../fixtures/monitor-sim.ts'

const PEER = '02' + 'ab'.repeat(32)
const FUNDING: MonitorTx = {
  txid: bytesToHex(sha256(new TextEncoder().encode('funding'))) as Txid, locktime: 0, inputs: [],
  outputs: [{ valueSat: 1_000_000, script: '0020' + '00'.repeat(32) }],
}
const channel = (id: string, phase: string): ManagedChannel => ({
  peer: PEER, channelId: id,
  state: {
    channelId: id, phase, closing: {},
    setup: { channelType: 'static_remotekey', isFunder: false, local: { dustLimitSat: 546 } },
    // The peer funded the channel: the commitment fee (724 × 2500 / 1000 = 1810 sat) is its.
    localCommit: { spec: { toLocalMsat: 1_000, toRemoteMsat: 1_234_567_891, feeratePerKw: 2_500, htlcs: [] } },
  },
}) as unknown as ManagedChannel

t.test('rebuild at load: a failed channel\'s row once, none for a channel that is not failed', async t => {
  const ledger = new Ledger(new MemoryStore())
  const logged: unknown[] = []
  const moves = new AccountChainMoves(ledger, e => { logged.push(e) })
  const [A, B] = ['aa'.repeat(32), 'bb'.repeat(32)]
  await moves.rebuild([channel(A, 'failed'), channel(B, 'normal')])
  const rows = await ledger.accountChain(PEER, 0, Number.MAX_SAFE_INTEGER)
  t.match(rows, [{
    kind: 'close_force', channel_id: A, txid: A, amount_msat: -1_234_567_891, onchain_sat: 1_232_757, fee_msat: 1_810_891,
  }], 'the failed channel\'s close_force row: the peer\'s balance, what the hub\'s commitment pays it, the rest')
  t.equal(rows.length, 1, 'none for the channel not failed')
  await moves.rebuild([channel(A, 'failed')])
  moves.event(channel(A, 'failed'), { type: 'channel_failed', broadcastOurCommitment: false } as unknown as ChannelEvent)
  t.equal((await ledger.accountChain(PEER, 0, Number.MAX_SAFE_INTEGER)).length, 1, 'a second load writes no second row')
  t.same(logged, [], 'nothing failed')
})

t.test('after a force close: the peer\'s htlc_onchain and sweep rows from the hub\'s monitor, once, and only after its close_force', async t => {
  // A simulated chain (test/fixtures/monitor-sim.ts): A (the account) offers an HTLC that times out and
  // claims one B (the hub) offered, with the preimage; A force-closes; B's monitor sees it all.
  const p = await KeyedPair.open({ height: 100, toSelfDelay: 20, fund: () => ({ txid: FUNDING.txid as Txid, outputIndex: 0 }) })
  p.ready()
  const out = p.add(p.a, 50_000_123, 130)
  const claimed = p.add(p.b, 30_000_456, 140)
  p.settle()
  p.fulfill(p.a, claimed.id)
  const sim = new SimChain(100)
  const a = sim.watch('A', p.a.state.channelId, p.a.mkeys, p.a.monitor, { sweepScript: '0014' + 'aa'.repeat(20), depth: 3 })
  const b = sim.watch('B', p.b.state.channelId, p.b.mkeys, p.b.monitor, { sweepScript: '0014' + 'bb'.repeat(20), depth: 3 })
  sim.mine([FUNDING])
  sim.feed(a, { kind: 'force_close', reason: 'test' })
  while (!b.state.closed && sim.height < 300) sim.mine()
  const hubSide = {
    peer: PEER, channelId: p.b.state.channelId, seed: bytesToHex(p.b.seed), state: { ...p.b.state, phase: 'failed' },
  } as unknown as ManagedChannel
  const ledger = new Ledger(new MemoryStore())
  const moves = new AccountChainMoves(ledger, () => {})
  const rows = async (): Promise<Array<{ kind: string; txid: string; amount_msat: number }>> =>
    (await ledger.accountChain(PEER, 0, Number.MAX_SAFE_INTEGER)).filter(r => r.kind !== 'close_force')
  await moves.onchain(hubSide, b.state)
  t.same(await rows(), [], 'no row for a channel without its close_force row')
  await moves.rebuild([hubSide])
  await moves.onchain(hubSide, b.state)
  const written = await rows()
  t.same(written.filter(r => r.kind === 'htlc_onchain').map(r => [r.txid, r.amount_msat]).sort(),
    [[out.hash, -50_000_123], [claimed.hash, -30_000_456]].sort(), 'an htlc_onchain row per HTLC the chain gave the account')
  t.ok(written.some(r => r.kind === 'sweep' && r.amount_msat === 0), 'and the account\'s claims the monitor saw, as sweep rows')
  await moves.onchain(hubSide, b.state)
  t.equal((await rows()).length, written.length, 'a second look (another event, another start) writes none again')
})

t.test('a dropped splice: the peer\'s splice row reversed once, at the drop or at load; none without a row', async t => {
  const ledger = new Ledger(new MemoryStore())
  const moves = new AccountChainMoves(ledger, () => {})
  const [CH, S, SPENT] = ['cc'.repeat(32), 'dd'.repeat(32), 'ee'.repeat(32)]
  const ch = (candidates: unknown[], dropped: unknown[]): ManagedChannel => ({
    peer: PEER, channelId: CH,
    state: { channelId: CH, phase: 'normal', closing: {}, splice: { candidates, dropped } },
  }) as unknown as ManagedChannel
  const candidate = { txid: S, contributionSat: { local: 0, remote: 250_000 } }
  moves.event(ch([candidate], []), { type: 'splice_negotiated', txid: S, feeSat: { local: 0, remote: 0 } } as unknown as ChannelEvent)
  moves.event(ch([candidate], []), { type: 'splice_signed', txid: S } as unknown as ChannelEvent)
  const rows = async (): Promise<Array<[string, number, number, number, string | undefined]>> =>
    (await ledger.accountChain(PEER, 0, Number.MAX_SAFE_INTEGER)).map(r => [r.kind, r.amount_msat, r.onchain_sat, r.fee_msat, r.spent_by])
  // The splice row is written on its own after the event: wait for it (generously: a loaded machine).
  for (let i = 0; i < 500 && (await rows()).length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.same(await rows(), [['splice_in', 250_000_000, 250_000, 0, undefined]], 'the peer\'s splice-in row')
  const droppedState = ch(
    [], [{ txid: S, input: `${SPENT}:0`, spentBy: SPENT }, { txid: 'ff'.repeat(32), input: `${SPENT}:1`, spentBy: SPENT }],
  )
  await moves.rebuild([droppedState])
  moves.event(droppedState, { type: 'splice_double_spent', txid: S, reason: 'test' } as unknown as ChannelEvent)
  await moves.rebuild([droppedState])
  t.same(await rows(), [
    ['splice_in', 250_000_000, 250_000, 0, undefined],
    ['splice_dropped', -250_000_000, -250_000, 0, SPENT],
  ], 'its reversal, once (a load, the event, another load); none for the dropped splice without a row')
})
