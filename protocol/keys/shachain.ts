// The receiver's compact store of the peer's revealed per-commitment secrets (BOLT #3 "Efficient
// Per-commitment Secret Storage"): at most 49 (index, secret) entries, from which every secret
// received so far can be re-derived. Every insert is checked against the entries it can derive, so a
// peer that revokes with secrets from another seed is caught at once, not when we need to punish.
//
// The store is an immutable plain value (JSON-serializable with `shachainToJson`); `insertSecret`
// returns a new store.
import { z } from 'zod'
import { bytesToHex, hexToBytes } from '../types.ts'
import { equalBytes } from '../crypto/hash.ts'
import { FIRST_COMMITMENT_INDEX, bitSet, deriveSecret } from './secrets.ts'
import { err, ok, type Result } from '../result.ts'

export interface ShachainEntry { readonly index: number, readonly secret: Uint8Array }
export interface Shachain {
  /** known[b] holds the latest secret whose index has exactly b trailing zeros (b = 0..48). */
  readonly known: ReadonlyArray<ShachainEntry | undefined>
  /** The index of the last secret inserted (the next one must be this minus 1), or undefined if empty. */
  readonly lastIndex: number | undefined
}

export type ShachainError =
  | { reason: 'secret_mismatch', detail: string }     // derives a different older secret: wrong seed
  | { reason: 'index_out_of_order', detail: string }  // secrets must arrive in descending index order, no gaps
  | { reason: 'bad_secret', detail: string }          // not 32 bytes / index out of range

export function emptyShachain (): Shachain {
  return { known: [], lastIndex: undefined }
}

/** BOLT #3 where_to_put_secret(I): the number of trailing zeros of I (48 for I = 0). */
export function whereToPutSecret (index: number): number {
  for (let b = 0; b < 48; b++) if (bitSet(index, b)) return b
  return 48
}

/**
 * BOLT #3 insert_secret(secret, I): "for b in 0 to B: if derive_secret(secret, B, known[b].index) !=
 * known[b].secret: error The secret for I is incorrect". We also require I = previous index − 1
 * (starting at 2^48 − 1): BOLT #2 reveals secrets strictly in that order. Re-inserting the last
 * secret unchanged is accepted and leaves the store as it was (idempotent replays).
 */
export function insertSecret (store: Shachain, index: number, secret: Uint8Array): Result<Shachain, ShachainError> {
  if (secret.length !== 32) return err({ reason: 'bad_secret', detail: 'secret must be 32 bytes' })
  if (!Number.isSafeInteger(index) || index < 0 || index > FIRST_COMMITMENT_INDEX) {
    return err({ reason: 'bad_secret', detail: `index ${index} out of range` })
  }
  // The same secret again (a revoke_and_ack retransmitted after a reconnect or a crash) changes nothing.
  if (index === store.lastIndex) {
    const same = store.known[whereToPutSecret(index)]
    return same !== undefined && equalBytes(same.secret, secret)
      ? ok(store)
      : err({ reason: 'secret_mismatch', detail: `a different secret for index ${index} was stored before` })
  }
  const expected = store.lastIndex === undefined ? FIRST_COMMITMENT_INDEX : store.lastIndex - 1
  if (index !== expected) {
    return err({ reason: 'index_out_of_order', detail: `expected index ${expected}, got ${index}` })
  }
  const pos = whereToPutSecret(index)
  for (let b = 0; b < pos; b++) {
    const k = store.known[b]
    if (k === undefined) continue
    if (!equalBytes(deriveSecret(secret, pos, k.index), k.secret)) {
      return err({ reason: 'secret_mismatch', detail: `secret for index ${index} does not derive the secret for index ${k.index}` })
    }
  }
  const known = store.known.slice()
  while (known.length <= pos) known.push(undefined)
  known[pos] = { index, secret: Uint8Array.from(secret) }
  return ok({ known, lastIndex: index })
}

/** BOLT #3 derive_old_secret(I): the secret for an index already received, or undefined. */
export function deriveOldSecret (store: Shachain, index: number): Uint8Array | undefined {
  if (store.lastIndex === undefined || index < store.lastIndex || index > FIRST_COMMITMENT_INDEX) return undefined
  for (let b = 0; b < store.known.length; b++) {
    const k = store.known[b]
    if (k === undefined) continue
    // "Mask off the non-zero prefix of the index": clear the low b bits of I.
    const masked = index - (index % 2 ** b)
    if (masked === k.index) return deriveSecret(k.secret, b, index)
  }
  return undefined
}

const shachainJson = z.strictObject({
  lastIndex: z.number().int().min(0).max(FIRST_COMMITMENT_INDEX).nullable(),
  known: z.array(z.strictObject({
    index: z.number().int().min(0).max(FIRST_COMMITMENT_INDEX),
    secret: z.string().regex(/^[0-9a-f]{64}$/),
  }).nullable()).max(49),
})
export type ShachainJson = z.infer<typeof shachainJson>

export function shachainToJson (store: Shachain): ShachainJson {
  return {
    lastIndex: store.lastIndex ?? null,
    known: store.known.map(k => k === undefined ? null : { index: k.index, secret: bytesToHex(k.secret) }),
  }
}

/** Parses stored JSON (strict schema), checking each entry sits in the bucket its index belongs to. */
export function shachainFromJson (json: unknown): Result<Shachain, string> {
  const parsed = shachainJson.safeParse(json)
  if (!parsed.success) return err(`shachain: ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  const known: Array<ShachainEntry | undefined> = []
  for (const [b, k] of parsed.data.known.entries()) {
    if (k !== null && whereToPutSecret(k.index) !== b) return err(`shachain: known.${b}: index ${k.index} does not belong in bucket ${b}`)
    known.push(k === null ? undefined : { index: k.index, secret: hexToBytes(k.secret) })
  }
  return ok({ known, lastIndex: parsed.data.lastIndex ?? undefined })
}
