// Builds a regtest block holding exactly the transactions a test chose (test-only, for submitblock):
// a coinbase, the transactions in the given order, the merkle root, the BIP141 witness commitment,
// and a nonce found by grinding (regtest's target is so easy that about one nonce in two works).
//
// The coinbase claims only the subsidy: fees are left unclaimed, which consensus allows, so the
// builder needs no lookups of the spent outputs.
import { Block, Transaction, script as bscript, opcodes } from 'bitcoinjs-lib'
import { hexToBytes } from '../../../protocol/types.ts'

/** BIP141: the witness commitment output's script starts with OP_RETURN, push 36, 0xaa21a9ed. */
const WITNESS_COMMITMENT_HEADER = hexToBytes('aa21a9ed')
/** regtest: the block subsidy halves every 150 blocks (chaincfg RegressionNetParams). */
const REGTEST_HALVING_INTERVAL = 150

export interface BlockTemplate {
  prevHash: string
  height: number
  /** Seconds; must exceed the median of the last 11 blocks' times. */
  time: number
  bits: number
  txs: Transaction[]
  /** Where the subsidy goes. */
  coinbaseScript: Uint8Array
  /** Makes the coinbase (and so the block) unique when the same template is built twice. */
  extraNonce: number
}

export function regtestSubsidy (height: number): number {
  const halvings = Math.floor(height / REGTEST_HALVING_INTERVAL)
  return halvings >= 64 ? 0 : Math.floor(50e8 / 2 ** halvings)
}

export function buildBlock (t: BlockTemplate): Block {
  const coinbase = new Transaction()
  coinbase.version = 2
  const extra = new Uint8Array(4)
  new DataView(extra.buffer).setUint32(0, t.extraNonce >>> 0, true)
  // BIP34: the coinbase scriptSig starts with the height (btcd's standardCoinbaseScript does the same).
  coinbase.addInput(new Uint8Array(32), 0xffffffff, 0xffffffff, bscript.compile([bscript.number.encode(t.height), extra]))
  coinbase.addOutput(t.coinbaseScript, BigInt(regtestSubsidy(t.height)))
  // BIP141: witness reserved value (32 zero bytes) in the coinbase witness; the commitment is
  // SHA256d(witness merkle root ‖ reserved value), in an OP_RETURN output.
  coinbase.setWitness(0, [new Uint8Array(32)])
  const txs = [coinbase, ...t.txs]
  const commitment = Block.calculateMerkleRoot(txs, true)
  const commitScript = bscript.compile([opcodes.OP_RETURN, concat(WITNESS_COMMITMENT_HEADER, commitment)])
  coinbase.addOutput(commitScript, 0n)

  const block = new Block()
  block.version = 0x20000000
  block.prevHash = hexToBytes(t.prevHash).reverse()
  block.merkleRoot = Block.calculateMerkleRoot(txs)
  block.timestamp = t.time
  block.bits = t.bits
  block.transactions = txs
  for (let nonce = 0; nonce <= 0xffffffff; nonce++) {
    block.nonce = nonce
    if (block.checkProofOfWork()) return block
  }
  throw new Error('buildBlock: no nonce meets the target (is this a regtest target?)')
}

function concat (a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

