// What each recipient of a split receives, exact to the msat (DESIGN.md "Splits"). The rule, also in
// client-sdk/README.md:
//
//   - ppm shares (parts per million of the total) must sum to exactly 1,000,000. Leg i gets
//     floor(total · ppm_i / 1,000,000) msat; the remainder (fewer msat than there are legs) goes one
//     msat each to the legs in the order the shares were given, first leg first.
//   - msat shares name each leg's amount; they must sum to the total.
//   - one kind per split (all ppm or all msat), every leg at least 1 msat, each recipient once.
//
// So the legs always sum to the total, and the same arguments always give the same amounts.
import { MAX_SPLIT_RECIPIENTS, SPLIT_PPM_WHOLE } from '../limits.ts'
import { err, ok, type Result } from '../result.ts'

export type Share = { to: string; ppm: number } | { to: string; msat: number }

/** Why shares cannot be split: the field named as the SDK's argument path (shares.2.ppm, total). */
export interface ShareError { field: string; detail: string }

/** Every leg's amount in msat, in the order of `shares`; they sum to `total`. */
export function splitAmounts (total: number, shares: readonly Share[]): Result<number[], ShareError> {
  if (!Number.isSafeInteger(total) || total < 1) return err({ field: 'total', detail: 'must be a positive safe integer (msat)' })
  if (shares.length < 1 || shares.length > MAX_SPLIT_RECIPIENTS) {
    return err({ field: 'shares', detail: `must have 1 to ${MAX_SPLIT_RECIPIENTS} entries (MAX_SPLIT_RECIPIENTS)` })
  }
  const seen = new Map<string, number>()
  for (const [i, s] of shares.entries()) {
    const first = seen.get(s.to)
    if (first !== undefined) return err({ field: `shares.${i}.to`, detail: `names the recipient of shares.${first} again` })
    seen.set(s.to, i)
  }
  const byPpm = shares.every(s => 'ppm' in s)
  if (!byPpm && !shares.every(s => 'msat' in s)) {
    return err({ field: 'shares', detail: 'must be all ppm shares or all msat shares' })
  }
  const amounts = byPpm ? byParts(total, shares as ReadonlyArray<{ ppm: number }>) : byMsat(
    total, shares as ReadonlyArray<{ msat: number }>,
  )
  if (!amounts.ok) return amounts
  const zero = amounts.value.findIndex(a => a < 1)
  if (zero >= 0) return err({
    field: `shares.${zero}`, detail: `comes to ${amounts.value[zero]} msat of ${total}: every leg must be at least 1 msat`,
  })
  return amounts
}

function byParts (total: number, shares: ReadonlyArray<{ ppm: number }>): Result<number[], ShareError> {
  for (const [i, s] of shares.entries()) {
    if (!Number.isSafeInteger(s.ppm) || s.ppm < 1 || s.ppm > SPLIT_PPM_WHOLE) {
      return err({ field: `shares.${i}.ppm`, detail: `must be an integer from 1 to ${SPLIT_PPM_WHOLE}` })
    }
  }
  const sum = shares.reduce((t, s) => t + s.ppm, 0)
  if (sum !== SPLIT_PPM_WHOLE) return err({ field: 'shares', detail: `the ppm shares sum to ${sum}, not ${SPLIT_PPM_WHOLE}` })
  // total · ppm can pass 2^53: computed in bigint, and each floor is at most total.
  const floors = shares.map(s => Number((BigInt(total) * BigInt(s.ppm)) / BigInt(SPLIT_PPM_WHOLE)))
  let remainder = total - floors.reduce((t, a) => t + a, 0)
  return ok(floors.map(a => remainder-- > 0 ? a + 1 : a))
}

function byMsat (total: number, shares: ReadonlyArray<{ msat: number }>): Result<number[], ShareError> {
  for (const [i, s] of shares.entries()) {
    if (!Number.isSafeInteger(s.msat) || s.msat < 1) return err({ field: `shares.${i}.msat`, detail: 'must be a positive safe integer' })
  }
  const sum = shares.reduce((t, s) => t + s.msat, 0)
  if (sum !== total) return err({ field: 'shares', detail: `the msat shares sum to ${sum}, not the total ${total}` })
  return ok(shares.map(s => s.msat))
}
