// The frame codec: one JSON message per WebSocket frame (DESIGN.md "Protocol decisions").
// decodeFrame is the only way bytes from a peer become a message. It never throws and does all of its
// cheap checks before the expensive ones: size (before anything is parsed or decoded), nesting depth
// and duplicate fields (one linear scan), JSON.parse, then the message's strict schema.
import type { z } from 'zod'
import { channelError, type ChannelError } from '../errors.ts'
import { MAX_FRAME_BYTES, MAX_QUOTED_CHARS } from '../limits.ts'
import { isMessageType, MESSAGE_SCHEMAS, type MessageType, type PeerMessage } from './messages.ts'
import { scanJson } from './scan.ts'
import { err, ok, type Result } from '../result.ts'

export type WireReason = 'frame_too_large' | 'malformed_frame' | 'unknown_message' | 'invalid_field'

/** Why a frame was refused. `path` names the field (`update_add_htlc.amount_msat`) when there is
 *  one; `detail` is the whole sentence: "update_add_htlc.amount_msat: must be ≥ 1 (got 0)". */
export type WireError = {
  reason: WireReason
  /** The message type, when the frame got far enough to name a known one. */
  type?: MessageType
  path: string
  detail: string
}

export type DecodeResult = Result<PeerMessage, WireError>

// ignoreBOM: keep a byte-order mark in the text, so JSON.parse refuses it as it does in a text frame.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Parse one frame from a peer into a message, or say why not. Never throws. */
export function decodeFrame (frame: string | Uint8Array): DecodeResult {
  try {
    return decode(frame)
  } catch (e) {
    // Unreachable by design (every step below returns its errors); kept so a bug in a validator
    // cannot take the connection handler down with an exception thrown by peer input.
    return fail('malformed_frame', '', `frame: could not be decoded (${String(e).slice(0, MAX_QUOTED_CHARS)})`)
  }
}

function decode (frame: string | Uint8Array): DecodeResult {
  let text: string
  if (typeof frame === 'string') {
    // A string's UTF-8 size is at least its length in UTF-16 code units: refuse without counting.
    if (frame.length > MAX_FRAME_BYTES) return tooLarge(`at least ${frame.length} bytes`)
    const bytes = utf8Length(frame)
    if (bytes > MAX_FRAME_BYTES) return tooLarge(`${bytes} bytes`)
    text = frame
  } else {
    if (frame.byteLength > MAX_FRAME_BYTES) return tooLarge(`${frame.byteLength} bytes`)
    try {
      text = utf8.decode(frame)
    } catch {
      return fail('malformed_frame', '', 'frame: not valid UTF-8')
    }
  }

  const scan = scanJson(text)
  if (!scan.ok) {
    // Field names come from the peer: quoted and kept short.
    const what = scan.path === '' ? 'the message' : `field ${describe(scan.path)}`
    return fail('malformed_frame', scan.path, `frame: ${what} ${scan.why}`)
  }

  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return fail('malformed_frame', '', `frame: not JSON (${e instanceof Error ? e.message.slice(0, MAX_QUOTED_CHARS) : 'parse error'})`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('malformed_frame', '', `frame: must be a JSON object (got ${describe(value)})`)
  }

  const type = (value as { type?: unknown }).type
  if (type === undefined) return fail('invalid_field', 'type', 'type: is required')
  if (!isMessageType(type)) {
    return fail('unknown_message', 'type', `type: unknown message type (got ${describe(type)})`)
  }

  // No `reportInput`: zod's error eagerly JSON.stringifies its issues, and with inputs that would copy
  // whatever the peer sent (an array of 30,000 items). The offending value is looked up by path instead.
  const parsed = MESSAGE_SCHEMAS[type].safeParse(value)
  if (parsed.success) return ok(parsed.data as PeerMessage)
  const issue = parsed.error.issues[0]
  if (issue === undefined) return fail('invalid_field', type, `${type}: invalid`, type)
  const path = fieldPath(type, issue)
  return fail('invalid_field', path, `${path}: ${explain(issue, value)}`, type)
}

/** Serialize a message to one frame. Validates it first: a message we cannot decode ourselves is a
 *  bug on our side, so this throws (a programmer error), as it does for a frame over the size limit.
 *  `validate: false` skips the schema (not the size) on hot paths whose input is already typed. */
export function encodeMessage (msg: PeerMessage, opts: { validate?: boolean } = {}): string {
  if (opts.validate !== false) {
    const type = (msg as { type?: unknown }).type
    if (!isMessageType(type)) throw new TypeError(`encodeMessage: unknown message type ${describe(type)}`)
    const parsed = MESSAGE_SCHEMAS[type].safeParse(msg)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new TypeError(`encodeMessage: ${fieldPath(type, issue)}: ${explain(issue, msg)}`)
    }
  }
  const frame = JSON.stringify(msg)
  const bytes = utf8Length(frame)
  if (bytes > MAX_FRAME_BYTES) throw new RangeError(`encodeMessage: ${msg.type} is ${bytes} bytes, over ${MAX_FRAME_BYTES}`)
  return frame
}

/** The channel error a refused frame leads to (its reason's default action: disconnect). */
export function wireErrorToChannelError (e: WireError): ChannelError {
  return channelError(e.reason, e.detail)
}

// ── helpers ──

function fail (reason: WireReason, path: string, detail: string, type?: MessageType): DecodeResult {
  return err(type === undefined ? { reason, path, detail } : { reason, type, path, detail })
}

function tooLarge (size: string): DecodeResult {
  return fail('frame_too_large', '', `frame: ${size}, over the ${MAX_FRAME_BYTES}-byte limit`)
}

/** UTF-8 size of a string without encoding it (no allocation). Lone surrogates count as the 3-byte
 *  replacement character, as TextEncoder and WebSocket senders encode them. */
export function utf8Length (s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) { n += 4; i++ } else n += 3
    } else n += 3
  }
  return n
}

type Issue = z.core.$ZodIssue

function fieldPath (type: string, issue: Issue): string {
  let p = type
  const keys = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? '?'] : issue.path
  for (const k of keys) p += typeof k === 'number' ? `[${k}]` : `.${String(k)}`
  return p
}

/** The value at an issue's path in what was parsed (own properties only). */
function valueAt (root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root
  for (const k of path) {
    if (typeof v !== 'object' || v === null || typeof k === 'symbol' || !Object.hasOwn(v, k)) return undefined
    v = (v as Record<string | number, unknown>)[k]
  }
  return v
}

/** "must be ≥ 1 (got 0)": what was wanted, then a short, bounded rendering of what came. */
function explain (issue: Issue, root: unknown): string {
  const input = valueAt(root, issue.path)
  // JSON has no `undefined`: an undefined value is a missing field.
  if (input === undefined && issue.code !== 'unrecognized_keys') return 'is required'
  const got = ` (got ${describe(input)})`
  switch (issue.code) {
    case 'unrecognized_keys': return 'unknown field'
    case 'invalid_type':
      return `must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}${got}`
    case 'invalid_value': return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`
    default:
      return `${issue.message}${got}`
  }
}

/** Characters of a peer's string an error message shows: enough to recognise it. */
const SHOWN_STRING_CHARS = 40

/** A peer-controlled value rendered for an error message: short whatever its size. */
function describe (v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'string') {
    const shown = JSON.stringify(v.length > SHOWN_STRING_CHARS ? v.slice(0, SHOWN_STRING_CHARS) : v)
    return v.length > SHOWN_STRING_CHARS ? `${shown}… (${v.length} characters)` : shown
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return `an array of ${v.length} items`
  if (typeof v === 'object') return 'an object'
  return typeof v
}
