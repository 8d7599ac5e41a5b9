// Reading an invoice string: bech32, the human-readable part, the tagged fields, then the reader
// rules of BOLT #11 and the signature. Returns an Invoice or an error naming the field and the rule.
import { bech32 } from 'bech32'
import { sha256 } from '@noble/hashes/sha2.js'
import { MAX_INVOICE_CHARS, MAX_QUOTED_CHARS } from '../limits.ts'
import { bytesToHex, hexToBytes, type NodeId } from '../types.ts'
import { checkFeatures } from './features.ts'
import {
  FIXED_LENGTH, readBytes, readFallback, readFeatures, readHash32, readMinimalUint, readRoute, readText, tagName,
  type Fallback, type RouteHop, type TagName,
} from './fields.ts'
import { parseHrp, type Network } from './hrp.ts'
import { expiresAt, isExpired, type Invoice } from './invoice.ts'
import { ok } from '../result.ts'
import { fail, type InvoiceResult } from './errors.ts'
import { SIGNATURE_WORDS, parseSignature, recoverNodeId, signingHash, verifyWithNodeId } from './signature.ts'
import { wordsToBytes, wordsToUint } from './words.ts'

const TIMESTAMP_WORDS = 7

export interface DecodeOptions {
  /** Fail with 'wrong_network' unless the invoice is for this network. */
  readonly network?: Network
  /** Current time in seconds: fail with 'expired' past timestamp + expiry. */
  readonly now?: number
  /** The full description the `h` field commits to: fail unless its sha256 matches. */
  readonly description?: string
}

export function decodeInvoice (input: unknown, opts: DecodeOptions = {}): InvoiceResult<Invoice> {
  if (typeof input !== 'string') return fail('not_bech32', 'invoice', 'not a string')
  if (input.length > MAX_INVOICE_CHARS) return fail('too_long', 'invoice', `${input.length} characters > ${MAX_INVOICE_CHARS}`)
  // BOLT #11: "MUST parse the address as Bech32, as specified in BIP-0173 (also without the character
  // limit)" ... "if the checksum is incorrect: MUST fail the payment."
  let prefix: string
  let words: number[]
  try {
    ({ prefix, words } = bech32.decode(input, MAX_INVOICE_CHARS))
  } catch (e) {
    return fail('not_bech32', 'invoice', (e as Error).message.slice(0, MAX_QUOTED_CHARS))
  }
  const hrp = parseHrp(prefix)
  if (!hrp.ok) return hrp
  if (opts.network !== undefined && hrp.value.network !== opts.network) {
    return fail('wrong_network', 'hrp', `invoice is for ${hrp.value.network}, expected ${opts.network}`)
  }
  if (words.length < TIMESTAMP_WORDS + SIGNATURE_WORDS) {
    return fail('too_short', 'invoice', `${words.length} data words, need at least ${TIMESTAMP_WORDS + SIGNATURE_WORDS}`)
  }
  const dataWords = words.slice(0, words.length - SIGNATURE_WORDS)
  const sigBytes = wordsToBytes(words.slice(words.length - SIGNATURE_WORDS))!
  const timestamp = wordsToUint(dataWords.slice(0, TIMESTAMP_WORDS))!

  const fields = readFields(dataWords.slice(TIMESTAMP_WORDS))
  if (!fields.ok) return fields
  const f = fields.value

  // BOLT #11 (reader): "if a valid `s` field is not provided: MUST fail the payment."
  if (f.paymentHash === null) return fail('missing_payment_hash', 'p', 'no `p` field')
  if (f.paymentSecret === null) return fail('missing_payment_secret', 's', 'no `s` field')
  // "MUST fail the payment if neither a `d` field nor a `h` field is present, or if both are present."
  if ((f.description === null) === (f.descriptionHash === null)) {
    return fail('description', f.description === null ? 'd' : 'h', f.description === null ? 'neither `d` nor `h`' : 'both `d` and `h`')
  }
  // "MUST check that the SHA2 256-bit hash in the `h` field exactly matches the hashed description."
  if (f.descriptionHash !== null && opts.description !== undefined &&
      bytesToHex(sha256(new TextEncoder().encode(opts.description))) !== f.descriptionHash) {
    return fail('description_hash_mismatch', 'h', 'sha256 of the given description differs from `h`')
  }
  const feat = checkFeatures(f.features)
  if (!feat.ok) return feat

  const sig = parseSignature(sigBytes)
  if (!sig.ok) return sig
  const hash = signingHash(prefix, dataWords)
  let payee: Uint8Array
  if (f.nodeId !== null) {
    const v = verifyWithNodeId(hash, sig.value, hexToBytes(f.nodeId))
    if (!v.ok) return v
    payee = hexToBytes(f.nodeId)
  } else {
    const r = recoverNodeId(hash, sig.value)
    if (!r.ok) return r
    payee = r.value
  }

  const inv: Invoice = {
    network: hrp.value.network,
    amountMsat: hrp.value.amountMsat,
    timestamp,
    paymentHash: f.paymentHash,
    paymentSecret: f.paymentSecret,
    description: f.description,
    descriptionHash: f.descriptionHash,
    expirySeconds: f.expiry,
    minFinalCltvExpiryDelta: f.minFinalCltv,
    features: f.features,
    metadataHex: f.metadata,
    fallbacks: f.fallbacks,
    routeHints: f.routeHints,
    payee: bytesToHex(payee) as NodeId,
    payeeFromN: f.nodeId !== null,
    signature: sig.value,
    unknownFields: f.unknown,
    fieldOrder: f.order,
  }
  if (opts.now !== undefined && isExpired(inv, opts.now)) {
    return fail('expired', 'x', `expired at ${expiresAt(inv)}, now ${opts.now}`)
  }
  return ok(inv)
}

interface Fields {
  paymentHash: string | null
  paymentSecret: string | null
  description: string | null
  descriptionHash: string | null
  nodeId: string | null
  expiry: number | null
  minFinalCltv: number | null
  features: number[]
  metadata: string | null
  fallbacks: Fallback[]
  routeHints: RouteHop[][]
  unknown: Array<{ type: number; words: number[] }>
  order: TagName[]
}

/** Walk type (5 bits) ‖ data_length (10 bits) ‖ data. Where a field appears twice, the first counts
 * (BOLT #11 payer: "SHOULD use the first `p` field as the payment hash"). */
function readFields (words: readonly number[]): InvoiceResult<Fields> {
  const f: Fields = {
    paymentHash: null, paymentSecret: null, description: null, descriptionHash: null, nodeId: null,
    expiry: null, minFinalCltv: null, features: [], metadata: null, fallbacks: [], routeHints: [], unknown: [], order: [],
  }
  let seenFeatures = false
  let i = 0
  while (i < words.length) {
    if (i + 3 > words.length) return fail('field_truncated', 'fields', `field header at word ${i} is cut short`)
    const type = words[i]!
    const len = words[i + 1]! * 32 + words[i + 2]!
    const data = words.slice(i + 3, i + 3 + len)
    const tag = tagName(type)
    if (data.length < len) return fail('field_truncated', tag ?? `type ${type}`, `data_length ${len} runs past the signature`)
    i += 3 + len
    if (tag === undefined) {
      f.unknown.push({ type, words: data }) // BOLT #11 rationale: unknown fields allow extensions.
      continue
    }
    f.order.push(tag)
    const fixed = FIXED_LENGTH[tag]
    if (fixed !== undefined && len !== fixed) {
      return fail('field_length', tag, `data_length ${len}, must be ${fixed}`)
    }
    const r = readField(tag, data, f, seenFeatures)
    if (!r.ok) return r
    if (tag === '9') seenFeatures = true
  }
  return ok(f)
}

function readField (tag: TagName, data: readonly number[], f: Fields, seenFeatures: boolean): InvoiceResult<void> {
  switch (tag) {
    case 'p': case 's': case 'h': {
      const r = readHash32(tag, data)
      if (!r.ok) return r
      if (tag === 'p') f.paymentHash ??= r.value
      else if (tag === 's') f.paymentSecret ??= r.value
      else f.descriptionHash ??= r.value
      return ok(undefined)
    }
    case 'n': {
      const r = readBytes('n', data)
      if (!r.ok) return r
      if (r.value.length !== 33 || (r.value[0] !== 2 && r.value[0] !== 3)) return fail('field_invalid', 'n', 'not a compressed public key')
      f.nodeId ??= bytesToHex(r.value)
      return ok(undefined)
    }
    case 'd': {
      const r = readText('d', data)
      if (!r.ok) return r
      f.description ??= r.value
      return ok(undefined)
    }
    case 'm': {
      const r = readBytes('m', data)
      if (!r.ok) return r
      f.metadata ??= bytesToHex(r.value)
      return ok(undefined)
    }
    case 'x': case 'c': {
      const r = readMinimalUint(tag, data)
      if (!r.ok) return r
      if (tag === 'x') f.expiry ??= r.value
      else f.minFinalCltv ??= r.value
      return ok(undefined)
    }
    case '9': {
      const r = readFeatures(data)
      if (!r.ok) return r
      if (!seenFeatures) f.features = r.value
      return ok(undefined)
    }
    case 'f': {
      const r = readFallback(data)
      if (!r.ok) return r
      if (r.value !== null) f.fallbacks.push(r.value)
      return ok(undefined)
    }
    case 'r': {
      const r = readRoute(data)
      if (!r.ok) return r
      f.routeHints.push(r.value)
      return ok(undefined)
    }
  }
  return ok(undefined)
}
