// ChannelDriver: effects run in the persistence contract's order (persist → send → emit), a stalled
// store stalls the channel's output and nothing else, a failed write stops the channel, and the writes
// of many channels share group-commit batches.
import t from 'tap'
import { DriverPair } from './fixtures/driver-pair.ts'
import { MemoryStore } from '../../../../host/store/index.ts'
import type { Msat } from '../../../../protocol/types.ts'
import { isSettled } from '../../../../protocol/channel/index.ts'

const idx = (trace: string[], entry: string): number => trace.indexOf(entry)

t.test('a payment A → B runs to completion, with every send after the write it depends on', async t => {
  const p = new DriverPair()
  await p.open()
  const inv = DriverPair.invoice()
  await p.a.driver!.command({ type: 'add_htlc', amountMsat: 50_000 as Msat, paymentHash: inv.hash, cltvExpiry: 200, recipient: p.nodeB })
  await p.until(() => p.b.events.some(e => e.type === 'htlc_received'))
  const received = p.b.events.find(e => e.type === 'htlc_received')!
  t.equal(received.type === 'htlc_received' && received.htlc.amountMsat, 50_000, 'B received the HTLC once irrevocably committed')
  await p.b.driver!.command({ type: 'fulfill_htlc', id: 0, preimage: inv.preimage })
  await p.until(() => p.a.events.some(e => e.type === 'htlc_fulfilled') && p.b.events.some(e => e.type === 'htlc_settled'))
  await p.until(() => isSettled(p.a.driver!.state) && isSettled(p.b.driver!.state))
  t.equal(p.b.driver!.state.localCommit!.spec.toLocalMsat, 50_000, 'B holds the 50,000 msat')
  t.equal(p.a.driver!.state.localCommit!.spec.toRemoteMsat, 50_000, 'A agrees')

  // Every commitment_signed / revoke_and_ack left only once what it depends on was durable (checked
  // at each send against the side's latest acknowledged write; writes may be in flight behind it).
  t.ok(p.a.sent.some(m => m.type === 'commitment_signed') && p.b.sent.some(m => m.type === 'revoke_and_ack'), 'both kinds were sent')
  t.same(p.violations, [], 'no send ahead of its write')
})

t.test('stalled store: no commitment_signed leaves until the write is durable; then persist → send → emit', async t => {
  const p = new DriverPair()
  await p.open()
  const inv = DriverPair.invoice()
  p.a.store.stall()
  const added = p.a.driver!.command({
    type: 'add_htlc', amountMsat: 10_000 as Msat, paymentHash: inv.hash, cltvExpiry: 200, recipient: p.nodeB,
  })
  await p.a.store.waitForStalled(1)
  t.ok(p.trace.includes('A:send:update_add_htlc'), 'the add itself needs no write and left')
  t.notOk(p.trace.includes('A:send:commitment_signed'), 'commitment_signed held while its write is stalled')
  t.equal(p.a.driver!.pending, 1, 'only the add is unfinished: it waits for the commitment_signed it led to')
  p.a.store.release()
  t.equal(await added, 'done')
  const begin = idx(p.trace, 'A:persist:4:begin')
  const done = idx(p.trace, 'A:persist:4:done')
  const sent = idx(p.trace, 'A:send:commitment_signed')
  t.ok(begin >= 0 && begin < done && done < sent, `persist (${begin}) → durable (${done}) → send (${sent})`)
  // B: receiving commitment_signed → its write → revoke_and_ack; receiving A's revoke → write → emit htlc_received.
  await p.until(() => p.b.events.some(e => e.type === 'htlc_received'))
  const bRevoke = idx(p.trace, 'B:send:revoke_and_ack')
  const bWriteBeforeRevoke = p.trace.slice(0, bRevoke).filter(e => e.startsWith('B:persist:') && e.endsWith(':done')).length
  t.ok(bWriteBeforeRevoke >= 1, 'B stored its new commitment before revoking the old one')
  const emitted = idx(p.trace, 'B:emit:htlc_received')
  const lastBWrite = p.trace.slice(0, emitted).map((e, i) => [e, i] as const).filter(
    ([e]) => e.startsWith('B:persist:') && e.endsWith(':done')
  ).pop()
  const lastBBegin = p.trace.slice(0, emitted).map((e, i) => [e, i] as const).filter(
    ([e]) => e.startsWith('B:persist:') && e.endsWith(':begin')
  ).pop()
  t.ok(
    lastBWrite !== undefined && lastBBegin !== undefined && lastBWrite[1] > lastBBegin[1],
    'htlc_received emitted only after the revocation was stored',
  )
})

t.test('a failed write stops the channel: nothing it held is sent, later inputs are refused', async t => {
  const p = new DriverPair()
  await p.open()
  const inv = DriverPair.invoice()
  p.b.store.failNext()
  const revokesBefore = p.b.sent.filter(m => m.type === 'revoke_and_ack').length
  await p.a.driver!.command({ type: 'add_htlc', amountMsat: 10_000 as Msat, paymentHash: inv.hash, cltvExpiry: 200, recipient: p.nodeB })
  await p.until(() => p.b.driver!.stoppedBy !== undefined)
  t.ok(p.trace.includes('B:stopped'), 'B told its host it stopped')
  t.equal(
    p.b.sent.filter(m => m.type === 'revoke_and_ack').length, revokesBefore, 'no revoke_and_ack for the commitment that was not stored',
  )
  const failedAt = p.b.store.log.findIndex(e => e.outcome === 'failed')
  t.ok(
    failedAt >= 0 && p.b.store.log.slice(failedAt).every(e => e.outcome === 'failed'),
    'neither the failed write nor any write issued behind it reached the store',
  )
  t.equal(await p.b.driver!.command({ type: 'sign' }), 'stopped', 'a later input is refused')
  t.notOk(p.b.events.some(e => e.type === 'htlc_received'), 'nothing emitted past the failed write')
})

t.test('concurrent channels: their writes share group-commit batches', async t => {
  const shared = new MemoryStore()
  const pairs = Array.from({ length: 8 }, () => new DriverPair(shared))
  await Promise.all(pairs.map(p => p.open()))
  const before = { ...shared.stats }
  await Promise.all(pairs.map(async p => {
    const inv = DriverPair.invoice()
    await p.a.driver!.command({ type: 'add_htlc', amountMsat: 10_000 as Msat, paymentHash: inv.hash, cltvExpiry: 200, recipient: p.nodeB })
    await p.until(() => p.b.events.some(e => e.type === 'htlc_received'))
  }))
  const writes = shared.stats.writes - before.writes
  const batches = shared.stats.batches - before.batches
  t.ok(writes >= 8 * 2, `each A wrote at least twice (${writes} writes)`)
  t.ok(batches < writes, `${writes} writes went out in ${batches} batches`)
  t.ok(shared.stats.maxWritesPerBatch >= 2, `up to ${shared.stats.maxWritesPerBatch} channels' writes in one batch`)
})

t.test('a step that throws (a bug) stops that driver without rejecting its callers', async t => {
  const { ChannelDriver } = await import('../../../../host/channel/index.ts')
  const stopped: unknown[] = []
  const ports = {
    persist: async () => {}, send: () => {}, broadcastFunding: () => {}, disconnect: () => {}, emit: () => {},
    stopped: (e: unknown) => { stopped.push(e) },
  }
  const state = { phase: 'normal', channelId: '00'.repeat(32), writes: { issued: 0, acked: 0 }, outbox: [] } as never
  const d = new ChannelDriver(state, {} as never, ports, { autoSign: false }, () => { throw new Error('bug') })
  t.equal(await d.command({ type: 'sign' }), 'stopped', 'the input resolves as stopped (no rejection)')
  t.equal(stopped.length, 1, 'the host was told once')
  t.equal(await d.command({ type: 'sign' }), 'stopped', 'later inputs are refused')
  t.equal(stopped.length, 1, 'and told only once')
})
