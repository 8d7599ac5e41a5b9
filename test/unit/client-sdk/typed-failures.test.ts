// openChannel() and requestChannel() reject with a typed ClientError (client-sdk/errors.ts): a reason
// from a closed set the caller branches on, the detail, and the typed failure underneath — never a
// bare Error whose message is the only clue.
import t from 'tap'
import { ClientError, CLIENT_FAILURE_REASONS } from '../../../client-sdk/index.ts'
import { FakeHub } from './fixtures/fake-hub.ts'

t.test('openChannel with an empty wallet: ClientError insufficient_funds, with the wallet\'s error underneath', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client()
  t.teardown(() => client.stop())
  const failed = await client.openChannel({ capacitySat: 100_000 }).then(() => undefined, (e: unknown) => e)
  t.ok(failed instanceof ClientError, `rejects with a ClientError (${String(failed)})`)
  const e = failed as ClientError
  t.equal(e.operation, 'openChannel', 'naming the call')
  t.equal(e.reason, 'insufficient_funds', 'the reason says what to do: fund the wallet')
  t.match(e.cause, { kind: 'insufficient_funds', available: 0 }, 'the wallet\'s typed error is kept')
  t.match(
    e.detail,
    /^cannot fund the channel: the wallet has 0 sat spendable and the funding needs \d+ sat \(the capacity and the fee\): fund it/,
    `the detail says it in words, with units (${e.detail})`,
  )
  t.ok(CLIENT_FAILURE_REASONS.includes(e.reason), 'a reason of the closed set')
})

t.test('requestChannel refused by the hub: ClientError hub_refused, with the hub\'s words as the detail', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client()
  t.teardown(() => client.stop())
  const asked = client.requestChannel({ capacitySat: 100_000 }).then(() => undefined, (e: unknown) => e)
  hub.refuse('too_many_unconfirmed_channels: try again later')
  const failed = await asked
  t.ok(failed instanceof ClientError, `rejects with a ClientError (${String(failed)})`)
  const e = failed as ClientError
  t.equal(e.operation, 'requestChannel', 'naming the call')
  t.equal(e.reason, 'hub_refused', 'the reason: the hub refused')
  t.match(e.detail, /too_many_unconfirmed_channels: try again later/, 'the detail carries what the hub said')
})
