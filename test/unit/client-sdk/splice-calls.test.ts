// spliceOut(), spliceIn(), spliceRbf() and untilSpliceLocked() at the SDK's boundary: a bad argument is a TypeError
// naming the field, before anything is sent; a splice with no channel to splice is a ClientError
// (no_channel) of the closed set. The splices themselves run in test/unit/host/channel/splicing.test.ts
// and test/e2e/splice/.
import t from 'tap'
import { ClientError, CLIENT_FAILURE_REASONS } from '../../../client-sdk/index.ts'
import { FakeHub } from './fixtures/fake-hub.ts'

/** A regtest address (P2WPKH), and the same key's mainnet one. */
const REGTEST = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'
const MAINNET = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'

t.test('spliceOut / spliceIn / spliceRbf / untilSpliceLocked: a bad argument is a TypeError naming the field', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client()
  t.teardown(() => client.stop())
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['amount zero', () => client.spliceOut({ amountSat: 0, address: REGTEST }), /^spliceOut\.amountSat: /],
    ['amount not an integer', () => client.spliceOut({ amountSat: 1.5, address: REGTEST }), /^spliceOut\.amountSat: must be an integer/],
    [
      'a mainnet address', () => client.spliceOut({ amountSat: 10_000, address: MAINNET }),
      /^spliceOut\.address: must be a regtest address/,
    ],
    ['no address', () => client.spliceOut({ amountSat: 10_000 } as never), /^spliceOut\.address: /],
    [
      'feerate below the floor', () => client.spliceOut({ amountSat: 10_000, address: REGTEST, feerateSatPerKw: 100 }),
      /^spliceOut\.feerateSatPerKw: /,
    ],
    ['timeout too short', () => client.spliceOut({ amountSat: 10_000, address: REGTEST, timeoutMs: 5 }), /^spliceOut\.timeoutMs: /],
    ['unknown field', () => client.spliceOut({ amountSat: 10_000, address: REGTEST, colour: 'red' } as never), /spliceOut.*colour/],
    [
      'channel id not hex', () => client.spliceIn({ amountSat: 10_000, channelId: 'zz' }),
      /^spliceIn\.channelId: must be 32 bytes of lowercase hex/,
    ],
    ['spliceIn above the largest channel', () => client.spliceIn({ amountSat: 2 ** 24 }), /^spliceIn\.amountSat: /],
    ['txid not hex', () => client.untilSpliceLocked({ txid: 'abc' }), /^untilSpliceLocked\.txid: must be 32 bytes of lowercase hex/],
    [
      'spliceRbf txid not hex', () => client.spliceRbf({ txid: 'ABC', feerateSatPerKw: 2_000 }),
      /^spliceRbf\.txid: must be 32 bytes of lowercase hex/,
    ],
    ['spliceRbf without a feerate', () => client.spliceRbf({ txid: '22'.repeat(32) } as never), /^spliceRbf\.feerateSatPerKw: /],
    [
      'spliceRbf feerate not an integer', () => client.spliceRbf({ txid: '22'.repeat(32), feerateSatPerKw: 1_000.5 }),
      /^spliceRbf\.feerateSatPerKw: must be an integer/,
    ],
    [
      'spliceRbf feerate above the most', () => client.spliceRbf({ txid: '22'.repeat(32), feerateSatPerKw: 10 ** 9 }),
      /^spliceRbf\.feerateSatPerKw: /,
    ],
    [
      'spliceRbf unknown field', () => client.spliceRbf({ txid: '22'.repeat(32), feerateSatPerKw: 2_000, amountSat: 1 } as never),
      /spliceRbf.*amountSat/,
    ],
  ]
  for (const [name, call, re] of cases) await t.rejects(call(), { name: 'TypeError', message: re }, name)
})

t.test('a splice with no open, connected channel: ClientError no_channel', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client()
  t.teardown(() => client.stop())
  for (const [operation, call] of [
    ['spliceOut', () => client.spliceOut({ amountSat: 10_000, address: REGTEST })],
    ['spliceIn', () => client.spliceIn({ amountSat: 10_000 })],
    ['spliceIn', () => client.spliceIn({ amountSat: 10_000, channelId: '11'.repeat(32) })],
    ['untilSpliceLocked', () => client.untilSpliceLocked({ txid: '22'.repeat(32) })],
    ['spliceRbf', () => client.spliceRbf({ txid: '22'.repeat(32), feerateSatPerKw: 2_000 })],
  ] as const) {
    const e = await call().then(() => undefined, (x: unknown) => x)
    t.ok(e instanceof ClientError, `${operation} rejects with a ClientError (${String(e)})`)
    t.match(e, { operation, reason: 'no_channel' })
    t.ok(CLIENT_FAILURE_REASONS.includes((e as ClientError).reason), 'a reason of the closed set')
  }
})

t.test('splice refusals and waits on a live channel: typed ClientErrors saying what happened or what was awaited', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client()
  t.teardown(() => client.stop())
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 200_000_000 })

  const over = await client.spliceOut({ amountSat: 300_000, address: REGTEST }).then(() => undefined, (x: unknown) => x)
  t.match(over, { operation: 'spliceOut', reason: 'splice_refused', cause: { reason: 'splice_contribution_exceeds_balance' } },
    'more than our balance: refused by the channel\'s rule, nothing sent')
  t.notOk(hub.events.some(e => e.type === 'splice_requested'), 'the hub heard nothing of it')

  const empty = await client.spliceIn({ amountSat: 50_000 }).then(() => undefined, (x: unknown) => x)
  t.match(empty, { operation: 'spliceIn', reason: 'insufficient_funds', cause: { kind: 'insufficient_funds', availableSat: 0 } },
    'a splice-in with an empty wallet')

  // This hub never answers a splice_init: the wait ends with what it waited for.
  const silent = await client.spliceOut({ amountSat: 50_000, address: REGTEST, timeoutMs: 500 }).then(() => undefined, (x: unknown) => x)
  t.match(silent, { operation: 'spliceOut', reason: 'hub_not_responding' })
  t.match((silent as ClientError).detail, /waiting for the hub's splice_ack for 0\.5 s/, `the detail names the message (${String(silent)})`)
  t.ok(hub.events.some(e => e.type === 'splice_requested'), 'the hub was asked')

  // It refuses the next one: tx_abort, with its reason.
  hub.events.length = 0
  await hub.driver!.command({ type: 'splice_reject', reason: 'still thinking' })
  await new Promise(resolve => setTimeout(resolve, 50))
  const aborted = client.spliceOut({ amountSat: 50_000, address: REGTEST, timeoutMs: 5_000 }).then(() => undefined, (x: unknown) => x)
  for (let i = 0; i < 1000 && !hub.events.some(e => e.type === 'splice_requested'); i++) await new Promise(resolve => setImmediate(resolve))
  await hub.driver!.command({ type: 'splice_reject', reason: 'no splices today' })
  t.match(await aborted, { operation: 'spliceOut', reason: 'splice_aborted', detail: /the hub ended the splice: .*no splices today/ },
    'refused by the hub: splice_aborted with the hub\'s reason')
})
