// A newcomer's first app does not hang (client-sdk/README.md "Timeouts"), against a real hub process
// on a real regtest btcd:
//   - openChannel() and requestChannel() while nobody mines reject with funding_not_confirmed, saying
//     how many confirmations they wait for and that the tip stands still; the channel goes on and is
//     ready once blocks come;
//   - close() and untilReestablished() while the hub is down reject with what they waited for; the close
//     goes on once the hub is back.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, mineTx, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { ClientError } from '../../client-sdk/index.ts'

const FUNDING_WAIT = new RegExp(
  '^waiting for 1 confirmation of the funding [0-9a-f]{64}:\\d+ of channel [0-9a-f]{64}, chain tip \\d+ has not moved for 3 s — on ' +
  'regtest, mine blocks$',
)

async function failure (p: Promise<unknown>): Promise<ClientError> {
  const e = await p.then(() => undefined, (x: unknown) => x)
  if (!(e instanceof ClientError)) throw new Error(`expected a ClientError, got ${String(e)}`)
  return e
}

t.test('openChannel and requestChannel while nobody mines, close and untilReestablished while the hub is down: each says what it waited for', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('sdk-waits')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await fundHub(btc, hub, 3_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)

  // ── openChannel: the funding is broadcast, nobody mines ──
  const coin = await btc.faucet(platform.newAddress(), 600_000)
  await btc.mine(1)
  await waitFor(() => platform.wallet.utxos().some(u => u.txid === coin.txid), 'the coin in the platform wallet')
  const open = await failure(platform.openChannel({ capacitySat: 500_000, timeoutMs: 3_000 }))
  t.equal(open.operation, 'openChannel')
  t.equal(open.reason, 'funding_not_confirmed', open.message)
  t.match(open.detail, FUNDING_WAIT)
  const opening = platform.channels()[0]!
  t.equal(opening.phase, 'awaiting_funding_depth', 'the channel goes on')
  await mineTx(btc, opening.fundingTxid!)
  await waitFor(
    () => platform.channels()[0]!.phase === 'normal' && platform.channels()[0]!.link === 'up', 'the platform channel ready once mined',
  )

  // ── requestChannel: the hub funds, nobody mines ──
  const request = await failure(creator.requestChannel({ timeoutMs: 3_000 }))
  t.equal(request.operation, 'requestChannel')
  t.equal(request.reason, 'funding_not_confirmed', request.message)
  t.match(request.detail, FUNDING_WAIT)
  const hubFunded = creator.channels()[0]!
  const again = creator.requestChannel({ timeoutMs: 60_000 })
  await mineTx(btc, hubFunded.fundingTxid!)
  const ready = await again
  t.equal(ready.channelId, hubFunded.channelId, 'asked again, it waited for the channel already opening')
  t.equal(creator.channels().length, 1, 'and asked for no other')

  const inv = await creator.createInvoice({ amountMsat: 50_000_000 })
  t.match(await platform.pay(inv.invoice), { ok: true }, 'the channels carry a payment')
  await waitFor(() => platform.channels()[0]!.settled, 'the payment settled')

  // ── The hub is gone ──
  await hub.kill()
  await waitFor(() => !platform.connected, 'the platform noticed')
  const back = await failure(platform.untilReestablished({ timeoutMs: 1_500 }))
  t.equal(back.reason, 'hub_unreachable')
  t.match(back.detail, new RegExp(`^not connected to ${hub.url.replace(/[.:/]/g, '\\$&')} after 1\\.5 s$`))
  const close = await failure(platform.close({ timeoutMs: 2_000 }))
  t.equal(close.operation, 'close')
  t.equal(close.reason, 'hub_not_responding', close.message)
  t.match(close.detail, new RegExp(
    "^channel [0-9a-f]{64}: waiting for the hub's shutdown for 2 s \\(not connected to the hub\\); the close goes on when the hub answers$",
  ))

  // ── The hub is back: the close goes on ──
  await hub.restart()
  await platform.untilReestablished({ timeoutMs: 60_000 })
  await waitFor(() => platform.closingOf(opening.channelId) !== undefined, 'the closing transaction agreed once the hub is back')
  t.pass('the close completed after the hub came back')
})
