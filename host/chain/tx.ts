// Raw transaction hex → ChainTx: plain data (hex strings, satoshi numbers) that protocol code can
// read without bitcoinjs types. Amounts come from the serialization itself, never from btcd's
// floating-point BTC fields.
import { Transaction } from 'bitcoinjs-lib'
import { bytesToHex, type Sat, type Txid } from '../../protocol/types.ts'
import type { ChainTx } from './backend.ts'

/** Parses a transaction; returns a message instead when the bytes are not a transaction. */
export function parseChainTx (hex: string): ChainTx | string {
  try { return fromBitcoinjs(Transaction.fromHex(hex), hex) } catch (e) { return `not a transaction: ${(e as Error).message}` }
}

export function fromBitcoinjs (tx: Transaction, hex = tx.toHex()): ChainTx {
  return {
    txid: tx.getId() as Txid,
    hex,
    version: tx.version,
    locktime: tx.locktime,
    inputs: tx.ins.map(i => ({
      txid: bytesToHex(Uint8Array.from(i.hash).reverse()) as Txid,
      vout: i.index,
      sequence: i.sequence,
      scriptSig: bytesToHex(i.script),
      witness: i.witness.map(w => bytesToHex(w))
    })),
    outputs: tx.outs.map(o => {
      // A value above 2^53 cannot be a valid output (21e6 BTC < 2^53 sat); btcd would not accept it.
      if (o.value > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('output value exceeds 2^53')
      return { value: Number(o.value) as Sat, scriptPubKey: bytesToHex(o.script) }
    })
  }
}
