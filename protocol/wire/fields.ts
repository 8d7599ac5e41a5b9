// Field schemas shared by every wire message: hex of exact length, integers of a BOLT width bounded
// to safe integers, bounded strings. Each message schema is built from these so that every field of
// every message is checked the same way (DESIGN.md "Protocol decisions": bytes are lowercase hex,
// amounts are integer msat/sat named so and safe integers).
import { z } from 'zod'
import type { ChannelId, Height, Msat, NodeId, Sat, Txid } from '../types.ts'

/** Exactly `bytes` bytes as lowercase hex (2 characters a byte). */
export const hexBytes = (bytes: number) =>
  z.string().length(2 * bytes, { error: `must be ${bytes} bytes of hex (${2 * bytes} characters)` })
    .regex(/^[0-9a-f]*$/, { error: 'must be lowercase hex' })

/** Between `min` and `max` bytes as lowercase hex. */
export const hexBytesBetween = (min: number, max: number) =>
  z.string()
    .min(2 * min, { error: `must be at least ${min} bytes of hex` })
    .max(2 * max, { error: `must be at most ${max} bytes of hex` })
    .regex(/^(?:[0-9a-f]{2})*$/, { error: 'must be lowercase hex of whole bytes' })

/** 32 bytes: hashes, preimages, per-commitment secrets, challenges, chain hash. */
export const hex32 = hexBytes(32)
/** BOLT #2 compact signature: 64 bytes, r‖s (also the size of a BIP-340 signature). */
export const signature64 = hexBytes(64)
/** 33-byte compressed secp256k1 point: 02 or 03 then the x coordinate. Whether it is on the curve
 *  is checked where it is used (the keys module), not here. */
export const point33 = hexBytes(33).regex(/^0[23]/, { error: 'must be a compressed point (02 or 03 prefix)' })

export const channelId = hex32.transform((s) => s as ChannelId)
/** Transaction id in RPC (display) byte order, as `Txid` everywhere in this project. */
export const txid = hex32.transform((s) => s as Txid)
export const nodeId = point33.transform((s) => s as NodeId)

/** An unsigned integer of a BOLT width, bounded to a safe integer (u64 fields lose the top bits). */
const uint = (max: number) => z.number().int({ error: 'must be an integer' })
  .min(0, { error: 'must be ≥ 0' })
  .max(max, { error: `must be ≤ ${max}` })

export const u8 = uint(0xff)
export const u16 = uint(0xffff)
export const u32 = uint(0xffff_ffff)
export const u64 = uint(Number.MAX_SAFE_INTEGER)
/** A signed 64-bit integer bounded to safe integers (splice contributions may be negative). */
export const s64 = z.number().int({ error: 'must be an integer' })
  .min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)

export const msatAmount = u64.transform((n) => n as Msat)
export const satAmount = u64.transform((n) => n as Sat)
/** Absolute block height (cltv_expiry, locktime): a u32 in BOLT #2. */
export const height = u32.transform((n) => n as Height)

/** A lone UTF-16 surrogate: JSON can carry one (as \udxxx), but it is no character, a UTF-8 sender
 *  replaces it, and two readers may then see different text. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** A bounded string of text without control characters: a peer's free text (errors, references). */
export const text = (max: number) => z.string()
  .max(max, { error: `must be at most ${max} characters` })
  // Control characters in a peer's text are a log-injection vector and never needed.
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]*$/, { error: 'must not contain control characters' })
  .refine((s) => !LONE_SURROGATE.test(s), { error: 'must be well-formed Unicode (no lone surrogates)' })

// ── Arrays ──
// zod's z.array validates every element before its length, and reports every bad element: a 64 KiB
// frame of 30,000 bad items costs about a second of CPU and 30,000 issues. These arrays check the
// length first and stop at the first bad element, so the work per frame is bounded by the limits.

const HEX_BYTES = /^(?:[0-9a-f]{2})*$/

/** Why `v` is not `minBytes`..`maxBytes` bytes of lowercase hex, or null if it is. */
function hexProblem (v: unknown, minBytes: number, maxBytes: number): string | null {
  if (typeof v !== 'string') return 'must be a string of hex'
  if (minBytes === maxBytes && v.length !== 2 * minBytes) return `must be ${minBytes} bytes of hex (${2 * minBytes} characters)`
  if (v.length < 2 * minBytes) return `must be at least ${minBytes} bytes of hex`
  if (v.length > 2 * maxBytes) return `must be at most ${maxBytes} bytes of hex`
  if (!HEX_BYTES.test(v)) return 'must be lowercase hex of whole bytes'
  return null
}

const isArray = (v: unknown): v is unknown[] => Array.isArray(v)
// Issues carry no `input`: zod's error JSON.stringifies its issues (the codec looks values up by path).
const tooMany = (max: number) =>
  ({ code: 'too_big', origin: 'array', maximum: max, inclusive: true, message: `must have at most ${max} items` }) as const

/** At most `maxItems` strings of `minBytes`..`maxBytes` bytes of lowercase hex. */
export const hexArray = (minBytes: number, maxBytes: number, maxItems: number) =>
  z.custom<unknown[]>(isArray, { error: 'must be an array' }).transform((arr, ctx) => {
    if (arr.length > maxItems) { ctx.addIssue(tooMany(maxItems)); return z.NEVER }
    for (let i = 0; i < arr.length; i++) {
      const why = hexProblem(arr[i], minBytes, maxBytes)
      if (why !== null) { ctx.addIssue({ code: 'custom', path: [i], message: why }); return z.NEVER }
    }
    return arr as string[]
  })

/** At most `maxItems` items of `item`, checked in order up to the first bad one. */
export const boundedArray = <T extends z.ZodType>(item: T, maxItems: number) =>
  z.custom<unknown[]>(isArray, { error: 'must be an array' }).transform((arr, ctx) => {
    if (arr.length > maxItems) { ctx.addIssue(tooMany(maxItems)); return z.NEVER }
    const out: Array<z.output<T>> = []
    for (let i = 0; i < arr.length; i++) {
      const r = item.safeParse(arr[i])
      if (!r.success) {
        for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [i, ...issue.path] } as never)
        return z.NEVER
      }
      out.push(r.data)
    }
    return out
  })
