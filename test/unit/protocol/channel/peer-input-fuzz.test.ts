// Peer input never throws out of step(): messages that pass the wire schema (so they could really
// arrive) but carry mutated fields — other ids, amounts, points, signatures, secrets, scripts — are
// fed to channel states taken at every point of a payment flow. Whatever the state machine decides,
// it decides with a value; and no commitment it holds afterwards loses or creates money.
import t from 'tap'
import { fundingAsAgreed, specTotalMsat, step, type ChannelState } from '../../../../protocol/channel/index.ts'
import { decodeFrame, encodeMessage, type PeerMessage } from '../../../../protocol/wire/index.ts'
import { Pair, rng, type Party } from './fixtures/harness.ts'
import { PAYMENT_FLOW, reversed } from './fixtures/flow.ts'

const ITERATIONS = 3000

// States of both parties at every point of two flows, and every message either party sent.
const p = new Pair({ seed: 121 })
p.open()
const states: Array<{ party: Party; state: ChannelState }> = []
for (const a of [...PAYMENT_FLOW, ...reversed(PAYMENT_FLOW)]) {
  a.run(p)
  states.push({ party: p.a, state: p.a.state }, { party: p.b, state: p.b.state })
}
p.add(p.a, 2_000_000); p.sign(p.a); p.flush()
p.run(p.a, { kind: 'command', cmd: { type: 'update_fee', feeratePerKw: 1000 } })
p.disconnect(); p.reconnect()
states.push({ party: p.a, state: p.a.state }, { party: p.b, state: p.b.state }) // waiting for channel_reestablish
p.flush()
p.run(p.b, { kind: 'command', cmd: { type: 'shutdown' } })
states.push({ party: p.a, state: p.a.state }, { party: p.b, state: p.b.state })
p.settle(); p.flush()
// And the establishment phases of a second channel.
const q = new Pair({ seed: 123 })
states.push({ party: q.a, state: q.a.state }) // awaiting accept_channel
q.flush()
states.push({ party: q.b, state: q.b.state }) // awaiting funding_created
q.run(q.a, { kind: 'command', cmd: { type: 'funding_built', txid: '34'.repeat(32) as never, outputIndex: 1 } })
states.push({ party: q.a, state: q.a.state }) // awaiting funding_signed
q.flush()
states.push({ party: q.a, state: q.a.state }, { party: q.b, state: q.b.state }) // awaiting depth / channel_ready
q.run(q.a, { kind: 'chain', event: fundingAsAgreed(q.a.state.setup, 3) })
q.run(q.b, { kind: 'chain', event: fundingAsAgreed(q.b.state.setup, 3) })
q.flush()
const messages: PeerMessage[] = [...p.a.sent, ...p.b.sent, ...q.a.sent, ...q.b.sent]

const r = rng(122)
const hex = (bytes: number): string => Array.from(r.bytes(bytes), b => b.toString(16).padStart(2, '0')).join('')

function mutateValue (v: unknown): unknown {
  if (typeof v === 'number') return r.pick([0, 1, v + 1, v - 1, v * 2, Number.MAX_SAFE_INTEGER, r.int(1000), r.int(2 ** 32)])
  if (typeof v === 'string' && /^[0-9a-f]*$/.test(v) && v.length % 2 === 0) {
    if (v.length === 66) return r.pick(['02', '03']) + hex(32) // a point, often not on the curve
    return r.chance(0.5) ? hex(v.length / 2) : v.slice(0, -2) + hex(1)
  }
  if (Array.isArray(v)) return r.pick([[], [...v, ...v], v.slice(1), v.map(mutateValue)])
  if (v !== null && typeof v === 'object') return mutate(v as Record<string, unknown>)
  return v
}
function mutate (m: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(m).filter(k => k !== 'type' && k !== 'channel_id' && k !== 'temporary_channel_id')
  if (keys.length === 0) return m
  const out = { ...m }
  for (let n = 1 + r.int(2); n > 0; n--) { const k = r.pick(keys); out[k] = mutateValue(out[k]) }
  return out
}

t.test(`${ITERATIONS} schema-valid mutated messages never throw out of step()`, t => {
  let accepted = 0
  let stepped = 0
  for (let i = 0; i < ITERATIONS; i++) {
    const base = r.pick(states)
    const original = r.pick(messages)
    const candidate = r.chance(0.1) ? original : mutate(original as unknown as Record<string, unknown>)
    // Only what could really arrive: the frame must pass the wire schema.
    const decoded = decodeFrame(encodeMessage(candidate as unknown as PeerMessage, { validate: false }))
    if (!decoded.ok) continue
    accepted++
    const msg = {
      ...decoded.value,
      ...('channel_id' in decoded.value ? { channel_id: base.state.channelId } : {}),
      ...('temporary_channel_id' in decoded.value ? { temporary_channel_id: base.state.temporaryChannelId } : {}),
    } as PeerMessage
    try {
      const out = step(base.state, { kind: 'peer', msg }, base.party.signer)
      stepped++
      const cap = base.state.setup.capacitySat * 1000
      for (const spec of [out.state.localCommit?.spec, out.state.remoteCommit?.spec, out.state.nextRemoteCommit?.commit.spec]) {
        if (spec !== undefined && specTotalMsat(spec) !== cap) {
          t.fail(`${msg.type}: a commitment no longer holds the capacity`); return t.end()
        }
      }
    } catch (e) {
      t.fail(`${msg.type} threw: ${(e as Error).stack}\n${JSON.stringify(msg).slice(0, 400)}`)
      return t.end()
    }
  }
  t.ok(accepted > ITERATIONS / 3, `most mutations still pass the schema (${accepted}), so the state machine sees them`)
  t.equal(stepped, accepted)
  t.end()
})

t.test('mutated channel_reestablish against channels waiting for it never throws', t => {
  const waiting = states.filter(x => x.state.link === 'reestablishing')
  const originals = messages.filter(m => m.type === 'channel_reestablish')
  t.ok(waiting.length > 0 && originals.length > 0)
  const outcomes = new Set<string>()
  for (let i = 0; i < 500; i++) {
    const base = r.pick(waiting)
    const decoded = decodeFrame(encodeMessage(
      mutate(r.pick(originals) as unknown as Record<string, unknown>) as unknown as PeerMessage, { validate: false },
    ))
    if (!decoded.ok) continue
    const msg = { ...decoded.value, channel_id: base.state.channelId } as PeerMessage
    try {
      const out = step(base.state, { kind: 'peer', msg }, base.party.signer)
      outcomes.add(out.state.phase)
    } catch (e) {
      t.fail(`threw: ${(e as Error).message} on ${JSON.stringify(msg)}`)
      return t.end()
    }
  }
  t.ok(outcomes.has('failed') && outcomes.has('normal'), `reached several outcomes: ${[...outcomes].join(', ')}`)
  t.end()
})
