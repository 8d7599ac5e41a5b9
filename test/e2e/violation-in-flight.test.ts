// A violation while writes are in flight, over real sockets with the hub process: a payee that fulfils the hub's HTLC as soon
// as its update_add_htlc arrives (before it is irrevocably committed) gets a warning and is
// disconnected, although the hub has durable writes in flight at that moment, and the payer's payment
// fails back promptly — with no block mined, long before its HTLC deadline — while the hub stays up and
// nobody's channel is closed.
//
// To have the hub's writes in flight when the violation lands, the payee (an SDK client behind a
// socket wrapper) withholds its revoke_and_ack (and what follows) for payment 1; when payment 2's
// update_add_htlc arrives it sends, in one TCP write, everything it withheld and a forged
// update_fulfill_htlc for payment 2. The hub steps the revoke_and_ack (its revocation write starts),
// then the fulfil. Afterwards the payee behaves: it reconnects and payment 1 completes.
import t from 'tap'
import path from 'node:path'
import type { Socket } from 'node:net'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { type SocketFactory, type SocketLike } from '../../client-sdk/transport/socket.ts'
import { wsSocketFactory } from '../../client-sdk/node/socket.ts'
import { admin } from './monitor/helpers.ts'

interface Fulfiller {
  factory: SocketFactory
  /** From now on: withhold the next revoke_and_ack and everything after it, until an update_add_htlc arrives. */
  arm (): void
  readonly withholding: boolean
  readonly fired: boolean
  /** Frames from the hub since arm(). */
  readonly received: Array<Record<string, unknown>>
  /** Close codes of the connections. */
  readonly closes: number[]
}

function fulfiller (): Fulfiller {
  let state: 'honest' | 'armed' | 'withholding' | 'fired' = 'honest'
  const held: string[] = []
  const received: Array<Record<string, unknown>> = []
  const closes: number[] = []
  const parse = (data: unknown): Record<string,
  unknown> => { try { return JSON.parse(String(data)) as Record<string, unknown> } catch { return {} } }
  const factory: SocketFactory = async url => {
    const ws = await wsSocketFactory(url) as SocketLike & { _socket?: Socket }
    ws.addEventListener('close', ev => { closes.push(ev.code) })
    const wrapped: SocketLike = {
      get readyState () { return ws.readyState },
      get bufferedAmount () { return ws.bufferedAmount },
      send (data: string) {
        if (state === 'armed' && parse(data).type === 'revoke_and_ack') state = 'withholding'
        if (state === 'withholding') { held.push(data); return }
        ws.send(data)
      },
      close: (code?: number, reason?: string) => ws.close(code, reason),
      addEventListener (type: string, fn: (ev: never) => void) {
        if (type !== 'message') { (ws.addEventListener as (t: string, f: unknown) => void)(type, fn); return }
        ws.addEventListener('message', (ev: { data: unknown }) => {
          const m = parse(ev.data)
          if (state !== 'honest') received.push(m)
          if (state === 'withholding' && m.type === 'update_add_htlc') {
            // One TCP write: what we withheld, then a fulfil of the HTLC that just arrived.
            ws._socket?.cork()
            for (const f of held.splice(0)) ws.send(f)
            ws.send(JSON.stringify({ type: 'update_fulfill_htlc', channel_id: m.channel_id, id: m.id, payment_preimage: '00'.repeat(32) }))
            ws._socket?.uncork()
            state = 'fired'
          }
          ;(fn as (e: { data: unknown }) => void)(ev)
        })
      },
    } as SocketLike
    return wrapped
  }
  return {
    factory,
    arm () { state = 'armed' },
    get withholding () { return state === 'withholding' },
    get fired () { return state === 'fired' },
    received,
    closes,
  }
}

t.test('e2e: a payee fulfils before the HTLC is committed, with hub writes in flight: warned, disconnected, the payment fails back promptly', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-violation')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await fundHub(btc, hub, 2_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', payTimeoutMs: 120_000 }, t)
  const sw = fulfiller()
  const payee = await startClient({ hub, btc, dataDir: path.join(dir, 'payee'), role: 'creator', socketFactory: sw.factory }, t)
  await openFundedChannel(btc, platform, 500_000)
  await requestHubChannel(btc, payee)
  const tip0 = await btc.chain.tip()
  const heightBefore = tip0.ok ? tip0.value.height : -1

  const amount1 = 21_000_000
  const amount2 = 34_000_000
  const inv1 = await payee.createInvoice({ amountMsat: amount1, memo: 'one' })
  const inv2 = await payee.createInvoice({ amountMsat: amount2, memo: 'two' })
  sw.arm()
  const pay1 = platform.pay(inv1.invoice)
  await waitFor(() => sw.withholding, 'the payee withholding its revoke_and_ack for payment 1')
  const pay2 = await platform.pay(inv2.invoice)
  t.ok(sw.fired, 'the payee sent its fulfil as soon as payment 2\'s update_add_htlc arrived')
  t.same([pay2.ok, pay2.ok ? '' : pay2.reason], [false, 'temporary_channel_failure'], 'payment 2 failed back to the payer')
  const tip1 = await btc.chain.tip()
  t.equal(tip1.ok ? tip1.value.height : -2, heightBefore, 'promptly: no block was mined, no HTLC deadline came near')

  const warning = sw.received.find(m => m.type === 'warning')
  t.ok(
    typeof warning?.data === 'string' && warning.data.startsWith('unknown_htlc:'),
    `the hub warned the payee: ${String(warning?.data).slice(0, 80)}`,
  )
  await waitFor(() => sw.closes.length > 0, 'the hub closing the payee\'s connection')
  t.pass(`and closed the connection (code ${sw.closes[0]})`)

  const r1 = await pay1
  t.ok(r1.ok, `payment 1 completes after the payee reconnects${r1.ok ? '' : ` (${r1.reason})`}`)
  await waitFor(() => platform.channels()[0]!.settled && payee.channels()[0]!.settled, 'both channels settled')
  t.equal(payee.channels()[0]!.localMsat, amount1, 'the payee holds payment 1, to the msat, and nothing of payment 2')
  const fee1 = r1.ok ? r1.feeMsat : 0
  t.equal(platform.channels()[0]!.remoteMsat, amount1 + fee1, 'the payer paid payment 1 and its fee only')
  const channels = await admin(hub, '/channels')
  const phases = (channels.body as Array<{ phase: string }>).map(c => c.phase)
  t.same(phases, ['normal', 'normal'], 'no channel was closed')
  t.equal(hub.lines.filter(l => l.event === 'fatal').length, 0, 'the hub stayed up')
})
