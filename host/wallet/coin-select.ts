// Transaction size estimates and coin selection for a P2WPKH-only wallet. Pure functions.
//
// Sizes are upper bounds (72-byte DER signatures), so the fee paid is never below the configured
// rate; the actual signature is usually 71 bytes, i.e. up to 1 vbyte per input overpaid.

/** version 4 + locktime 4 + input count 1 + output count 1, ×4, + segwit marker and flag (2 WU). */
const TX_OVERHEAD_WU = 10 * 4 + 2
/** outpoint 36 + empty scriptSig 1 + sequence 4, ×4; witness: count 1 + sig 1+72 + pubkey 1+33. */
const P2WPKH_INPUT_WU = 41 * 4 + 108
/** 8-byte value + 1-byte script length + 22-byte P2WPKH script. */
export const P2WPKH_OUTPUT_BYTES = 31

const OP_RETURN = 0x6a

export function outputBytes (script: Uint8Array): number { return 8 + 1 + script.length }

export function estimateVsize (inputs: number, outputScripts: Uint8Array[]): number {
  const wu = TX_OVERHEAD_WU + inputs * P2WPKH_INPUT_WU + outputScripts.reduce((s, o) => s + outputBytes(o) * 4, 0)
  return Math.ceil(wu / 4)
}

/**
 * btcd's dust rule (mempool/policy.go GetDustThreshold, isDust) at its default 1 sat/vB relay fee:
 * an output is dust if spending it would cost more than a third of its value. Spending is estimated
 * as 41 bytes of input plus 107 bytes of signature script, discounted 4× for witness programs.
 * A null-data output (OP_RETURN, an audit anchor) is never spent and never dust: btcd checks it as
 * NullDataTy instead (at most one per transaction), so its value may be 0.
 */
export function dustThreshold (script: Uint8Array): number {
  if (script[0] === OP_RETURN) return 0
  const isWitness = script.length >= 4 && script.length <= 42 && (
    script[0] === 0 || (script[0]! >= 0x51 && script[0]! <= 0x60)
  ) && script[1] === script.length - 2
  const spend = outputBytes(script) + 41 + (isWitness ? Math.floor(107 / 4) : 107)
  return 3 * spend
}

export interface Coin { id: string; value: number }

export type Selection =
  | { ok: true; coins: Coin[]; fee: number; change: number; vsize: number }
  | { ok: false; needed: number; available: number }

/**
 * Largest-first selection: few inputs, so small fees and quick consolidation of coinbase-sized
 * coins. Adds change (to `changeScript`) unless it would be dust, in which case the remainder goes
 * to the fee. Fee = ceil(vsize × feeRate), vsize from estimateVsize.
 */
export function selectCoins (
  coins: Coin[], outputScripts: Uint8Array[], amount: number, feeRate: number, changeScript: Uint8Array,
): Selection {
  const sorted = [...coins].sort((a, b) => b.value - a.value || (a.id < b.id ? -1 : 1))
  const chosen: Coin[] = []
  let total = 0
  for (const c of sorted) {
    chosen.push(c)
    total += c.value
    const withChange = estimateVsize(chosen.length, [...outputScripts, changeScript])
    const feeWithChange = Math.ceil(withChange * feeRate)
    const change = total - amount - feeWithChange
    if (change >= dustThreshold(changeScript)) return { ok: true, coins: chosen, fee: feeWithChange, change, vsize: withChange }
    const without = estimateVsize(chosen.length, outputScripts)
    const feeWithout = Math.ceil(without * feeRate)
    if (total - amount >= feeWithout) return { ok: true, coins: chosen, fee: total - amount, change: 0, vsize: without }
  }
  const fee = Math.ceil(estimateVsize(Math.max(1, sorted.length), outputScripts) * feeRate)
  return { ok: false, needed: amount + fee, available: total }
}
