// The frame layer of decodeFrame/encodeMessage: size before anything else, UTF-8, nesting, duplicate
// fields, non-objects, unknown types; and encodeMessage refusing what we must never send.
import t from 'tap'
import { decodeFrame, encodeMessage, wireErrorToChannelError, type PeerMessage } from '../../../../protocol/wire/index.ts'
import { MAX_FRAME_BYTES, MAX_JSON_ARRAY_ITEMS, MAX_JSON_DEPTH, MAX_JSON_OBJECT_KEYS } from '../../../../protocol/limits.ts'
import { REASONS } from '../../../../protocol/errors.ts'
import { SAMPLES } from './samples.ts'

/** Counts JSON.parse calls made by `fn`, to show a frame was refused before being parsed. */
function parsesDuring (fn: () => void): number {
  const real = JSON.parse
  let calls = 0
  JSON.parse = ((...args: Parameters<typeof JSON.parse>) => { calls++; return real(...args) }) as typeof JSON.parse
  try { fn() } finally { JSON.parse = real }
  return calls
}

/** A valid frame padded with JSON whitespace to exactly `bytes` bytes. */
function padded (bytes: number): string {
  const base = JSON.stringify(SAMPLES.auth_ok)
  return base.slice(0, -1) + ' '.repeat(bytes - base.length) + '}'
}

t.test('frame size: 64 KiB is accepted, one byte more is refused before parsing', async (t) => {
  t.equal(padded(MAX_FRAME_BYTES).length, MAX_FRAME_BYTES)
  t.ok(decodeFrame(padded(MAX_FRAME_BYTES)).ok, 'exactly MAX_FRAME_BYTES: accepted')
  t.ok(decodeFrame(new TextEncoder().encode(padded(MAX_FRAME_BYTES))).ok, 'as bytes too')
  for (const frame of [
    padded(MAX_FRAME_BYTES + 1), new TextEncoder().encode(padded(MAX_FRAME_BYTES + 1)), 'x'.repeat(10 * MAX_FRAME_BYTES),
  ]) {
    let r: ReturnType<typeof decodeFrame> | undefined
    t.equal(parsesDuring(() => { r = decodeFrame(frame) }), 0, 'JSON.parse is not called')
    t.match(r, { ok: false, error: { reason: 'frame_too_large', detail: /over the 65536-byte limit/ } })
  }
  // Fewer UTF-16 units than the limit, but more UTF-8 bytes: '€' is 3 bytes, '😀' 4.
  const euros = `{"type":"error","channel_id":"${'00'.repeat(32)}","data":"${'€'.repeat(22_000)}"}`
  t.ok(euros.length < MAX_FRAME_BYTES)
  t.match(decodeFrame(euros), { ok: false, error: { reason: 'frame_too_large' } }, 'counted in UTF-8 bytes, not characters')
  t.match(
    decodeFrame(`{"type":"x","d":"${'😀'.repeat(16_400)}"}`), { ok: false, error: { reason: 'frame_too_large' } },
    'surrogate pairs count 4 bytes',
  )
})

t.test('frames that are not JSON objects', async (t) => {
  const cases: Array<[string | Uint8Array, RegExp]> = [
    ['', /not JSON/],
    ['{', /not JSON/],
    ['{"type":"auth_ok"', /not JSON/],
    ['{"type":"auth_ok"}x', /not JSON/],
    ['\ufeff{"type":"auth_ok"}', /not JSON/],
    ["{'type':'auth_ok'}", /not JSON/],
    ['null', /must be a JSON object \(got null\)/],
    ['42', /must be a JSON object \(got 42\)/],
    ['"auth_ok"', /must be a JSON object/],
    ['[{"type":"auth_ok"}]', /must be a JSON object \(got an array of 1 items\)/],
    [new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]), /not valid UTF-8/],
    [new Uint8Array([0xed, 0xa0, 0x80]), /not valid UTF-8/], // an encoded lone surrogate
    [new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"type":"auth_ok"}')]), /not JSON/], // BOM
  ]
  for (const [frame, why] of cases) {
    t.match(
      decodeFrame(frame), { ok: false, error: { reason: 'malformed_frame', detail: why } }, JSON.stringify(String(frame)).slice(0, 40),
    )
  }
})

t.test('nesting deeper than MAX_JSON_DEPTH is refused by the pre-scan, without JSON.parse', async (t) => {
  const deep = '['.repeat(MAX_FRAME_BYTES)
  let r: ReturnType<typeof decodeFrame> | undefined
  t.equal(parsesDuring(() => { r = decodeFrame(deep) }), 0)
  t.match(r, { ok: false, error: {
    reason: 'malformed_frame', path: '[0][0][0][0]', detail: `frame: field "[0][0][0][0]" is nested deeper than ${MAX_JSON_DEPTH} levels`,
  } })
  const nested = (n: number): string => '{"type":"auth_ok","x":' + '['.repeat(n - 1) + ']'.repeat(n - 1) + '}'
  t.match(
    decodeFrame(nested(MAX_JSON_DEPTH)), { ok: false, error: { reason: 'invalid_field', path: 'auth_ok.x' } },
    'at the limit: parsed, then refused by the schema',
  )
  t.match(decodeFrame(nested(MAX_JSON_DEPTH + 1)), { ok: false, error: { reason: 'malformed_frame' } }, 'one deeper: refused by the scan')
  t.ok(decodeFrame('{"type":"auth_ok","x":"' + '['.repeat(1000) + '"}').ok === false, 'brackets inside strings do not count')
  t.match(
    decodeFrame(JSON.stringify({ ...SAMPLES.error, data: '[[[[[[[[{{{{{{' })), { ok: true }, 'brackets inside a valid string are text',
  )
})

t.test('duplicate fields are refused, however they are spelled', async (t) => {
  const cases: Array<[string, string]> = [
    ['{"type":"auth_ok","type":"auth_ok"}', 'type'],
    ['{"type":"auth_ok","t\\u0079pe":"auth_ok"}', 'type'],
    [`{"type":"update_fee","channel_id":"${'00'.repeat(32)}","feerate_per_kw":300,"feerate_per_kw":253}`, 'feerate_per_kw'],
    [`{"type":"closing_signed","channel_id":"${'00'.repeat(32)}","fee_satoshis":1,"signature":"${'00'.repeat(64)}",` +
      `"fee_range":{"min_fee_satoshis":1,"min_fee_satoshis":2,"max_fee_satoshis":3}}`, 'fee_range.min_fee_satoshis'],
    ['{"type":"tx_signatures","witnesses":[[],[{"a":1,"a":2}]]}', 'witnesses[1][0].a'],
  ]
  for (const [frame, path] of cases) {
    t.match(
      decodeFrame(frame), { ok: false, error: { reason: 'malformed_frame', path, detail: `frame: field "${path}" appears twice` } },
      frame.slice(0, 60),
    )
  }
  t.ok(decodeFrame(`{"type":"closing_signed","channel_id":"${'00'.repeat(32)}","fee_satoshis":1,"signature":"${'00'.repeat(64)}",` +
    `"fee_range":{"min_fee_satoshis":1,"max_fee_satoshis":3}}`).ok,
    'the same key in different objects is not a duplicate')
})

t.test('objects with too many fields and arrays with too many items are refused before JSON.parse', async (t) => {
  const fields = (n: number): string => '{"type":"auth_ok"' + Array.from({ length: n - 1 }, (_, i) => `,"f${i}":0`).join('') + '}'
  t.match(decodeFrame(fields(MAX_JSON_OBJECT_KEYS)), {
    ok: false, error: { reason: 'invalid_field', path: 'auth_ok.f0', detail: 'auth_ok.f0: unknown field' },
  },
    'at the limit: the schema names the first unknown field')
  let r: ReturnType<typeof decodeFrame> | undefined
  t.equal(parsesDuring(() => { r = decodeFrame(fields(MAX_JSON_OBJECT_KEYS + 1)) }), 0, 'one more: JSON.parse is not called')
  t.match(r, {
    ok: false, error: { reason: 'malformed_frame', path: '', detail: `frame: the message has more than ${MAX_JSON_OBJECT_KEYS} fields` },
  })
  const sigs = (n: number): string => JSON.stringify({ ...SAMPLES.commitment_signed, htlc_signatures: Array.from({ length: n }, () => 0) })
  t.match(decodeFrame(sigs(MAX_JSON_ARRAY_ITEMS)), {
    ok: false, error: { reason: 'invalid_field', path: 'commitment_signed.htlc_signatures' },
  },
    'at the limit: the schema refuses it, naming the field and its own bound')
  t.equal(parsesDuring(() => { r = decodeFrame(sigs(MAX_JSON_ARRAY_ITEMS + 1)) }), 0, 'one more: JSON.parse is not called')
  t.match(r, { ok: false, error: {
    reason: 'malformed_frame', path: 'htlc_signatures',
    detail: `frame: field "htlc_signatures" has more than ${MAX_JSON_ARRAY_ITEMS} items`,
  } })
  t.ok(decodeFrame(JSON.stringify({ ...SAMPLES.error, data: ','.repeat(1000) })).ok, 'commas inside strings are text')
})

t.test('type: missing, unknown, not a string; prototype keys', async (t) => {
  t.match(decodeFrame('{}'), { ok: false, error: { reason: 'invalid_field', path: 'type', detail: 'type: is required' } })
  for (const type of ['open_channel2', 'UPDATE_ADD_HTLC', '', 'toString', '__proto__', 'constructor', 'hasOwnProperty']) {
    t.match(
      decodeFrame(JSON.stringify({ type })), { ok: false, error: { reason: 'unknown_message', path: 'type' } },
      `type ${JSON.stringify(type)}`,
    )
  }
  for (const type of [1, null, true, ['auth_ok'], { auth_ok: 1 }]) {
    t.match(decodeFrame(JSON.stringify({ type })), { ok: false, error: { reason: 'unknown_message' } }, `type ${JSON.stringify(type)}`)
  }
  t.match(
    decodeFrame('{"type":"auth_ok","__proto__":{"x":1}}'),
    { ok: false, error: { path: 'auth_ok.__proto__', detail: 'auth_ok.__proto__: unknown field' } },
  )
  t.match(decodeFrame('{"type":"auth_ok","constructor":1}'), { ok: false, error: { path: 'auth_ok.constructor' } })
  const withProto = JSON.stringify(SAMPLES.update_add_htlc).replace('"metadata":{', '"metadata":{"__proto__":{},')
  t.match(decodeFrame(withProto), { ok: false, error: { path: 'update_add_htlc.metadata.__proto__' } }, 'nested __proto__')
})

t.test('a huge value in an error message is shown shortened', async (t) => {
  const r = decodeFrame(JSON.stringify({ ...SAMPLES.error, data: 'x'.repeat(60_000) }))
  t.match(r, { ok: false, error: { path: 'error.data' } })
  if (!r.ok) t.ok(r.error.detail.length < 200, `detail is ${r.error.detail.length} characters`)
  const u = decodeFrame(JSON.stringify({ type: 'y'.repeat(60_000) }))
  if (!u.ok) t.ok(u.error.detail.length < 200, 'an unknown type too')
})

t.test('encodeMessage refuses what we must never send (programmer errors throw)', async (t) => {
  t.throws(() => encodeMessage({ ...SAMPLES.update_add_htlc, amount_msat: 0 } as unknown as PeerMessage),
    { name: 'TypeError', message: 'encodeMessage: update_add_htlc.amount_msat: must be ≥ 1 (got 0)' })
  t.throws(() => encodeMessage({ ...SAMPLES.auth_ok, extra: 1 } as unknown as PeerMessage), { message: /auth_ok\.extra: unknown field/ })
  t.throws(() => encodeMessage({ type: 'nope' } as unknown as PeerMessage), { message: /unknown message type/ })
  const huge = { ...SAMPLES.pong, ignored: '00'.repeat(MAX_FRAME_BYTES) } as unknown as PeerMessage
  t.throws(() => encodeMessage(huge), { message: /pong\.ignored/ }, 'validated: the schema names the field')
  t.throws(
    () => encodeMessage(huge, { validate: false }), { name: 'RangeError', message: /over 65536/ },
    'not validated: the size is still checked',
  )
  t.equal(encodeMessage(SAMPLES.ping as PeerMessage, { validate: false }), JSON.stringify(SAMPLES.ping))
})

t.test('a refused frame becomes a channel error that disconnects', async (t) => {
  const r = decodeFrame('{"type":"nope"}')
  t.equal(r.ok, false)
  if (!r.ok) t.same(
    wireErrorToChannelError(r.error),
    { action: 'disconnect', reason: 'unknown_message', detail: 'type: unknown message type (got "nope")' },
  )
  for (const reason of ['frame_too_large', 'malformed_frame', 'unknown_message', 'invalid_field'] as const) {
    t.equal(REASONS[reason], 'disconnect', `${reason}: BOLT #1 says close the connection, not the channel`)
  }
})
