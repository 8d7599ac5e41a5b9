// decode(encode(m)) is m for every message: the fixture of each type, the same without its optional
// fields, and random valid messages of every type.
import t from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { decodeFrame, encodeMessage, MESSAGE_TYPES, type PeerMessage } from '../../../../protocol/wire/index.ts'
import { fieldsOf, messageArb, SAMPLES } from './samples.ts'

function roundTrip (m: PeerMessage): unknown {
  const r = decodeFrame(encodeMessage(m))
  return r.ok ? r.value : r.error
}

for (const type of MESSAGE_TYPES) {
  t.test(`${type}: round trip`, async (t) => {
    const full = SAMPLES[type] as PeerMessage
    t.strictSame(roundTrip(full), full, 'with every optional field')
    const minimal: Record<string, unknown> = { ...full }
    for (const { name, optional } of fieldsOf(type)) if (optional) delete minimal[name]
    t.strictSame(roundTrip(minimal as PeerMessage), minimal, 'without optional fields')
    t.equal(encodeMessage(roundTrip(full) as PeerMessage), encodeMessage(full), 'the encoding is stable')
    const fromBytes = decodeFrame(new TextEncoder().encode(encodeMessage(full)))
    t.strictSame(fromBytes, { ok: true, value: full }, 'a binary frame decodes the same as a text frame')

    // 150 random valid messages of this type (optional fields present or not, values across ranges).
    const failure = fc.check(fc.property(messageArb(type), (m) => {
      const r = decodeFrame(encodeMessage(m))
      if (!r.ok) throw new Error(`${r.error.detail} for ${JSON.stringify(m).slice(0, 300)}`)
      return isDeepStrictEqual(r.value, m)
    }), { numRuns: 150, seed: 0x5eed + type.length })
    t.notOk(failure.failed, `150 random ${type} messages round-trip` +
      (failure.failed ? `: ${String(failure.errorInstance ?? '')} counterexample ${JSON.stringify(failure.counterexample)}` : ''))
  })
}
