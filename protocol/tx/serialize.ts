// Bytes, txids, weights and BIP143 sighashes of plain `Tx` values: txids and sighashes computed
// directly (sighash.ts, on the hot path), the rest via bitcoinjs-lib (pure JS).
import { Transaction } from 'bitcoinjs-lib'
import { bytesToHex, hexToBytes, sat, type Txid } from '../types.ts'
import type { Tx } from './types.ts'
import { bip143Sighash, computeTxid } from './sighash.ts'

export const SIGHASH_ALL = 0x01
export const SIGHASH_SINGLE_ANYONECANPAY = 0x83

/** Txid (RPC byte order, hex) → the internal byte order a tx input references. */
export function txidToHash (txid: Txid): Uint8Array {
  return hexToBytes(txid).reverse()
}

export function toBitcoinjs (tx: Tx): Transaction {
  const t = new Transaction()
  t.version = tx.version
  t.locktime = tx.locktime
  for (const i of tx.inputs) t.addInput(txidToHash(i.txid), i.vout, i.sequence, i.scriptSig)
  for (const o of tx.outputs) t.addOutput(o.script, BigInt(o.valueSat))
  tx.inputs.forEach((i, n) => { if (i.witness.length > 0) t.setWitness(n, i.witness.map(w => Uint8Array.from(w))) })
  return t
}

export function fromBitcoinjs (t: Transaction): Tx {
  return {
    version: t.version,
    locktime: t.locktime,
    inputs: t.ins.map(i => ({
      txid: bytesToHex(Uint8Array.from(i.hash).reverse()) as Txid,
      vout: i.index,
      sequence: i.sequence,
      scriptSig: Uint8Array.from(i.script),
      witness: i.witness.map(w => Uint8Array.from(w)),
    })),
    outputs: t.outs.map(o => ({ valueSat: sat(Number(o.value)), script: Uint8Array.from(o.script) })),
  }
}

/** Network serialization (with witness if any input has one), hex. */
export function txHex (tx: Tx): string { return toBitcoinjs(tx).toHex() }
export function parseTx (hex: string): Tx { return fromBitcoinjs(Transaction.fromHex(hex)) }
export function txid (tx: Tx): Txid { return computeTxid(tx) as Txid }
/** BIP 141 weight of the tx as it stands (signatures included if present). */
export function txWeight (tx: Tx): number { return toBitcoinjs(tx).weight() }

/** BIP 143 signature hash of input `index` spending a segwit v0 output worth `valueSat`. */
export function witnessV0Sighash (tx: Tx, index: number, scriptCode: Uint8Array, valueSat: number, hashType: number): Uint8Array {
  return bip143Sighash(tx, index, scriptCode, valueSat, hashType)
}

/** Legacy signature hash (only for P2PKH wallet inputs of a funding tx). */
export function legacySighash (tx: Tx, index: number, prevOutScript: Uint8Array, hashType: number): Uint8Array {
  return toBitcoinjs(tx).hashForSignature(index, prevOutScript, hashType)
}

/** Replaces the witness of one input (returns a new Tx). */
export function withWitness (tx: Tx, index: number, witness: readonly Uint8Array[]): Tx {
  return { ...tx, inputs: tx.inputs.map((i, n) => n === index ? { ...i, witness } : i) }
}
