// The client dies right after the write that stores its closing_signed agreement reached the store,
// before the driver heard it was durable: nothing was broadcast and closing_agreed was never emitted.
// A new client over the same store finds the signed closing transaction in the stored channel state and
// broadcasts it (client-sdk/channels.ts start, host/channel/closing.ts), and closingOf() reports it.
import t from 'tap'
import { channelStateKey, loadChannelRecord, type ChannelRecord } from '../../../host/channel/index.ts'
import { parseJsonValue, type StoreOp } from '../../../host/store/index.ts'
import type { ChannelState } from '../../../protocol/channel/index.ts'
import { FakeHub } from './fixtures/fake-hub.ts'

const until = async (cond: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** The channel state a write stores (its record, host/channel/record.ts), if it is the write of a
 *  closing_signed agreement. */
function agreement (channelId: string, ops: readonly StoreOp[]): ChannelState | undefined {
  for (const o of ops) {
    if (o.type === 'del' || o.key !== channelStateKey(channelId)) continue
    const s = (parseJsonValue(o.value) as ChannelRecord).state
    if (s.phase === 'closing') return s
  }
  return undefined
}

t.test('a crash between the closing agreement and its broadcast: the restarted client broadcasts the stored closing tx', async t => {
  const hub = new FakeHub()
  const { client, store, inner, nodeKey } = await hub.client()
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const channelId = client.channels()[0]!.channelId
  let stored: ChannelState | undefined
  store.onWrite = ops => {
    const s = agreement(channelId, ops)
    if (s === undefined || stored !== undefined) return
    // The write reaches the disk, and the process dies before it learns so: the store fails it.
    stored = s
    void inner.write(ops)
    store.failNext()
  }
  void client.close().catch(() => {})
  await until(() => stored !== undefined, 'the agreement is written')
  await until(async () => (await loadChannelRecord(inner, channelId))?.state.phase === 'closing', 'the agreement is on disk')
  const signed = stored!.closing.signedTx
  t.ok(signed !== undefined, 'the stored agreement holds the signed closing tx')
  t.notOk(hub.chain.broadcasts.includes(signed?.hex ?? ''), 'nothing was broadcast before the crash')
  t.equal(client.closingOf(channelId), undefined, 'the dead client never learned of the agreement')
  await client.stop().catch(() => {})

  const { client: again } = await hub.client({ inner, nodeKey })
  await until(() => hub.chain.broadcasts.includes(signed!.hex), 'the restarted client broadcasts the stored closing tx')
  t.match(
    again.closingOf(channelId), { channelId, closingTxid: signed!.txid, localSat: signed!.localSat, remoteSat: signed!.remoteSat },
    'and reports it',
  )
  // The restored machine emits the held closing_agreed again; the stored tx was broadcast already.
  await again.stop()
  t.equal(hub.chain.broadcasts.filter(hex => hex === signed!.hex).length, 1, 'broadcast once')
})
