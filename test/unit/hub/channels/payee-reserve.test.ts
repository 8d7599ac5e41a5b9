// The reserve the hub asks of a payee on a channel it funds (hub/channels/manager.ts limits, config
// hubFunded.payeeReserveSat): channels.reservePercent of the capacity, at most payeeReserveSat, never
// below the dust limits (BOLT #2: the open_channel sender "MUST set `channel_reserve_satoshis`
// greater than or equal to `dust_limit_satoshis`"). A channel the peer funds keeps the percentage. The
// config refuses a payee reserve below the hub's dust limit, naming the field. In-process
// (../fixtures/hub-harness.ts): what the hub puts in its open_channel and accept_channel.
import t from 'tap'
import type { OpenChannel, PeerMessage } from '../../../../protocol/wire/index.ts'
import { parseHubConfig } from '../../../../hub/config.ts'
import { Client, InProcessHub } from '../fixtures/hub-harness.ts'

const SIZE = 100_000

/** The channel_reserve_satoshis of the open_channel the hub sends when it funds a channel of `sat`. */
async function payeeReserve (config: Record<string, unknown>, sat = SIZE): Promise<number> {
  const hub = new InProcessHub(config)
  await hub.start()
  const payee = new Client()
  hub.connect(payee)
  await hub.manager.openTo(payee.nodeId, sat)
  const open = payee.received.find((m: PeerMessage): m is OpenChannel => m.type === 'open_channel')
  if (open === undefined || open.funding_satoshis !== sat) throw new Error(`no open_channel of ${sat} sat`)
  return open.channel_reserve_satoshis
}

t.test('the payee reserve of a hub-funded channel: the percentage, at most payeeReserveSat, never below the dust limit', async t => {
  t.equal(await payeeReserve({}), 1_000, 'by default 1% of the capacity')
  t.equal(await payeeReserve({ hubFunded: { payeeReserveSat: 600 } }), 600, 'payeeReserveSat below 1%: that')
  t.equal(await payeeReserve({ hubFunded: { payeeReserveSat: 546 } }), 546, '… down to the hub\'s dust limit')
  t.equal(await payeeReserve({ hubFunded: { payeeReserveSat: 5_000 } }), 1_000, 'above 1%: the percentage (it is a cap)')
  t.equal(await payeeReserve({ hubFunded: { payeeReserveSat: 600 } }, 20_000), 546, 'a 20,000 sat channel: 1% is dust, the dust limit')
  t.equal(
    await payeeReserve({ channels: { dustLimitSat: 354 }, hubFunded: { payeeReserveSat: 354 } }), 354,
    'with the least dust limit BOLT #2 allows, the least reserve: 354 sat',
  )
})

t.test('a channel the peer funds keeps the percentage, whatever payeeReserveSat says', async t => {
  const hub = new InProcessHub({ hubFunded: { payeeReserveSat: 546 } })
  await hub.start()
  const platform = new Client()
  hub.connect(platform)
  await platform.open(hub, 1_000_000, 0)
  const accept = platform.received.find(m => m.type === 'accept_channel')
  t.equal(accept?.type === 'accept_channel' ? accept.channel_reserve_satoshis : undefined, 10_000, '1% of 1,000,000 sat')
})

t.test('the config refuses a payee reserve below the dust limit, naming the field', async t => {
  const refused = (input: unknown): string => { const r = parseHubConfig(input); return r.ok ? 'accepted' : r.error }
  t.match(
    refused({ dataDir: '/d', hubFunded: { payeeReserveSat: 400 } }), /hubFunded\.payeeReserveSat: must be at least channels\.dustLimitSat/,
  )
  t.match(refused({ dataDir: '/d', hubFunded: { payeeReserveSat: 0 } }), /hubFunded\.payeeReserveSat/)
  t.match(refused({ dataDir: '/d', channels: { dustLimitSat: 354 }, hubFunded: { payeeReserveSat: 353 } }), /hubFunded\.payeeReserveSat/)
  t.match(refused({ dataDir: '/d', hubFunded: { payeeReserveSat: 546.5 } }), /hubFunded\.payeeReserveSat: must be an integer/)
  t.equal(refused({ dataDir: '/d', hubFunded: { payeeReserveSat: 546 } }), 'accepted')
})
