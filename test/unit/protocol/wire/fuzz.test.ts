// Scenario 17 (wire fuzzing): random and mutated frames fed to decodeFrame never throw; what it
// accepts is a valid message (it re-encodes and decodes to itself); what it refuses has a reason from
// the closed set and a short detail; over-size and deeply nested frames are refused before parsing.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { decodeFrame, encodeMessage, MESSAGE_TYPES, type PeerMessage } from '../../../../protocol/wire/index.ts'
import { MAX_FRAME_BYTES } from '../../../../protocol/limits.ts'
import { anyMessageArb } from './samples.ts'

const WIRE_REASONS = new Set(['frame_too_large', 'malformed_frame', 'unknown_message', 'invalid_field'])

/** The codec's contract for one frame; returns a description of the breach, or null. */
function breach (frame: string | Uint8Array): string | null {
  let r: ReturnType<typeof decodeFrame>
  try {
    r = decodeFrame(frame)
  } catch (e) {
    return `decodeFrame threw: ${String(e)}`
  }
  if (r.ok) {
    let again: ReturnType<typeof decodeFrame>
    try {
      again = decodeFrame(encodeMessage(r.value))
    } catch (e) {
      return `accepted a message that does not re-encode: ${String(e)}`
    }
    if (!again.ok || !isDeepStrictEqual(again.value, r.value)) return 'accepted message does not round-trip'
    return null
  }
  const { reason, path, detail } = r.error
  if (!WIRE_REASONS.has(reason)) return `unknown reason ${reason}`
  if (typeof detail !== 'string' || detail.length > 600) return `detail too long (${detail.length})`
  if (reason === 'invalid_field' && !detail.startsWith(path + ': ')) return `detail does not name the field: ${detail}`
  return null
}

const holds = (frame: string | Uint8Array): boolean => {
  const b = breach(frame)
  if (b !== null) throw new Error(b)
  return true
}

/** Runs a property and reports it as one assertion (fast-check shrinks and prints the counterexample). */
function property<T> (t: Test, name: string, arb: fc.Arbitrary<T>, toFrame: (v: T) => string | Uint8Array, numRuns: number): void {
  const out = fc.check(fc.property(arb, (v) => holds(toFrame(v))), { numRuns, seed: 17 })
  t.notOk(out.failed, `${name} (${numRuns} runs)` + (
    out.failed ? `: ${String(out.errorInstance)} on ${JSON.stringify(out.counterexample)?.slice(0, 500)}` : ''
  ))
}

// ── Mutations of a valid message ──

const RAW_NUMBERS = ['1e309', '-1e309', '-0', '1e-400', '9007199254740993', '18446744073709551615', '1.0', '1e2', '-1',
  '0.1', '4294967296', '65536', '256', '00', '0x10', 'NaN', 'Infinity', '+1', '.5', '1e', '--1']
const hugeValue = fc.oneof(
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 1, Number.MAX_VALUE, -Number.MAX_SAFE_INTEGER, 2 ** 64, 2 ** 32, 1e21),
  fc.integer({ min: 1, max: 70_000 }).map((n) => 'f'.repeat(n)),
  fc.integer({ min: 1, max: 40_000 }).map((n) => Array.from({ length: n }, () => 0)),
  fc.integer({ min: 1, max: 2_000 }).map((n) => Array.from({ length: n }, () => 'ab'.repeat(64))),
  fc.integer({ min: 2, max: 30 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown),
)

type Mutation =
  | { kind: 'flip', at: number, char: string }
  | { kind: 'delete', at: number, len: number }
  | { kind: 'insert', at: number, text: string }
  | { kind: 'truncate', at: number }
  | { kind: 'drop', field: number }
  | { kind: 'duplicate', field: number, value: unknown }
  | { kind: 'replace', field: number, value: unknown }
  | { kind: 'raw', field: number, token: string }
  | { kind: 'nest', field: number, depth: number }
  | { kind: 'retype', type: string }
  | { kind: 'extra', key: string, value: unknown }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), char: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    kind: fc.constant('insert' as const), at: fc.nat(),
    text: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('{', '[', '"', '\\', ',', ':', '}', ']', '\u0000', '\ud800')),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), field: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), field: fc.nat(), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('replace' as const), field: fc.nat(), value: fc.oneof(fc.jsonValue({ maxDepth: 3 }), hugeValue) }),
  fc.record({ kind: fc.constant('raw' as const), field: fc.nat(), token: fc.constantFrom(...RAW_NUMBERS) }),
  fc.record({ kind: fc.constant('nest' as const), field: fc.nat(), depth: fc.integer({ min: 1, max: 10 }) }),
  fc.record({ kind: fc.constant('retype' as const), type: fc.oneof(fc.constantFrom(...MESSAGE_TYPES), fc.string({ maxLength: 20 })) }),
  fc.record({
    kind: fc.constant('extra' as const), key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('__proto__', 'constructor', 'type')),
    value: fc.jsonValue({ maxDepth: 2 }),
  }),
)

function mutate (msg: PeerMessage, mutations: Mutation[]): string {
  let obj: Record<string, unknown> = { ...msg }
  let text: string | null = null
  const keyAt = (i: number): string => { const keys = Object.keys(obj); return keys[i % keys.length] ?? 'type' }
  const frame = (): string => text ?? JSON.stringify(obj)
  for (const m of mutations) {
    switch (m.kind) {
      case 'flip': { const s = frame(); const i = m.at % (s.length || 1); text = s.slice(0, i) + m.char + s.slice(i + 1); break }
      case 'delete': { const s = frame(); const i = m.at % (s.length || 1); text = s.slice(0, i) + s.slice(i + m.len); break }
      case 'insert': { const s = frame(); const i = m.at % (s.length + 1); text = s.slice(0, i) + m.text + s.slice(i); break }
      case 'truncate': { const s = frame(); text = s.slice(0, m.at % (s.length + 1)); break }
      case 'drop': if (text === null) { const { [keyAt(m.field)]: _, ...rest } = obj; obj = rest }; break
      case 'replace': if (text === null) obj = { ...obj, [keyAt(m.field)]: m.value }; break
      case 'nest': if (text === null) {
        let v: unknown = obj[keyAt(m.field)]
        for (let d = 0; d < m.depth; d++) v = d % 2 === 0 ? [v] : { v }
        obj = { ...obj, [keyAt(m.field)]: v }
      } break
      case 'retype': if (text === null) obj = { ...obj, type: m.type }; break
      case 'extra': if (text === null) obj = { ...obj, [m.key]: m.value }; break
      case 'duplicate': {
        const s = frame(); text = s.endsWith('}') ? `${s.slice(0, -1)},${JSON.stringify(keyAt(m.field))}:${JSON.stringify(m.value)}}` : s;
        break
      }
      case 'raw': {
        if (text !== null) break
        const marker = '"\u0001RAW\u0001"'
        text = JSON.stringify({ ...obj, [keyAt(m.field)]: '\u0001RAW\u0001' }).replace(marker, m.token)
        break
      }
    }
  }
  return frame()
}

t.test('scenario 17: random frames never throw out of decodeFrame', async (t) => {
  property(t, 'random text', fc.string({ maxLength: 300, unit: 'binary' }), (s) => s, 3000)
  property(t, 'random grapheme text', fc.string({ maxLength: 200, unit: 'grapheme' }), (s) => s, 1000)
  property(t, 'random bytes', fc.uint8Array({ maxLength: 600 }), (b) => b, 3000)
  property(t, 'random JSON values', fc.jsonValue({ maxDepth: 6 }), (v) => JSON.stringify(v) ?? 'null', 2000)
  property(t, 'JSON objects with a known type and random fields',
    fc.tuple(fc.constantFrom(...MESSAGE_TYPES), fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 })),
    ([type, rest]) => JSON.stringify({ ...rest, type }), 2000)
})

t.test('scenario 17: mutations of valid frames never throw and are never misread', async (t) => {
  property(t, 'valid messages with 1–3 mutations', fc.tuple(anyMessageArb, fc.array(mutation, { minLength: 1, maxLength: 3 })),
    ([msg, ms]) => mutate(msg, ms), 4000)
  property(t, 'mutated frames sent as bytes', fc.tuple(anyMessageArb, fc.array(mutation, { minLength: 1, maxLength: 2 })),
    ([msg, ms]) => new TextEncoder().encode(mutate(msg, ms)), 1000)
  property(t, 'valid messages with flipped bytes', fc.tuple(
    anyMessageArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
  ),
    ([msg, flips]) => {
      const bytes = new TextEncoder().encode(encodeMessage(msg))
      for (const [at, b] of flips) bytes[at % bytes.length] = b
      return bytes
    }, 1000)
  // The mutations are not degenerate: they reach every stage of the decoder, and some survive.
  const seen = new Set<string>()
  for (const [msg, ms] of fc.sample(
    fc.tuple(anyMessageArb, fc.array(mutation, { minLength: 1, maxLength: 3 })), { numRuns: 1500, seed: 17 },
  )) {
    const r = decodeFrame(mutate(msg, ms))
    seen.add(r.ok ? 'accepted' : r.error.reason)
  }
  t.same([...seen].sort(), ['accepted', 'frame_too_large', 'invalid_field', 'malformed_frame', 'unknown_message'],
    'mutated frames are accepted or refused at every stage')
})

t.test('scenario 17: over-size frames are refused, whatever they hold', async (t) => {
  const out = fc.check(fc.property(
    fc.integer({ min: MAX_FRAME_BYTES + 1, max: 4 * MAX_FRAME_BYTES }), fc.constantFrom('{', '[', ' ', 'a', '€', '"', '0'), fc.boolean(),
    (size, fill, asBytes) => {
      const s = fill.repeat(Math.ceil(size / new TextEncoder().encode(fill).length))
      const r = decodeFrame(asBytes ? new TextEncoder().encode(s) : s)
      return !r.ok && r.error.reason === 'frame_too_large'
    }), { numRuns: 100, seed: 17 })
  t.notOk(out.failed, 'every frame over MAX_FRAME_BYTES is frame_too_large')
})

t.test('scenario 17: deeply nested frames are refused cheaply (no JSON.parse)', async (t) => {
  const real = JSON.parse
  let calls = 0
  JSON.parse = ((...a: Parameters<typeof JSON.parse>) => { calls++; return real(...a) }) as typeof JSON.parse
  try {
    const out = fc.check(fc.property(
      fc.integer({ min: 5, max: MAX_FRAME_BYTES - 100 }), fc.constantFrom('[', '{"a":', '[{"x":'),
      (depth, open) => {
        const s = ('{"type":"ping","x":' + open.repeat(depth)).slice(0, MAX_FRAME_BYTES)
        const r = decodeFrame(s)
        return !r.ok && r.error.reason === 'malformed_frame' && /nested deeper/.test(r.error.detail)
      }), { numRuns: 200, seed: 17 })
    t.notOk(out.failed, 'refused as nested too deep')
  } finally {
    JSON.parse = real
  }
  t.equal(calls, 0, 'JSON.parse was never called')
})
