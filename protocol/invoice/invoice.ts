// What a decoded (and verified) invoice says. Absent optional fields are null, so a reader can tell
// "not given" from a default; the defaults the spec names are applied by the helpers below.
import type { Msat, NodeId } from '../types.ts'
import type { Fallback, RouteHop, TagName } from './fields.ts'
import type { Network } from './hrp.ts'
import type { InvoiceSignature } from './signature.ts'

export interface Invoice {
  readonly network: Network
  /** null: "any amount" (a donation). */
  readonly amountMsat: Msat | null
  /** Seconds since 1970 (35 bits). */
  readonly timestamp: number
  readonly paymentHash: string
  readonly paymentSecret: string
  /** Exactly one of description / descriptionHash is non-null. */
  readonly description: string | null
  readonly descriptionHash: string | null
  /** Seconds after `timestamp`; null: not given (default DEFAULT_EXPIRY_SECONDS). */
  readonly expirySeconds: number | null
  /** `c`; null: not given (default DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA). */
  readonly minFinalCltvExpiryDelta: number | null
  /** Set feature bits, ascending (bit 0 least significant); [] when there is no `9` field. */
  readonly features: readonly number[]
  readonly metadataHex: string | null
  /** Fallbacks of versions we know, in the writer's order of preference. */
  readonly fallbacks: readonly Fallback[]
  /** One list of hops per `r` field. */
  readonly routeHints: ReadonlyArray<readonly RouteHop[]>
  /** The payee: from `n` when given, else recovered from the signature. */
  readonly payee: NodeId
  /** True when the payee came from an `n` field (and the signature was verified against it). */
  readonly payeeFromN: boolean
  readonly signature: InvoiceSignature
  /** Fields we do not understand (skipped, as the spec requires), with their raw words. */
  readonly unknownFields: ReadonlyArray<{ readonly type: number; readonly words: readonly number[] }>
  /** Tags in the order they appear (known tags only), e.g. ['p', 'd', 'x', 's', '9']. */
  readonly fieldOrder: readonly TagName[]
}

/** BOLT #11: "`x` ... Default is 3600 (1 hour) if not specified." */
export const DEFAULT_EXPIRY_SECONDS = 3600
/** BOLT #11: "`c` ... Default is 18 if not specified." */
export const DEFAULT_MIN_FINAL_CLTV_EXPIRY_DELTA = 18

/** The second after which the payee will refuse the payment (timestamp + expiry). */
export const expiresAt = (inv: Invoice): number => inv.timestamp + (inv.expirySeconds ?? DEFAULT_EXPIRY_SECONDS)

// BOLT #11 (payer): "after the `timestamp` plus `expiry` has passed: SHOULD NOT attempt a payment."
export const isExpired = (inv: Invoice, nowSeconds: number): boolean => nowSeconds > expiresAt(inv)
