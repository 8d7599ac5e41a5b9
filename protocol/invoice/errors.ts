// What decoding and encoding an invoice can fail with. A closed set of reasons (DESIGN.md rule 5):
// an invoice from outside is either a value or one of these, never an exception.
import { err, type Result } from '../result.ts'

export type InvoiceErrorReason =
  | 'not_bech32'               // bad characters, mixed case, no separator, or a wrong checksum
  | 'unknown_prefix'           // hrp does not start with ln + a currency we know
  | 'wrong_network'            // a valid prefix, but not the network the caller asked for
  | 'invalid_amount'           // amount has a non-digit, a bad multiplier, leading zero or is 0
  | 'sub_msat_amount'          // `p` multiplier whose last decimal is not 0
  | 'amount_too_large'         // more msat than a safe integer holds
  | 'too_short'                // no room for a timestamp and a signature
  | 'too_long'                 // longer than MAX_INVOICE_CHARS
  | 'field_truncated'          // a tagged field's data_length runs into the signature
  | 'field_length'             // a fixed-length field (p, h, s, n) of the wrong length
  | 'field_invalid'            // a field's data cannot be read (bad padding, UTF-8, point, program)
  | 'non_minimal'              // x, c or 9 starting with a zero field element
  | 'missing_payment_hash'     // no `p`
  | 'missing_payment_secret'   // no `s`
  | 'description'              // neither `d` nor `h`, or both
  | 'description_hash_mismatch'// sha256(description given by the caller) differs from `h`
  | 'unknown_required_feature' // an even feature bit we do not know
  | 'missing_feature_dependency' // a known feature set without the features it depends on
  | 'bad_signature'            // recovery fails, recovery id > 3, or `n` does not verify
  | 'high_s_with_n'            // `n` given and the signature is not low-S
  | 'expired'                  // now > timestamp + expiry
  | 'invalid_draft'            // encoder input out of range (names the field)

export interface InvoiceError {
  readonly reason: InvoiceErrorReason
  /** The tagged field or part the rule applies to: 'hrp', 'amount', 'p', 's', 'signature', ... */
  readonly field: string
  readonly detail: string
}

/** An invoice, or a part of one, read or written: the value, or why not (protocol/result.ts). */
export type InvoiceResult<T> = Result<T, InvoiceError>

export const fail = <T = never>(reason: InvoiceErrorReason, field: string, detail: string): InvoiceResult<T> =>
  err({ reason, field, detail })
