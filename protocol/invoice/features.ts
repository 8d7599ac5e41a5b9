// Feature bits of the `9` field (BOLT #9, contexts marked 9), and the reader's checks on them.
import { ok } from '../result.ts'
import { fail, type InvoiceResult } from './errors.ts'

/** Even bit of each feature pair we understand in an invoice (its odd twin is bit + 1). */
export const INVOICE_FEATURES = {
  var_onion_optin: 8,
  payment_secret: 14,
  basic_mpp: 16,
  option_route_blinding: 24,
  option_attribution_data: 36,
  option_payment_metadata: 48,
} as const

/** BOLT #9: "`basic_mpp` ... Dependencies: `payment_secret`". */
const DEPENDS_ON: ReadonlyArray<readonly [number, number]> = [[INVOICE_FEATURES.basic_mpp, INVOICE_FEATURES.payment_secret]]

/** What our invoices set: both ASSUMED features as compulsory, as the spec examples do. */
export const DEFAULT_INVOICE_FEATURE_BITS: readonly number[] = [INVOICE_FEATURES.var_onion_optin, INVOICE_FEATURES.payment_secret]

const KNOWN_EVEN = new Set<number>(Object.values(INVOICE_FEATURES))
const pairOf = (bit: number): number => bit - (bit % 2)

export function checkFeatures (bits: readonly number[]): InvoiceResult<void> {
  // BOLT #11: "if the `9` field contains unknown _odd_ bits that are non-zero: MUST ignore the bit.
  // if the `9` field contains unknown _even_ bits that are non-zero: MUST fail the payment. SHOULD
  // indicate the unknown bit to the user."
  const unknownEven = bits.filter(b => b % 2 === 0 && !KNOWN_EVEN.has(b))
  if (unknownEven.length > 0) {
    return fail('unknown_required_feature', '9', `unknown even feature bit(s) ${unknownEven.join(', ')}`)
  }
  // BOLT #11: "if the feature vector does not set all known, transitive feature dependencies: MUST
  // NOT attempt the payment."
  const pairs = new Set(bits.map(pairOf))
  for (const [feature, needs] of DEPENDS_ON) {
    if (pairs.has(feature) && !pairs.has(needs)) {
      return fail('missing_feature_dependency', '9', `feature ${feature}/${feature + 1} needs ${needs}/${needs + 1}`)
    }
  }
  return ok(undefined)
}
