// Plain single-key wallet inputs (P2WPKH, or P2PKH as in the BOLT #3 funding vector): signing them and
// estimating their weight. Used by the funding tx, claim/CPFP txs and fee-bumped anchors HTLC txs.
import { getCurve, type Curve } from '../crypto/index.ts'
import { concatBytes } from '../crypto/hash.ts'
import type { Sat, Txid } from '../types.ts'
import { compile, p2pkh } from './script.ts'
import { SIGHASH_ALL, legacySighash, witnessV0Sighash } from './serialize.ts'
import { witnessSig } from './sign.ts'
import type { Tx, TxInput } from './types.ts'

export interface WalletInput {
  readonly txid: Txid
  readonly vout: number
  readonly valueSat: Sat
  readonly kind: 'p2wpkh' | 'p2pkh'
  readonly privkey: Uint8Array
}

/** The largest low-S DER signature plus its sighash byte: 72 bytes. Fee estimates use it. */
export const MAX_WITNESS_SIG = new Uint8Array(72).fill(0x30)
/** Placeholder 33-byte pubkey for estimates. */
const PLACEHOLDER_PUBKEY = new Uint8Array(33).fill(0x02)

/** The unsigned input for a wallet UTXO. */
export function walletTxInput (w: WalletInput, sequence = 0xfffffffd): TxInput {
  return { txid: w.txid, vout: w.vout, sequence, scriptSig: new Uint8Array(0), witness: [] }
}

/** The input as it will look once signed, with a maximal signature: for weight estimates. */
export function placeholderWalletInput (input: TxInput, kind: WalletInput['kind']): TxInput {
  return kind === 'p2wpkh'
    ? { ...input, witness: [MAX_WITNESS_SIG, PLACEHOLDER_PUBKEY] }
    : { ...input, scriptSig: compile([MAX_WITNESS_SIG, PLACEHOLDER_PUBKEY]) }
}

/**
 * Signs the wallet inputs at `tx.inputs[startIndex ..]` (in the order of `inputs`), SIGHASH_ALL.
 * All other inputs' witnesses must already be final or be signed with a mode that ignores these.
 */
export function signWalletInputs (tx: Tx, inputs: readonly WalletInput[], startIndex: number, curve?: Curve): Tx {
  const c = getCurve(curve)
  const signed = tx.inputs.slice()
  inputs.forEach((w, k) => {
    const index = startIndex + k
    const pubkey = c.pubkey(w.privkey)
    const prev = signed[index]
    if (prev === undefined || prev.txid !== w.txid || prev.vout !== w.vout) throw new RangeError(
      `signWalletInputs: input ${index} is not ${w.txid}:${w.vout}`
    )
    if (w.kind === 'p2wpkh') {
      // BIP 143: the scriptCode of a P2WPKH output is the P2PKH script of its key.
      const sig = c.sign(witnessV0Sighash(tx, index, p2pkh(pubkey), w.valueSat, SIGHASH_ALL), w.privkey)
      signed[index] = { ...prev, witness: [witnessSig(sig, SIGHASH_ALL), pubkey] }
    } else {
      const sig = c.sign(legacySighash(tx, index, p2pkh(pubkey), SIGHASH_ALL), w.privkey)
      signed[index] = { ...prev, scriptSig: concatBytes(compile([witnessSig(sig, SIGHASH_ALL), pubkey])) }
    }
  })
  return { ...tx, inputs: signed }
}

/** Bitcoin Core's dust threshold for an output script at its default 3 sat/vB dust relay fee. */
export function dustThresholdSat (script: Uint8Array): number {
  if (script.length === 22 && script[0] === 0 && script[1] === 20) return 294 // P2WPKH
  if (script.length === 34 && script[0] === 0 && script[1] === 32) return 330 // P2WSH
  if (script.length === 34 && script[0] === 0x51 && script[1] === 32) return 330 // P2TR
  return 546 // P2PKH, P2SH and anything else
}
