// The human-readable part: `ln` + currency prefix + optional amount with a multiplier.
import type { Msat } from '../types.ts'
import { ok } from '../result.ts'
import { fail, type InvoiceResult } from './errors.ts'

/** Currency prefixes after `ln`. BOLT #11: "`lnbc` for Bitcoin mainnet, `lntb` for Bitcoin testnet,
 * `lntbs` for Bitcoin signet, and `lnbcrt` for Bitcoin regtest". */
export type Network = 'bc' | 'tb' | 'tbs' | 'bcrt'
// Longest first, so that `lnbcrt` is not read as `lnbc` followed by an amount "rt".
const NETWORKS: readonly Network[] = ['bcrt', 'tbs', 'bc', 'tb']

const MSAT_PER_BTC = 100_000_000_000n
/** msat per unit of each multiplier, times 10 so that pico (0.1 msat) stays an integer. */
const TENTH_MSAT_PER_UNIT: Record<string, bigint> = {
  '': MSAT_PER_BTC * 10n,
  m: MSAT_PER_BTC * 10n / 1_000n,
  u: MSAT_PER_BTC * 10n / 1_000_000n,
  n: MSAT_PER_BTC * 10n / 1_000_000_000n,
  p: 1n,
}
/** More digits than a safe msat amount can need in any unit (2^53 pico-BTC tenths has 17). */
const MAX_AMOUNT_DIGITS = 20

export interface Hrp { readonly network: Network; readonly amountMsat: Msat | null }

export function parseHrp (hrp: string): InvoiceResult<Hrp> {
  if (!hrp.startsWith('ln')) return fail('unknown_prefix', 'hrp', `"${hrp}" does not start with "ln"`)
  const network = NETWORKS.find(n => hrp.startsWith(n, 2))
  if (network === undefined) return fail('unknown_prefix', 'hrp', `unknown currency prefix in "${hrp}"`)
  const amount = hrp.slice(2 + network.length)
  if (amount === '') return ok({ network, amountMsat: null })
  const amt = parseAmount(amount)
  return amt.ok ? ok({ network, amountMsat: amt.value }) : amt
}

// BOLT #11 (reader): "if `amount` contains a non-digit OR is followed by anything except a
// `multiplier` (see table above): MUST fail the payment." ... "if multiplier is `p` and the last
// decimal of `amount` is not 0: MUST fail the payment."
function parseAmount (s: string): InvoiceResult<Msat> {
  const m = /^([0-9]+)([munp]?)$/.exec(s)
  if (m === null) return fail('invalid_amount', 'amount', `"${s}" is not digits followed by an optional m, u, n or p`)
  const [, digits, mult] = m as unknown as [string, string, string]
  // Writer: "MUST encode `amount` as a positive decimal integer with no leading 0s." We read only
  // canonical amounts: an invoice for 0 BTC, or one written two ways, is not one we would pay.
  if (digits.length > MAX_AMOUNT_DIGITS) return fail('amount_too_large', 'amount', `${digits.length} digits`)
  if (digits.startsWith('0')) return fail('invalid_amount', 'amount', `"${s}" is zero or has a leading 0`)
  const tenths = BigInt(digits) * TENTH_MSAT_PER_UNIT[mult]!
  if (tenths % 10n !== 0n) return fail('sub_msat_amount', 'amount', `"${s}" is not a whole number of msat`)
  const msat = tenths / 10n
  if (msat > BigInt(Number.MAX_SAFE_INTEGER)) return fail('amount_too_large', 'amount', `"${s}" exceeds ${Number.MAX_SAFE_INTEGER} msat`)
  return ok(Number(msat) as Msat)
}

/**
 * The amount part for an msat value. BOLT #11 (writer): "SHOULD use the shortest representation
 * possible, by using the largest multiplier or omitting the multiplier."
 */
export function formatAmount (msat: Msat): string {
  const tenths = BigInt(msat) * 10n
  for (const mult of ['', 'm', 'u', 'n', 'p']) {
    const unit = TENTH_MSAT_PER_UNIT[mult]!
    if (tenths % unit === 0n) return `${tenths / unit}${mult}`
  }
  throw new Error('unreachable: every msat amount is a whole number of pico-BTC tenths')
}

export const formatHrp = (network: Network, amountMsat: Msat | null): string =>
  `ln${network}${amountMsat === null ? '' : formatAmount(amountMsat)}`
