// Writing an invoice: check the draft, lay out the tagged fields, sign with the payee's node key.
import { bech32 } from 'bech32'
import * as secp from '@noble/secp256k1'
import { MAX_INVOICE_CHARS } from '../limits.ts'
import { bytesToHex, type Msat } from '../types.ts'
import { DEFAULT_INVOICE_FEATURE_BITS } from './features.ts'
import {
  MAX_FIELD_BYTES, MAX_FIELD_WORDS, fallbackWords, featureWords, field, hexWords, routeWords, textWords, uintWords,
  type Fallback, type RouteHop, type TagName,
} from './fields.ts'
import { formatHrp, type Network } from './hrp.ts'
import { ok } from '../result.ts'
import { fail, type InvoiceResult } from './errors.ts'
import { sign, signingHash } from './signature.ts'
import { uintToFixedWords } from './words.ts'

export interface InvoiceDraft {
  readonly network: Network
  /** Omit (or null) for "any amount". Must be ≥ 1. */
  readonly amountMsat?: Msat | null
  /** Seconds since 1970; the caller passes its clock (protocol/ reads none). */
  readonly timestamp: number
  readonly paymentHash: string
  readonly paymentSecret: string
  /** Exactly one of description and descriptionHash. */
  readonly description?: string
  readonly descriptionHash?: string
  readonly expirySeconds?: number
  readonly minFinalCltvExpiryDelta?: number
  /** Write an `n` field with the payee's key, so readers verify instead of recovering. */
  readonly includeNodeId?: boolean
  /** Feature bits to set; default DEFAULT_INVOICE_FEATURE_BITS (8 and 14). */
  readonly features?: readonly number[]
  readonly metadataHex?: string
  readonly fallbacks?: readonly Fallback[]
  readonly routeHints?: ReadonlyArray<readonly RouteHop[]>
}

export interface EncodeOptions {
  /** Order of the fields; tags not listed follow in DEFAULT_FIELD_ORDER. Several `f` or `r` fields
   * stay together in the given order of preference. */
  readonly fieldOrder?: readonly TagName[]
}

export const DEFAULT_FIELD_ORDER: readonly TagName[] = ['p', 's', 'd', 'h', 'x', 'c', 'n', '9', 'm', 'f', 'r']

const HEX32 = /^[0-9a-f]{64}$/
const HEX = /^(?:[0-9a-f]{2})*$/
const MAX_TIMESTAMP = 2 ** 35 - 1
const u32 = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffffffff
const SCID = /^(\d{1,8})x(\d{1,8})x(\d{1,5})$/

function checkDraft (d: InvoiceDraft): InvoiceResult<void> {
  const bad = (field: string, detail: string): InvoiceResult<void> => fail('invalid_draft', field, detail)
  if (d.amountMsat != null && (!Number.isSafeInteger(d.amountMsat) || d.amountMsat < 1)) return bad(
    'amountMsat', 'must be a safe integer ≥ 1',
  )
  if (!Number.isInteger(d.timestamp) || d.timestamp < 0 || d.timestamp > MAX_TIMESTAMP) return bad('timestamp', 'must fit 35 bits')
  if (!HEX32.test(d.paymentHash)) return bad('paymentHash', 'must be 32 bytes of lowercase hex')
  if (!HEX32.test(d.paymentSecret)) return bad('paymentSecret', 'must be 32 bytes of lowercase hex')
  if ((d.description === undefined) === (d.descriptionHash === undefined)) return bad(
    'description', 'give exactly one of description, descriptionHash',
  )
  if (d.description !== undefined && new TextEncoder().encode(d.description).length > MAX_FIELD_BYTES) return bad(
    'description', `longer than ${MAX_FIELD_BYTES} bytes: use descriptionHash`,
  )
  if (d.descriptionHash !== undefined && !HEX32.test(d.descriptionHash)) return bad('descriptionHash', 'must be 32 bytes of lowercase hex')
  if (d.expirySeconds !== undefined && !(Number.isSafeInteger(d.expirySeconds) && d.expirySeconds >= 0 &&
    d.expirySeconds < 2 ** 50)) return bad('expirySeconds', 'must be an integer in [0, 2^50)')
  if (d.minFinalCltvExpiryDelta !== undefined && !(Number.isInteger(d.minFinalCltvExpiryDelta) && d.minFinalCltvExpiryDelta >= 0 &&
    d.minFinalCltvExpiryDelta <= 0xffff)) return bad('minFinalCltvExpiryDelta', 'must be an integer in [0, 65535]')
  if (d.features !== undefined && !d.features.every(b => Number.isInteger(b) && b >= 0 && b < MAX_FIELD_WORDS * 5)) return bad(
    'features', 'bits must be integers in [0, 5115)',
  )
  if (d.metadataHex !== undefined && (!HEX.test(d.metadataHex) || d.metadataHex.length > 2 * MAX_FIELD_BYTES)) return bad(
    'metadataHex', `must be lowercase hex of at most ${MAX_FIELD_BYTES} bytes`,
  )
  for (const [i, fb] of (d.fallbacks ?? []).entries()) {
    if (!Number.isInteger(fb.version) || fb.version < 0 || fb.version > 18 || !HEX.test(fb.programHex) || fb.programHex.length < 4 ||
      fb.programHex.length > 80) {
      return bad(`fallbacks[${i}]`, 'version 0-18 with a 2-40 byte program in hex')
    }
  }
  for (const [i, hops] of (d.routeHints ?? []).entries()) {
    if (hops.length === 0 || hops.length > 12) return bad(`routeHints[${i}]`, 'must have 1 to 12 hops')
    for (const [j, h] of hops.entries()) {
      const scid = SCID.exec(h.shortChannelId)
      const okHop = /^0[23][0-9a-f]{64}$/.test(h.pubkey) && scid !== null && Number(scid[1]) < 2 ** 24 &&
        Number(scid[2]) < 2 ** 24 && Number(scid[3]) < 2 ** 16 && u32(h.feeBaseMsat) && u32(h.feeProportionalMillionths) &&
        Number.isInteger(h.cltvExpiryDelta) && h.cltvExpiryDelta >= 0 && h.cltvExpiryDelta <= 0xffff
      if (!okHop) return bad(`routeHints[${i}][${j}]`, 'pubkey, BxTxO short channel id, u32 fees, u16 cltv delta')
    }
  }
  return ok(undefined)
}

/** Encode and sign. The payee's node id is the public key of `payeeSecretKey`. */
export function encodeInvoice (draft: InvoiceDraft, payeeSecretKey: Uint8Array, opts: EncodeOptions = {}): InvoiceResult<string> {
  const checked = checkDraft(draft)
  if (!checked.ok) return checked
  if (!(payeeSecretKey instanceof Uint8Array) || !secp.utils.isValidSecretKey(payeeSecretKey)) {
    return fail('invalid_draft', 'payeeSecretKey', 'not a valid secp256k1 secret key')
  }
  const byTag: Partial<Record<TagName, number[][]>> = {}
  const put = (tag: TagName, data: number[]): void => { (byTag[tag] ??= []).push(field(tag, data)) }
  put('p', hexWords(draft.paymentHash))
  put('s', hexWords(draft.paymentSecret))
  if (draft.description !== undefined) put('d', textWords(draft.description))
  if (draft.descriptionHash !== undefined) put('h', hexWords(draft.descriptionHash))
  // Writer: "if `x` is included: MUST use the minimum `data_length` possible".
  if (draft.expirySeconds !== undefined) put('x', uintWords(draft.expirySeconds))
  if (draft.minFinalCltvExpiryDelta !== undefined) put('c', uintWords(draft.minFinalCltvExpiryDelta))
  if (draft.includeNodeId === true) put('n', hexWords(bytesToHex(secp.getPublicKey(payeeSecretKey, true))))
  // Writer: "if `9` contains non-zero bits: MUST use the minimum `data_length` possible ...
  // otherwise: MUST omit the `9` field altogether."
  const features = featureWords(draft.features ?? DEFAULT_INVOICE_FEATURE_BITS)
  if (features.length > 0) put('9', features)
  if (draft.metadataHex !== undefined) put('m', hexWords(draft.metadataHex))
  for (const fb of draft.fallbacks ?? []) put('f', fallbackWords(fb))
  for (const hops of draft.routeHints ?? []) {
    const w = routeWords(hops)
    if (w.length > MAX_FIELD_WORDS) return fail('invalid_draft', 'routeHints', 'a route hint longer than one field holds')
    put('r', w)
  }

  const order = [...new Set([...(opts.fieldOrder ?? []), ...DEFAULT_FIELD_ORDER])]
  const dataWords = [...uintToFixedWords(draft.timestamp, 7)]
  for (const tag of order) for (const f of byTag[tag] ?? []) dataWords.push(...f)

  const hrp = formatHrp(draft.network, draft.amountMsat ?? null)
  const { bytes } = sign(signingHash(hrp, dataWords), payeeSecretKey)
  const words = [...dataWords, ...bytesToWordsExact(bytes)]
  if (hrp.length + 7 + words.length > MAX_INVOICE_CHARS) return fail(
    'invalid_draft', 'invoice', `longer than ${MAX_INVOICE_CHARS} characters`,
  )
  return ok(bech32.encode(hrp, words, MAX_INVOICE_CHARS))
}

/** 65 bytes = 520 bits = exactly 104 words. */
const bytesToWordsExact = (b: Uint8Array): number[] => bech32.toWords(b)

