// Our side of a splice, built from what the owner asks for (protocol/channel/README.md "Host contract"
// item 8): the signed amount added to (+) or taken from (−) our channel balance, the wallet coins that
// pay for a splice-in, and our outputs. What our side pays in fees is protocol/channel/splice/fees.ts's
// arithmetic (BOLT #2 "Fee Responsibility"): the initiator pays for the common fields and the shared
// input and output, each side for its own inputs and outputs. Pure: the host fetches the coins'
// previous transactions and draws the entropy.
import { spliceFeeSat } from '../../protocol/channel/splice/fees.ts'
import { err, ok, type Result } from '../../protocol/result.ts'
import type { Sat, Txid } from '../../protocol/types.ts'

/** A confirmed wallet coin a splice-in may spend. */
export interface SpliceCoin { txid: Txid; vout: number; valueSat: number; script: string }

/** What the owner wants of a splice. */
export type SpliceWish =
  /** Pay `amountSat` to `script` (hex) out of our channel balance; the fee comes out of it too. */
  | { kind: 'out'; amountSat: number; script: string }
  /** Add `amountSat` from our wallet to our channel balance; the fee is paid by the coins. */
  | { kind: 'in'; amountSat: number }
  /** Take no part in the peer's splice (contribution 0, no input or output). */
  | { kind: 'none' }

/** Our contribution without its coins' previous transactions and entropy (the host adds those). */
export interface PlannedContribution {
  contributionSat: number
  coins: SpliceCoin[]
  outputs: Array<{ script: string; sats: Sat }>
  /** What our side pays the miners. */
  feeSat: number
}

export interface ContributionParams {
  /** We send splice_init (or tx_init_rbf). */
  initiator: boolean
  feeratePerKw: number
  /** The least an output of ours may hold: the larger of both sides' dust limits (the negotiation
   *  refuses an output below either). */
  dustLimitSat: number
}

export type PlanFailure =
  | { kind: 'insufficient_funds'; neededSat: number; availableSat: number }
  | { kind: 'below_dust'; detail: string }

/** A splice-out of `amountSat` to `script`, paid from our balance. */
export function spliceOutPlan (amountSat: number, script: string, p: ContributionParams): Result<PlannedContribution, PlanFailure> {
  if (amountSat < p.dustLimitSat) return err({
    kind: 'below_dust', detail: `the payout of ${amountSat} sat is below the dust limit of ${p.dustLimitSat} sat`,
  })
  const feeSat = spliceFeeSat({ initiator: p.initiator, feeratePerKw: p.feeratePerKw, inputScripts: [], outputScripts: [script] })
  return ok({ contributionSat: -(amountSat + feeSat), coins: [], outputs: [{ script, sats: amountSat as Sat }], feeSat })
}

/** Nothing of ours: the answer to a peer's splice we only accept. The initiator's share of the fee
 *  (the common fields, the shared input and output) still comes from its balance. */
export function noPartPlan (p: ContributionParams): PlannedContribution {
  const feeSat = p.initiator ? spliceFeeSat({ initiator: true, feeratePerKw: p.feeratePerKw, inputScripts: [], outputScripts: [] }) : 0
  return { contributionSat: -feeSat, coins: [], outputs: [], feeSat }
}

/**
 * A splice-in of `amountSat` from `coins`: largest first, until they pay the amount and our fee, with
 * change to `changeScript` unless it would be below the dust limit (then the rest goes to the fee).
 */
export function spliceInPlan (
  coins: readonly SpliceCoin[], amountSat: number, changeScript: string, p: ContributionParams,
): Result<PlannedContribution, PlanFailure> {
  const sorted = [...coins].sort((a, b) => b.valueSat - a.valueSat || (a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : a.vout - b.vout))
  const chosen: SpliceCoin[] = []
  let total = 0
  const fee = (outputs: string[]): number =>
    spliceFeeSat({ initiator: p.initiator, feeratePerKw: p.feeratePerKw, inputScripts: chosen.map(c => c.script), outputScripts: outputs })
  for (const c of sorted) {
    chosen.push(c)
    total += c.valueSat
    const withChange = fee([changeScript])
    const change = total - amountSat - withChange
    if (change >= p.dustLimitSat) {
      return ok({
        contributionSat: amountSat, coins: [...chosen], outputs: [{ script: changeScript, sats: change as Sat }], feeSat: withChange,
      })
    }
    const without = fee([])
    if (total - amountSat >= without) return ok({ contributionSat: amountSat, coins: [...chosen], outputs: [], feeSat: total - amountSat })
  }
  const neededFee = spliceFeeSat({
    initiator: p.initiator, feeratePerKw: p.feeratePerKw, inputScripts: sorted.map(c => c.script), outputScripts: [],
  })
  return err({ kind: 'insufficient_funds', neededSat: amountSat + neededFee, availableSat: total })
}
