// Txids and BIP 143 signature hashes computed straight from a plain `Tx`, without building a
// bitcoinjs Transaction first: every commitment round computes a txid and one sighash per signature
// on each side, and building one costs a conversion and copies (~7% of the protocol's CPU). Checked
// against bitcoinjs-lib on random transactions (test/unit/protocol/tx/sighash.test.ts) and by every BOLT #3
// vector.
import { sha256 } from '../crypto/hash.ts'
import { hexToBytes } from '../types.ts'
import type { Tx, TxOutput } from './types.ts'

/** Little-endian byte writer over a buffer sized in advance. */
class Writer {
  readonly bytes: Uint8Array
  private at = 0
  constructor (size: number) { this.bytes = new Uint8Array(size) }
  u32 (n: number): void {
    const b = this.bytes
    b[this.at++] = n & 0xff; b[this.at++] = (n >>> 8) & 0xff; b[this.at++] = (n >>> 16) & 0xff; b[this.at++] = (n >>> 24) & 0xff
  }
  /** A non-negative safe integer as 8 bytes (satoshi values are < 2^53). */
  u64 (n: number): void { this.u32(n % 0x100000000); this.u32(Math.floor(n / 0x100000000)) }
  varint (n: number): void {
    if (n < 0xfd) { this.bytes[this.at++] = n; return }
    if (n <= 0xffff) { this.bytes[this.at++] = 0xfd; this.bytes[this.at++] = n & 0xff; this.bytes[this.at++] = n >>> 8; return }
    this.bytes[this.at++] = 0xfe; this.u32(n)
  }
  raw (b: Uint8Array): void { this.bytes.set(b, this.at); this.at += b.length }
  /** An outpoint: the txid in internal (reversed) byte order, then the output index. */
  outpoint (txid: string, vout: number): void {
    const h = hexToBytes(txid)
    for (let i = 31; i >= 0; i--) this.bytes[this.at++] = h[i]!
    this.u32(vout)
  }
}

const varintSize = (n: number): number => (n < 0xfd ? 1 : n <= 0xffff ? 3 : 5)
const outputSize = (o: TxOutput): number => 8 + varintSize(o.script.length) + o.script.length
const sha256d = (b: Uint8Array): Uint8Array => sha256(sha256(b))

/** The txid (RPC byte order, hex) of `tx`: double SHA-256 of its serialization without witnesses. */
export function computeTxid (tx: Tx): string {
  let size = 4 + varintSize(tx.inputs.length) + varintSize(tx.outputs.length) + 4
  for (const i of tx.inputs) size += 36 + varintSize(i.scriptSig.length) + i.scriptSig.length + 4
  for (const o of tx.outputs) size += outputSize(o)
  const w = new Writer(size)
  w.u32(tx.version)
  w.varint(tx.inputs.length)
  for (const i of tx.inputs) { w.outpoint(i.txid, i.vout); w.varint(i.scriptSig.length); w.raw(i.scriptSig); w.u32(i.sequence) }
  w.varint(tx.outputs.length)
  for (const o of tx.outputs) { w.u64(o.valueSat); w.varint(o.script.length); w.raw(o.script) }
  w.u32(tx.locktime)
  const h = sha256d(w.bytes)
  let hex = ''
  for (let i = 31; i >= 0; i--) hex += (h[i]! < 16 ? '0' : '') + h[i]!.toString(16)
  return hex
}

const SIGHASH_NONE = 0x02
const SIGHASH_SINGLE = 0x03
const SIGHASH_ANYONECANPAY = 0x80
const ZERO32: Uint8Array = new Uint8Array(32)

function hashOutputs (outputs: readonly TxOutput[]): Uint8Array {
  const w = new Writer(outputs.reduce((n, o) => n + outputSize(o), 0))
  for (const o of outputs) { w.u64(o.valueSat); w.varint(o.script.length); w.raw(o.script) }
  return sha256d(w.bytes)
}

/** BIP 143: the signature hash of input `index` spending a segwit v0 output worth `valueSat`. */
export function bip143Sighash (tx: Tx, index: number, scriptCode: Uint8Array, valueSat: number, hashType: number): Uint8Array {
  const input = tx.inputs[index]
  if (input === undefined) throw new RangeError(`bip143Sighash: no input ${index}`)
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0
  const base = hashType & 0x1f
  let prevouts = ZERO32
  if (!anyoneCanPay) {
    const w = new Writer(36 * tx.inputs.length)
    for (const i of tx.inputs) w.outpoint(i.txid, i.vout)
    prevouts = sha256d(w.bytes)
  }
  let sequences = ZERO32
  if (!anyoneCanPay && base !== SIGHASH_SINGLE && base !== SIGHASH_NONE) {
    const w = new Writer(4 * tx.inputs.length)
    for (const i of tx.inputs) w.u32(i.sequence)
    sequences = sha256d(w.bytes)
  }
  let outputs = ZERO32
  if (base !== SIGHASH_SINGLE && base !== SIGHASH_NONE) outputs = hashOutputs(tx.outputs)
  else if (base === SIGHASH_SINGLE && index < tx.outputs.length) outputs = hashOutputs([tx.outputs[index]!])
  const w = new Writer(4 + 32 + 32 + 36 + varintSize(scriptCode.length) + scriptCode.length + 8 + 4 + 32 + 4 + 4)
  w.u32(tx.version)
  w.raw(prevouts)
  w.raw(sequences)
  w.outpoint(input.txid, input.vout)
  w.varint(scriptCode.length)
  w.raw(scriptCode)
  w.u64(valueSat)
  w.u32(input.sequence)
  w.raw(outputs)
  w.u32(tx.locktime)
  w.u32(hashType)
  return sha256d(w.bytes)
}
