// Scripts of an interactive transaction: the output a tx_add_input spends, read from the `prevtx` the
// sender sent whole (BOLT #2 sends the previous transaction "to verify that the input is
// non-malleable" — only a segwit output's spend has a txid its signatures cannot change, and the
// splice transaction's txid must be final before the commitments spending it are signed), and which
// output scripts we accept in tx_add_output.
import { MAX_INTERACTIVE_INPUTS_OUTPUTS } from '../limits.ts'
import { parseTx, txid as txidOf } from '../tx/serialize.ts'
import type { Tx } from '../tx/types.ts'
import type { Sat, Txid } from '../types.ts'

export type ScriptKind = 'p2wpkh' | 'p2wsh' | 'p2tr' | 'segwit_other' | 'not_segwit'

/** BOLT #2 (tx_add_input receiver): the spent scriptPubKey must be "exactly a 1-byte push opcode (for
 *  the numeric values `0` to `16`) followed by a data push between 2 and 40 bytes". */
export function isSegwitProgram (scriptHex: string): boolean {
  const len = scriptHex.length / 2
  if (len < 4 || len > 42) return false
  const version = parseInt(scriptHex.slice(0, 2), 16)
  const push = parseInt(scriptHex.slice(2, 4), 16)
  const isVersion = version === 0x00 || (version >= 0x51 && version <= 0x60)
  return isVersion && push >= 2 && push <= 40 && push === len - 2
}

export function scriptKind (scriptHex: string): ScriptKind {
  if (!isSegwitProgram(scriptHex)) return 'not_segwit'
  const head = scriptHex.slice(0, 4)
  if (head === '0014') return 'p2wpkh'
  if (head === '0020') return 'p2wsh'
  if (head === '5120') return 'p2tr'
  return 'segwit_other'
}

/** BOLT #2 (tx_add_output receiver): "MUST accept P2WSH, P2WPKH, P2TR `script`s. MAY fail the
 *  negotiation if `script` is non-standard." We accept what Bitcoin Core relays as a payment: P2PKH,
 *  P2SH and segwit programs (v0 only of 20 or 32 bytes). Anything else would keep the splice
 *  transaction from propagating (our node runs with --rejectnonstd, DESIGN.md "The chain"). */
export function isStandardOutputScript (scriptHex: string): boolean {
  const len = scriptHex.length / 2
  if (len === 25 && scriptHex.startsWith('76a914') && scriptHex.endsWith('88ac')) return true // P2PKH
  if (len === 23 && scriptHex.startsWith('a914') && scriptHex.endsWith('87')) return true // P2SH
  if (!isSegwitProgram(scriptHex)) return false
  return !scriptHex.startsWith('00') || len === 22 || len === 34
}

export type SpentOutput =
  | { ok: true; txid: Txid; valueSat: Sat; script: string }
  | { ok: false; reason: 'tx_bad_prevtx' | 'tx_input_not_segwit'; detail: string }

/** Transactions read by spentOutput, by their serialization, newest last: a batched settlement's
 *  initiator adds the same funding transactions in every session of the batch (and in each session's
 *  dry run), which would otherwise parse and hash each of N transactions 2N times. A serialization
 *  always reads the same, so this only saves work; at most one transaction's worth of inputs is kept. */
const readPrevtx = new Map<string, { txid: Txid; outputs: Tx['outputs'] }>()

function read (prevtx: string): { txid: Txid; outputs: Tx['outputs'] } {
  const known = readPrevtx.get(prevtx)
  if (known !== undefined) return known
  const tx = parseTx(prevtx)
  const r = { txid: txidOf(tx), outputs: tx.outputs }
  if (readPrevtx.size >= MAX_INTERACTIVE_INPUTS_OUTPUTS) readPrevtx.delete(readPrevtx.keys().next().value!)
  readPrevtx.set(prevtx, r)
  return r
}

/** The output at `vout` of the serialized transaction `prevtx`, or why there is none we accept. */
export function spentOutput (prevtx: string, vout: number): SpentOutput {
  let tx
  try {
    tx = read(prevtx)
  } catch (e) {
    // BOLT #2: "`prevtx` is not a valid transaction".
    return { ok: false, reason: 'tx_bad_prevtx', detail: `prevtx is not a transaction (${(e as Error).message.slice(0, 80)})` }
  }
  const out = tx.outputs[vout]
  // BOLT #2: "`prevtx_vout` is greater or equal to the number of outputs on `prevtx`".
  if (out === undefined) return { ok: false, reason: 'tx_bad_prevtx', detail: `prevtx_vout ${vout} ≥ ${tx.outputs.length} outputs` }
  let script = ''
  for (const b of out.script) script += b.toString(16).padStart(2, '0')
  if (!isSegwitProgram(script)) return {
    ok: false, reason: 'tx_input_not_segwit', detail: `output ${vout} of prevtx is not a segwit program`,
  }
  return { ok: true, txid: tx.txid, valueSat: out.valueSat, script }
}
