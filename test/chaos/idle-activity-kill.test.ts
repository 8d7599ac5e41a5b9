// A channel's last activity height survives a SIGKILL of the hub (hub/settlement/activity.ts): it rides
// in the channel's own durable writes, so after the restart an idle channel is as idle as before it,
// and the first window end after the restart closes it (a hub that counted from its restart would wait
// close_idle_blocks more). Real btcd, the hub process (SIGKILLed, restarted on its data directory), an
// SDK client.
import t from 'tap'
import { tipHeight, useBtcd } from '../helpers/btcd.ts'
import { waitFor } from '../helpers/hub.ts'
import { KEEP_SAT, setting, settlement } from '../e2e/settlement/fixture.ts'

const WINDOW = 10
const IDLE_BLOCKS = 3

t.test('chaos: after a SIGKILL the hub still knows how long a channel was idle, and closes it at the next window', async t => {
  const btc = await useBtcd(t)
  const { hub, creators } = await setting(btc, t, {
    name: 'chaos-idle-activity', creators: 1,
    settlement: {
      windowBlocks: WINDOW, policy: { minThresholdSat: 10_000, minIntervalBlocks: 1, maxKeepSat: 1_000_000, minCloseIdleBlocks: 1 },
    },
  })
  const c = creators[0]!
  // The creator's last payment is at or before this height.
  const paidBy = await tipHeight(btc)
  let end = paidBy + (WINDOW - (paidBy % WINDOW))
  if (end - paidBy < IDLE_BLOCKS + 2) end += WINDOW
  await btc.mine(end - 1 - paidBy)
  await waitFor(async () => (await settlement(hub)).height === end - 1, 'the hub at the block before the window')

  await hub.kill()
  await hub.restart()
  await waitFor(() => c.client.connected && c.client.channels()[0]!.settled, 'the creator reconnected', 60_000)
  await c.client.setPayoutPolicy({
    address: c.address, thresholdSat: 5_000_000, intervalBlocks: 1, keepSat: KEEP_SAT, closeIdleBlocks: IDLE_BLOCKS,
  })
  const closing = hub.waitLine(l => l.event === 'idle_close_started' && l.channel_id === c.channelId, 60_000)
  await btc.mine(1)
  const line = await closing
  t.equal(line.height, end, 'closed at the first window end after the restart, one block after it')
  t.ok((line.idle_blocks as number) >= end - paidBy, `idle since the payment before the kill (${String(line.idle_blocks)} blocks)`)
  await waitFor(async () => (await settlement(hub)).last_closes.some((x: any) => x.channel_id === c.channelId && x.stage === 'agreed'),
    'the close agreed', 60_000)
  t.pass('closed cooperatively')
})
