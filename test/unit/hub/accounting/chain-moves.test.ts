// The hub's rows of force closes (hub/accounting/chain-moves.ts) in its ledger (ledger.ts): written when
// a channel fails with a commitment to broadcast, and at load for a stored failed channel whose row is
// missing (a stop between the channel's write and the row's), never twice.
import t from 'tap'
import { MemoryStore } from '../../../../host/store/index.ts'
import type { ChannelEvent } from '../../../../protocol/channel/index.ts'
import type { ManagedChannel } from '../../../../hub/channels/manager.ts'
import { AccountChainMoves } from '../../../../hub/accounting/chain-moves.ts'
import { Ledger } from '../../../../hub/accounting/ledger.ts'

const PEER = '02' + 'ab'.repeat(32)
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
