// SDK crash test, streams (DESIGN.md "Streams"): the platform's and the creator's HubClients, real child
// processes, are SIGKILLed mid-stream at their durable writes (host/crash-points.ts):
//   payer: stream:tick (the tick written before its payment begins; its paid mark), and
//          persist:remote_commitment (the tick's payment record rides there);
//   payee: persist:preimage (the batch that stores the fulfil carries the tick, its items and our signature).
// After each crash the victim restarts on the same data directory; the platform pushes the same ids
// again (it cannot know which were taken) and flushes. Then, to the msat: the creator's balance is the
// sum of every item id once (none lost, none paid twice), the platform's is its capacity minus every
// succeeded tick and its fee, and every item has one receipt that verifies offline.
import t from 'tap'
import type { ChannelInfo } from '../../client-sdk/index.ts'
import type { PaymentInfo, Page } from '../../client-sdk/listing.ts'
import { waitFor } from '../helpers/hub.ts'
import { hubAgrees, setupSdkRig } from './sdk-crash-rig.ts'
import type { SdkProcess } from './sdk-process.ts'

/** Items a round pushes: several ticks of at most 200,000 msat each (fixtures/sdk-client.ts streamPush). */
const ITEMS = 1_500
const CAPACITY_MSAT = 1_000_000_000
const amountOf = (i: number): number => 1 + i % 997
/** Items that always fit one tick: at most 150 × 997 msat < 200,000 msat. */
const FIRST_TICK_ITEMS = 150

const channel = async (p: SdkProcess): Promise<ChannelInfo> => (await p.call<ChannelInfo[]>('channels'))[0]!

t.test('SDK crash: payer and payee SIGKILLed mid-stream at their durable writes; no item lost or paid twice', async t => {
  const rig = await setupSdkRig(t)
  const { payer, payee } = rig
  let round = 0
  let expectedMsat = 0

  const check = async (what: string): Promise<void> => {
    await waitFor(async () => (await channel(payer)).settled && (await channel(payee)).settled, 'both channels settled')
    t.equal((await channel(payee)).localMsat, expectedMsat, `${what}: creator balance = every item once, to the msat`)
    let paid = 0
    let cost = 0
    let cursor: string | undefined
    do {
      const page: Page<PaymentInfo> = await payer.call('listPayments', { limit: 500, status: 'succeeded', ...(cursor ? { cursor } : {}) })
      for (const p of page.items) { paid += p.amountMsat; cost += p.amountMsat + p.feeMsat }
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    t.equal(paid, expectedMsat, `${what}: the platform's succeeded ticks pay exactly the items`)
    t.equal((await channel(payer)).localMsat, CAPACITY_MSAT - cost, `${what}: platform balance = capacity − ticks − fees`)
    const r = await payer.call<{ verified: number; distinct: number }>('streamReceipts', { payee: payee.nodeId })
    t.same(r, { verified: round * ITEMS, distinct: round * ITEMS }, `${what}: one verified receipt per item`)
  }

  const push = (p: SdkProcess, from: number, to = from + ITEMS): Promise<unknown> =>
    p.call('streamPush', { payee: payee.nodeId, from, to })

  for (const crashAt of ['after:stream:tick:1', 'before:stream:tick:2', 'after:stream:tick:3', 'after:persist:remote_commitment:2']) {
    const from = round * ITEMS
    round++
    await payer.restart({ SDK_CRASH_AT: crashAt })
    await push(payer, from).catch(() => {})
    t.equal(await payer.exited(), 'SIGKILL', `payer ${crashAt}: reached`)
    await payer.restart()
    await push(payer, from)
    await payer.call('streamFlush', { payee: payee.nodeId })
    for (let i = from; i < from + ITEMS; i++) expectedMsat += amountOf(i)
    await check(`payer ${crashAt}`)
  }

  for (const crashAt of ['before:persist:preimage:1', 'after:persist:preimage:1']) {
    const from = round * ITEMS
    round++
    await payee.restart({ SDK_CRASH_AT: crashAt })
    // One tick first (fewer than 200,000 msat of items), so the payee's first fulfil batch is the only
    // one in flight when it dies; the rest of the round's items follow once it is back.
    await push(payer, from, from + FIRST_TICK_ITEMS)
    t.equal(await payee.exited(), 'SIGKILL', `payee ${crashAt}: reached`)
    await payee.restart()
    await push(payer, from + FIRST_TICK_ITEMS, from + ITEMS)
    await payer.call('streamFlush', { payee: payee.nodeId })
    for (let i = from; i < from + ITEMS; i++) expectedMsat += amountOf(i)
    await check(`payee ${crashAt}`)
  }
  await hubAgrees(rig)
})
