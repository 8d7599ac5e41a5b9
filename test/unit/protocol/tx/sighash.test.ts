// protocol/tx/sighash.ts (txid and BIP 143 sighash straight from a plain Tx) against bitcoinjs-lib's
// Transaction on random transactions: input and output counts, script lengths across the varint
// boundaries, large values, every sighash type BOLT #3 uses (ALL, SINGLE|ANYONECANPAY) and the others.
import t from 'tap'
import { sha256 } from '../../../../protocol/crypto/hash.ts'
import { bip143Sighash, computeTxid } from '../../../../protocol/tx/sighash.ts'
import { toBitcoinjs } from '../../../../protocol/tx/serialize.ts'
import type { Tx } from '../../../../protocol/tx/types.ts'
import { bytesToHex, type Sat, type Txid } from '../../../../protocol/types.ts'

let state = sha256(new TextEncoder().encode('sighash-test'))
let at = 0
function byte (): number {
  if (at === 32) { state = sha256(state); at = 0 }
  return state[at++]!
}
const int = (n: number): number => (byte() * 65536 + byte() * 256 + byte()) % n
const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, byte)

function randomTx (): Tx {
  const scriptLen = (): number => [0, 22, 34, 252, 253, 300, 70_000][int(7)]!
  return {
    version: [1, 2, 0x7fffffff][int(3)]!,
    locktime: [0, 0x20000000 + int(1 << 24), 0xffffffff][int(3)]!,
    inputs: Array.from({ length: 1 + int(4) }, () => ({
      txid: bytesToHex(bytes(32)) as Txid, vout: [0, 1, int(1000), 0xffffffff][int(4)]!,
      sequence: [0, 1, 0xfffffffe, 0xffffffff, 0x80000000 + int(1 << 24)][int(5)]!,
      scriptSig: int(4) === 0 ? bytes(int(120)) : new Uint8Array(0), witness: [],
    })),
    outputs: Array.from({ length: int(5) }, () => ({
      valueSat: [0, 330, 546, int(1e9), 2_100_000_000_000_000][int(5)]! as Sat, script: bytes(scriptLen()),
    })),
  }
}

t.test('txid and BIP 143 sighash agree with bitcoinjs-lib on 300 random transactions', async t => {
  let txids = 0; let hashes = 0
  for (let n = 0; n < 300; n++) {
    const tx = randomTx()
    const bj = toBitcoinjs(tx)
    if (computeTxid(tx) !== bj.getId()) t.fail(`txid differs on tx ${n}`); else txids++
    for (const hashType of [0x01, 0x02, 0x03, 0x81, 0x82, 0x83]) {
      const index = int(tx.inputs.length)
      const scriptCode = bytes([25, 71, 140, 253][int(4)]!)
      const value = [0, 1000, 2_100_000_000_000_000][int(3)]!
      const ours = bytesToHex(bip143Sighash(tx, index, scriptCode, value, hashType))
      const theirs = bytesToHex(bj.hashForWitnessV0(index, scriptCode, BigInt(value), hashType))
      if (ours !== theirs) t.fail(`sighash differs on tx ${n}, type ${hashType}, input ${index}`); else hashes++
    }
  }
  t.equal(txids, 300, 'every txid equal')
  t.equal(hashes, 1800, 'every sighash equal')
})
