// Every limit, pushed one past its edge by an attacker over the hub's real protocol with a real btcd
// (BOLT #2 update_add_htlc / update_fee receiver rules, the hub's own policy, the wire schemas):
//   - disconnect-class (raw messages its machine would never send): amount below htlc_minimum_msat,
//     one HTLC more than max_accepted_htlcs, more than max_htlc_value_in_flight_msat, the sender's
//     reserve, the commitment fee above the reserve, cltv_expiry ≥ 500000000, update_fee below the floor
//     or above the ceiling, update_fee from the side that does not pay the fee: a warning naming the
//     rule, a disconnect, nothing applied (the channel at the hub exactly as before, and heals);
//   - policy (valid, but the hub will not take it): an expiry too soon or too far, dust beyond
//     max_dust_htlc_exposure_msat: accepted into the commitment, then failed back with the reason, never
//     forwarded; the attacker's balance comes back to the msat;
//   - the wire: amounts past 2^53, negative, fractional, as strings; metadata and text past their
//     limits; a frame past 64 KiB: refused before any channel sees them, the field named.
// Throughout: the hub stays up, the honest platform and creator are untouched and keep paying.
import t, { type Test } from 'tap'
import path from 'node:path'
import {
  MAX_FRAME_BYTES, MAX_INVOICE_CHARS, MAX_REFERENCE_CHARS, FEERATE_PER_KW_FLOOR, DEFAULT_MAX_FEERATE_PER_KW, CLTV_EXPIRY_LIMIT,
  DEFAULT_MAX_DUST_EXPOSURE_MSAT,
} from '../../protocol/limits.ts'
import type { PeerMessage } from '../../protocol/wire/index.ts'
import type { Msat } from '../../protocol/types.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, randomKey, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { nodeIdOf } from '../../protocol/auth/signature.ts'
import { Attacker, until, type AttackerChannel } from './fixtures/attacker.ts'
import { honestParties } from './fixtures/honest.ts'
import { hubChannels } from './fixtures/hub-view.ts'
import { tipHeight } from './fixtures/chain-view.ts'

const MAX_ACCEPTED = 12
const HTLC_MINIMUM_MSAT = 1_000
const CAPACITY = 400_000

const btc = await useBtcd(t)
const dir = tempDir('adv-limits')
const hub = await startHub({
  dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc,
  config: { channels: { maxAcceptedHtlcs: MAX_ACCEPTED, htlcMinimumMsat: HTLC_MINIMUM_MSAT } },
}, t)
await fundHub(btc, hub, 3_000_000)
const honest = await honestParties(btc, hub, dir, t)
let height = await tipHeight(btc)
// Its machine will send dust past the hub's cap (an honest machine stops at its own).
const attacker = await Attacker.connect(hub, { height: () => height, machinePolicy: { maxDustExposureMsat: 1_000_000_000_000 as Msat } })
const payeeId = await Attacker.connect(hub, { height: () => height })
t.teardown(() => { attacker.close(); payeeId.close() })
const ch = await attacker.fundedChannel(btc, CAPACITY)
const payee = await payeeId.hubFundedChannel(btc)
height = await tipHeight(btc)
/** A node id with no channel at the hub: HTLCs for it that the hub accepts fail with unknown_next_peer. */
const nobody = nodeIdOf(randomKey())

/** The attacker channel as the hub holds it: balances, HTLCs, commitment numbers. */
async function atHub (c: AttackerChannel): Promise<unknown> {
  const r = (await hubChannels(hub)).find(x => x.channel_id === c.channelId)!
  return {
    phase: r.phase, local: r.local_msat, remote: r.remote_msat, htlcs: r.htlcs, li: r.local_commitment_index, ri: r.remote_commitment_index,
  }
}

const add = (o: { id?: number; amount: number; cltv?: number }): PeerMessage => ({
  type: 'update_add_htlc', channel_id: ch.channelId, id: o.id ?? ch.state.nextLocalHtlcId, amount_msat: o.amount as Msat,
  payment_hash: '5a'.repeat(32), cltv_expiry: (o.cltv ?? height + 100) as never, recipient: nobody,
})

/** Sends `msgs` in one burst on `on`'s channel; expects a warning matching `expect` and a disconnect,
 *  then reconnects honestly: the channel at the hub is exactly as before, and heals. */
async function violation (t: Test, msgs: PeerMessage[], expect: RegExp, who: [Attacker, AttackerChannel] = [attacker, ch]): Promise<void> {
  const [a, c] = who
  await waitFor(() => c.settled, 'settled')
  const before = await atHub(c)
  const honestBefore = await honest.view()
  const seen = c.notices().length
  for (const m of msgs) a.send(m)
  await until(() => c.notices().length > seen, 'the hub\'s answer')
  t.match(c.notices()[seen], expect, 'a warning naming the rule')
  await a.untilDisconnected()
  await a.reconnect()
  await waitFor(() => c.settled, 'the channel reestablished')
  t.same(await atHub(c), before, 'nothing applied: the channel at the hub is exactly as before')
  await honest.untouched(t, honestBefore, 'after the violation')
}

t.test(`recv update_add_htlc (amount below htlc_minimum_msat ${HTLC_MINIMUM_MSAT}) on own channel`, async t => {
  await violation(t, [add({ amount: HTLC_MINIMUM_MSAT - 1 })], /^warning: amount_below_minimum: amount_msat 999 < htlc_minimum_msat 1000/)
})

t.test(`recv update_add_htlc (one more than max_accepted_htlcs ${MAX_ACCEPTED}) on own channel`, async t => {
  const first = ch.state.nextLocalHtlcId
  await violation(
    t, Array.from({ length: MAX_ACCEPTED + 1 }, (_, i) => add({ id: first + i, amount: 10_000_000 })),
    /^warning: too_many_htlcs: 13 HTLCs > max_accepted_htlcs 12/,
  )
})

t.test('recv update_add_htlc (more than max_htlc_value_in_flight_msat) on own channel', async t => {
  await violation(t, [add({ amount: CAPACITY * 1000 + 1 })], /^warning: max_in_flight: \d+ msat in flight > max_htlc_value_in_flight_msat/)
})

t.test('recv update_add_htlc (below the sender\'s channel reserve) on own channel', async t => {
  const reserveMsat = 1000 * Math.max(546, Math.floor(CAPACITY / 100))
  await violation(t, [add({ amount: ch.balanceMsat - reserveMsat + 1 })], /^warning: reserve: sender balance \d+ msat < channel reserve/)
})

t.test('recv update_add_htlc (the commitment fee no longer affordable above the reserve) on own channel', async t => {
  const reserveMsat = 1000 * Math.max(546, Math.floor(CAPACITY / 100))
  await violation(
    t, [add({ amount: ch.balanceMsat - reserveMsat - 1 })], /^warning: insufficient_funds: sender balance \d+ msat cannot pay fee/,
  )
})

t.test(`recv update_add_htlc (cltv_expiry ≥ ${CLTV_EXPIRY_LIMIT}) on own channel`, async t => {
  await violation(t, [add({ amount: 10_000_000, cltv: CLTV_EXPIRY_LIMIT })], /^warning: bad_cltv: cltv_expiry 500000000 ≥ 500000000/)
})

t.test(`recv update_fee (below the floor, ${FEERATE_PER_KW_FLOOR - 1} sat/kw) on own channel`, async t => {
  await violation(
    t, [{ type: 'update_fee', channel_id: ch.channelId, feerate_per_kw: FEERATE_PER_KW_FLOOR - 1 }],
    /^warning: fee_out_of_range: feerate_per_kw 252 outside/,
  )
})

t.test(`recv update_fee (above the ceiling, ${DEFAULT_MAX_FEERATE_PER_KW + 1} sat/kw) on own channel`, async t => {
  await violation(
    t, [{ type: 'update_fee', channel_id: ch.channelId, feerate_per_kw: DEFAULT_MAX_FEERATE_PER_KW + 1 }],
    /^warning: fee_out_of_range: feerate_per_kw 250001 outside/,
  )
})

t.test('recv update_fee (from the side that does not pay the fee) on a hub-funded channel', async t => {
  await violation(
    t, [{ type: 'update_fee', channel_id: payee.channelId, feerate_per_kw: 1_000 }], /^warning: fee_update_not_funder/, [payeeId, payee],
  )
})

/** Offers HTLCs through the attacker's own machine; resolves with how each ended at the attacker:
 *  the failure reason the hub gave back. */
async function offered (amounts: Array<{ amount: number; cltv: number }>): Promise<string[]> {
  await waitFor(() => ch.settled, 'settled')
  const from = ch.events.length
  const ids: number[] = []
  for (const o of amounts) {
    const before = ch.state.nextLocalHtlcId
    await ch.pay({ amountMsat: o.amount, paymentHash: '6b'.repeat(32), cltvExpiry: o.cltv, recipient: nobody })
    if (ch.state.nextLocalHtlcId === before + 1) ids.push(before)
  }
  const failed = (id: number): string | undefined => {
    const e = ch.events.slice(from).find(e => e.type === 'htlc_failed' && e.id === id);
    return e?.type === 'htlc_failed' ? e.reason : undefined
  }
  await waitFor(() => ids.every(id => failed(id) !== undefined) && ch.settled, 'every HTLC failed back', 30_000)
  return ids.map(id => failed(id)!)
}

t.test('recv update_add_htlc (cltv_expiry too soon for the hub\'s window) on own channel: committed, then failed back', async t => {
  const before = ch.balanceMsat
  t.same(
    await offered([{ amount: 10_000_000, cltv: height + 5 }]), ['expiry_too_soon'],
    'failed back: expiry_too_soon (the channel\'s minimum delta)',
  )
  t.same(
    await offered([{ amount: 10_000_000, cltv: height + 30 }]), ['expiry_too_soon'],
    'failed back: expiry_too_soon (less than the hub\'s delta + the payee\'s window)',
  )
  t.equal(ch.balanceMsat, before, 'the attacker\'s balance is back, to the msat')
  t.equal((await atHub(ch) as { htlcs: number }).htlcs, 0, 'no HTLC left at the hub')
})

t.test('recv update_add_htlc (cltv_expiry too far in the future) on own channel: committed, then failed back', async t => {
  const before = ch.balanceMsat
  t.same(
    await offered([{ amount: 10_000_000, cltv: height + 3_000 }]), ['incorrect_cltv_expiry'],
    'failed back: incorrect_cltv_expiry (beyond the hub\'s maximum delta)',
  )
  t.equal(ch.balanceMsat, before, 'the attacker\'s balance is back, to the msat')
})

t.test(`recv update_add_htlc (dust beyond max_dust_htlc_exposure_msat ${DEFAULT_MAX_DUST_EXPOSURE_MSAT}) on own channel: the excess is failed back, never forwarded`, async t => {
  const before = ch.balanceMsat
  // 700 sat HTLCs are trimmed in both commitments (below 546 sat + the HTLC-success/timeout fee):
  // 7 fit under 5,000 sat of exposure, the next 4 do not.
  const reasons = await offered(Array.from({ length: 11 }, () => ({ amount: 700_000, cltv: height + 100 })))
  t.same(reasons, [...Array(7).fill('unknown_next_peer'), ...Array(4).fill('temporary_channel_failure')],
    'the first 7 went to the router (no channel for the recipient), the 4 past the cap were failed by the channel itself')
  t.equal(ch.balanceMsat, before, 'the attacker\'s balance is back, to the msat')
})

/** A raw frame: expects a connection-level warning naming the field; nothing reaches a channel. */
async function badFrame (t: Test, text: string, expect: RegExp): Promise<void> {
  const before = await atHub(ch)
  const seen = attacker.other.length
  attacker.sendRaw(text)
  await until(() => attacker.other.slice(seen).some(m => m.type === 'warning'), 'the hub\'s warning')
  const w = attacker.other.slice(seen).find(m => m.type === 'warning')
  t.match(w?.type === 'warning' ? w.data : '', expect, 'a warning naming the field')
  t.same(await atHub(ch), before, 'nothing reached the channel')
}

const rawAdd = (amount: string, extra = ''): string =>
  `{"type":"update_add_htlc","channel_id":"${ch.channelId}","id":${ch.state.nextLocalHtlcId},"amount_msat":${amount},` +
  `"payment_hash":"${'5a'.repeat(32)}","cltv_expiry":${height + 100},"recipient":"${nobody}"${extra}}`

for (const [name, amount, expect] of [
  [
    '2^53 msat (one past the largest safe integer)', '9007199254740992',
    /^invalid_field: update_add_htlc\.amount_msat: must be an integer \(got 9007199254740992\)/,
  ],
  ['2^64 msat', '18446744073709551616', /^invalid_field: update_add_htlc\.amount_msat:/],
  ['1e400 msat', '1e400', /^invalid_field: update_add_htlc\.amount_msat:/],
  ['a negative amount', '-1000', /^invalid_field: update_add_htlc\.amount_msat: must be ≥ /],
  ['a fractional amount', '1000.5', /^invalid_field: update_add_htlc\.amount_msat: must be an integer/],
  ['an amount as a string', '"1000"', /^invalid_field: update_add_htlc\.amount_msat:/],
] as const) {
  t.test(`recv update_add_htlc (${name}) on own channel: refused at the wire`, async t => { await badFrame(t, rawAdd(amount), expect) })
}

t.test('recv update_add_htlc (metadata past its limits) on own channel: refused at the wire', async t => {
  await badFrame(
    t, rawAdd('10000', `,"metadata":{"reference":"${'r'.repeat(MAX_REFERENCE_CHARS + 1)}"}`),
    /^invalid_field: update_add_htlc\.metadata\.reference: must be at most 128 characters/,
  )
  await badFrame(
    t, rawAdd('10000', `,"metadata":{"invoice":"${'q'.repeat(MAX_INVOICE_CHARS + 1)}"}`),
    /^invalid_field: update_add_htlc\.metadata\.invoice: must be at most 2048 characters/,
  )
  await badFrame(t, rawAdd('10000', ',"metadata":{"owner":"mallory"}'), /^invalid_field: update_add_htlc\.metadata/)
  await badFrame(
    t, `{"type":"error","channel_id":"${ch.channelId}","data":"${'e'.repeat(1_025)}"}`,
    /^invalid_field: error\.data: must be at most 1024 characters/,
  )
})

t.test('a frame past 64 KiB is refused before it is parsed: the connection closes with 1009', async t => {
  const honestBefore = await honest.view()
  attacker.sendRaw(JSON.stringify({ type: 'warning', channel_id: '00'.repeat(32), data: 'x'.repeat(MAX_FRAME_BYTES) }))
  t.equal(await attacker.untilDisconnected(), 1009, 'closed: message too big')
  await attacker.reconnect()
  await waitFor(() => ch.settled, 'the channel reestablished')
  await honest.untouched(t, honestBefore, 'after the frame')
  await honest.pays(t, 'after every limit')
  t.equal(hub.lines.filter(l => l.event === 'fatal').length, 0, 'the hub stays up')
})
