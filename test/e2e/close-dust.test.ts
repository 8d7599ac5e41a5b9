// Scenario 22 with a balance below the dust limit, real everything: a creator whose whole balance is
// 8 sat. The BOLT #3 closing transaction leaves its output out, so:
//   - the creator's close() sends nothing and says which output would be trimmed, until it opts in;
//   - the hub operator's close (admin API) is refused the same way, until it opts in;
//   - the records on both sides (SDK close result, the hub's GET /closed) say what the transaction
//     on the chain pays: 0 to the creator, the 8 sat in the fee.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import { requestHubChannel, startClient, startHubPlatformCreator, waitFor, type HubProcess } from '../helpers/hub.ts'

const DUST_BALANCE_MSAT = 8_000

type Closed = {
  channel_id: string; closing_txid: string; fee_sat: number; agreed_fee_sat: number; to_local_sat: number; to_remote_sat: number;
  trimmed_local_sat: number; trimmed_remote_sat: number
}
type Row = { channel_id: string; peer: string; phase: string; local_msat: number; remote_msat: number }

async function admin<T> (hub: HubProcess, method: string, route: string, body?: unknown): Promise<{ status: number; body: T }> {
  const r = await hub.adminFetch(route, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  return { status: r.status, body: await r.json() as T }
}

t.test('scenario 22: a close that would leave out a dust output asks its initiator first; the records say what the chain pays', async t => {
  const btc = await useBtcd(t)
  const { dir, hub, platform, creator } = await startHubPlatformCreator(
    btc, t, { name: 'close-dust', hubSat: 3_000_000, platformCapacitySat: 500_000 },
  )
  const second = await startClient({ hub, btc, dataDir: path.join(dir, 'creator2'), role: 'creator' }, t)
  await requestHubChannel(btc, second)
  for (const payee of [creator, second]) {
    const r = await platform.pay((await payee.createInvoice({ amountMsat: DUST_BALANCE_MSAT })).invoice)
    t.ok(r.ok, `paid ${DUST_BALANCE_MSAT} msat`)
    await waitFor(() => payee.channels()[0]!.settled && payee.channels()[0]!.localMsat === DUST_BALANCE_MSAT, 'the payment settled')
  }

  // ── The creator starts the close ──
  const ch = creator.channels()[0]!
  const refused = await creator.close()
  t.match(
    refused, { ok: false, reason: 'dust_trim', trims: [{ channelId: ch.channelId, side: 'ours', amountSat: 8 }] },
    'close() says our 8 sat would be trimmed',
  )
  t.match(
    !refused.ok && refused.detail,
    /our 8 sat are below the dust limit of \d+ sat and would not be paid; close\(\{ allowDustTrim: true \}\)/,
  )
  t.equal(creator.channels()[0]!.phase, 'normal', 'nothing was sent: the channel is still normal')
  await t.rejects(creator.close({ allowDustTrim: 'yes' } as never), /close\.allowDustTrim: /, 'a bad option is refused naming the field')

  const done = await creator.close({ allowDustTrim: true })
  t.ok(done.ok, 'with the opt-in the channel closes')
  const result = done.ok ? done.closed[0] : undefined
  if (result === undefined) return
  await btc.mine(1)
  const tx = await btc.chain.getRawTransaction(result.closingTxid)
  const outs = tx.ok && tx.value !== null ? tx.value.tx.outputs.map(o => o.value as number) : []
  t.equal(outs.length, 1, 'the closing tx has one output: the creator\'s was left out')
  t.match(result, { localSat: 0, trimmedLocalSat: 8, remoteSat: outs[0] }, 'the SDK\'s result says what the tx pays')
  t.equal(result.feeSat, result.agreedFeeSat + 8, 'its fee is the agreed fee plus the trimmed 8 sat')
  let closed: Closed | undefined
  await waitFor(async () => {
    closed = (await admin<Closed[]>(hub, 'GET', '/closed')).body.find(c => c.channel_id === ch.channelId); return closed !== undefined
  }, 'the hub\'s close record')
  t.match(
    closed, { closing_txid: result.closingTxid, to_remote_sat: 0, trimmed_remote_sat: 8, to_local_sat: outs[0], trimmed_local_sat: 0 },
    'the hub\'s record says what the tx pays',
  )
  t.equal(closed!.fee_sat, closed!.agreed_fee_sat + 8)

  // ── The hub operator starts the close ──
  const row = (await admin<Row[]>(hub, 'GET', '/channels')).body.find(r => r.peer === second.nodeId)!
  const refusedByHub = await admin<{ error: string; trims: unknown[] }>(hub, 'POST', '/channels/close', { channel_id: row.channel_id })
  t.equal(refusedByHub.status, 409)
  t.match(refusedByHub.body, {
    error: /^dust_trim: the peer's 8 sat are below the dust limit of \d+ sat and would not be paid; send allow_dust_trim: true/,
    trims: [{ side: 'peer', amount_sat: 8 }],
  })
  t.equal((await admin<Row[]>(hub, 'GET', '/channels')).body.find(r => r.peer === second.nodeId)!.phase, 'normal', 'nothing was sent')
  const badFlag = await admin<{ error: string }>(hub, 'POST', '/channels/close', { channel_id: row.channel_id, allow_dust_trim: 1 })
  t.equal(badFlag.status, 400)
  t.match(badFlag.body.error, /^allow_dust_trim: /)
  const accepted = await admin<{ ok: boolean }>(hub, 'POST', '/channels/close', { channel_id: row.channel_id, allow_dust_trim: true })
  t.equal(accepted.status, 200)
  let closed2: Closed | undefined
  await waitFor(async () => {
    closed2 = (await admin<Closed[]>(hub, 'GET', '/closed')).body.find(c => c.channel_id === row.channel_id); return closed2 !== undefined
  }, 'the second close record')
  await btc.mine(1)
  const tx2 = await btc.chain.getRawTransaction(closed2!.closing_txid)
  const outs2 = tx2.ok && tx2.value !== null ? tx2.value.tx.outputs.map(o => o.value as number) : []
  t.same(outs2, [closed2!.to_local_sat], 'the chain pays the hub only')
  t.match(closed2, { to_remote_sat: 0, trimmed_remote_sat: 8 })
  await waitFor(() => second.closingOf(row.channel_id) !== undefined, 'the creator learned of the close')
  t.match(
    second.closingOf(row.channel_id), { localSat: 0, trimmedLocalSat: 8, closingTxid: closed2!.closing_txid },
    'the passive creator\'s record says the same',
  )
})
