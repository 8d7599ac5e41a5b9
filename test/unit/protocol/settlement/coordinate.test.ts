import t from 'tap'
import {
  coordinate, newRound, type BatchRound, type CoordinatorCommand, type CoordinatorInput,
} from '../../../../protocol/settlement/coordinate.ts'

const limits = { signTimeoutBlocks: 2, maxRounds: 3 }
const TX = 'aa'.repeat(32)

function run (r: BatchRound, inputs: CoordinatorInput[]): { round: BatchRound; commands: CoordinatorCommand[] } {
  const commands: CoordinatorCommand[] = []
  for (const i of inputs) {
    const s = coordinate(r, i, limits)
    r = s.round
    commands.push(...s.commands)
  }
  return { round: r, commands }
}

t.test('every session complete → release all; every peer signed → witnesses to all', async t => {
  const r = newRound(TX, ['a', 'b', 'c'], 100)
  const done = run(r, [
    { type: 'session_complete', channelId: 'a', txid: TX }, { type: 'session_complete', channelId: 'b', txid: TX },
  ])
  t.same(done.commands, [], 'nothing released before the last session completes')
  const all = run(done.round, [{ type: 'session_complete', channelId: 'c', txid: TX }])
  t.same(all.commands.map(c => [c.type, 'channelId' in c ? c.channelId : '']), [['release', 'a'], ['release', 'b'], ['release', 'c']])
  t.equal(all.round.stage, 'released')
  const signed = run(all.round, [
    { type: 'peer_signed', channelId: 'a' }, { type: 'peer_signed', channelId: 'c' }, { type: 'peer_signed', channelId: 'b' },
  ])
  t.same(signed.commands, [{ type: 'give_witnesses', channelIds: ['a', 'b', 'c'] }])
  t.equal(signed.round.stage, 'signed')
})

t.test('a peer that aborts before release: every session aborts, the batch is rebuilt without it', async t => {
  const r = run(newRound(TX, ['a', 'b', 'c'], 100), [
    { type: 'session_complete', channelId: 'a', txid: TX }, { type: 'session_aborted', channelId: 'b', reason: 'tx_abort: no' },
  ])
  t.equal(r.round.stage, 'dropped')
  t.same(r.round.dropped, [{ channelId: 'b', reason: 'tx_abort: no' }])
  t.same(r.commands.filter(c => c.type === 'abort').map(c => 'channelId' in c && c.channelId), ['a', 'b', 'c'])
  t.same(r.commands.at(-1), { type: 'rebuild', channels: ['a', 'c'], round: 2 })
})

t.test('a peer that stalls: dropped at signTimeoutBlocks, not before', async t => {
  const r = run(newRound(TX, ['a', 'b'], 100), [{ type: 'session_complete', channelId: 'a', txid: TX }, { type: 'block', height: 101 }])
  t.same(r.commands, [], 'one block is not the timeout')
  const late = run(r.round, [{ type: 'block', height: 102 }])
  t.same(late.round.dropped.map(d => d.channelId), ['b'])
  t.same(late.commands.at(-1), { type: 'rebuild', channels: ['a'], round: 2 })
})

t.test('a session that built another transaction is dropped', async t => {
  const r = run(newRound(TX, ['a', 'b'], 100), [{ type: 'session_complete', channelId: 'a', txid: 'bb'.repeat(32) }])
  t.same(r.round.dropped.map(d => d.channelId), ['a'])
  t.same(r.commands.at(-1), { type: 'rebuild', channels: ['b'], round: 2 })
})

t.test('bounded rounds: the last round gives up instead of rebuilding', async t => {
  const r = run(newRound(TX, ['a', 'b'], 100, 3), [{ type: 'session_aborted', channelId: 'a', reason: 'x' }])
  t.same(r.commands.at(-1), { type: 'give_up', reason: '3 rounds' })
})

t.test('a peer that does not sign after release: stuck, no abort (the others signed)', async t => {
  const released = run(newRound(TX, ['a', 'b'], 100), [
    { type: 'session_complete', channelId: 'a', txid: TX }, { type: 'session_complete', channelId: 'b', txid: TX },
    { type: 'peer_signed', channelId: 'a' }, { type: 'block', height: 102 },
  ])
  t.equal(released.round.stage, 'stuck')
  t.notOk(released.commands.some(c => c.type === 'abort'))
  t.same(released.round.dropped.map(d => d.channelId), ['b'])
})

t.test('reports of channels outside the batch change nothing', async t => {
  const r = newRound(TX, ['a'], 100)
  t.same(coordinate(r, { type: 'session_aborted', channelId: 'z', reason: 'x' }, limits), { round: r, commands: [] })
})
