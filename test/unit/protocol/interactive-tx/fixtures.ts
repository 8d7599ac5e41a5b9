// Two sides of an interactive transaction in memory: wallets of P2WPKH coins (with the previous
// transactions a tx_add_input carries), the agreed parameters of a splice (shared input and output),
// and a driver that passes each side's reply to the other until both sent consecutive tx_complete.
import { sha256 } from '../../../../protocol/crypto/hash.ts'
import { getCurve } from '../../../../protocol/crypto/index.ts'
import {
  receiveTxMessage, replyMessage, startNegotiation, type Negotiation, type NegotiationParams, type NegotiationStep,
  type OwnContribution, type OwnInput, type TxConstructionMessage,
} from '../../../../protocol/interactive-tx/index.ts'
import { fundingScriptPubkey } from '../../../../protocol/tx/funding.ts'
import { p2pkh, p2wpkh } from '../../../../protocol/tx/script.ts'
import { SIGHASH_ALL, txHex, witnessV0Sighash } from '../../../../protocol/tx/serialize.ts'
import { witnessSig } from '../../../../protocol/tx/sign.ts'
import type { Tx } from '../../../../protocol/tx/types.ts'
import { bytesToHex, type ChannelId, type Sat, type Txid } from '../../../../protocol/types.ts'

export const CHANNEL = 'c1'.repeat(32) as ChannelId

export interface Coin { input: OwnInput; privkey: Uint8Array; pubkey: Uint8Array; valueSat: number; script: string }

/** A P2WPKH coin of `valueSat`, with its own previous transaction (distinct per `tag`). */
export function coin (tag: number, valueSat: number, vout = 0): Coin {
  const privkey = sha256(Uint8Array.of(7, tag))
  const pubkey = getCurve().pubkey(privkey)
  const script = p2wpkh(pubkey)
  const outputs = Array.from({ length: vout + 1 }, (_, i) => ({ valueSat: (i === vout ? valueSat : 1000) as Sat, script }))
  const prev: Tx = { version: 2, locktime: 0, inputs: [{
    txid: bytesToHex(sha256(Uint8Array.of(9, tag))) as Txid, vout: 0, sequence: 0xffffffff, scriptSig: new Uint8Array(0), witness: [],
  }], outputs }
  return { input: { prevtx: txHex(prev), prevtxVout: vout, sequence: 0xfffffffd }, privkey, pubkey, valueSat, script: bytesToHex(script) }
}

/** A previous transaction whose output is not segwit (P2PKH). */
export function legacyPrevtx (): string {
  const prev: Tx = {
    version: 2, locktime: 0,
    inputs: [{ txid: '11'.repeat(32) as Txid, vout: 0, sequence: 0xffffffff, scriptSig: new Uint8Array(0), witness: [] }],
    outputs: [{ valueSat: 50_000 as Sat, script: p2pkh(new Uint8Array(33).fill(2)) }],
  }
  return txHex(prev)
}

/** The witness of a P2WPKH coin spent at `index` of `tx`. */
export function signCoin (tx: Tx, index: number, c: Coin): string[] {
  const sig = getCurve().sign(witnessV0Sighash(tx, index, p2pkh(c.pubkey), c.valueSat, SIGHASH_ALL), c.privkey)
  return [bytesToHex(witnessSig(sig, SIGHASH_ALL)), bytesToHex(c.pubkey)]
}

export const FUNDING_TXID = 'f0'.repeat(32) as Txid
export const CAPACITY = 1_000_000
const KEY_A = getCurve().pubkey(sha256(Uint8Array.of(1)))
const KEY_B = getCurve().pubkey(sha256(Uint8Array.of(2)))
export const OLD_FUNDING_SCRIPT = bytesToHex(fundingScriptPubkey(KEY_A, KEY_B))
export const NEW_FUNDING_SCRIPT = bytesToHex(fundingScriptPubkey(KEY_B, getCurve().pubkey(sha256(Uint8Array.of(3)))))
export const P2WPKH_OUT = '0014' + '33'.repeat(20)

/** The parameters of a splice from the initiator's side (A); `asNonInitiator` gives B's. */
export function spliceParams (contribution: { initiator: number; nonInitiator: number }, feeratePerKw = 2_000): NegotiationParams {
  return {
    role: 'initiator',
    feeratePerKw,
    locktime: 800_000,
    dustLimitSat: 546 as Sat,
    sharedInput: { txid: FUNDING_TXID, vout: 1, valueSat: CAPACITY as Sat, script: OLD_FUNDING_SCRIPT },
    sharedOutput: { script: NEW_FUNDING_SCRIPT, valueSat: (CAPACITY + contribution.initiator + contribution.nonInitiator) as Sat },
    contributionSat: { local: contribution.initiator, remote: contribution.nonInitiator },
  }
}
export function asNonInitiator (p: NegotiationParams): NegotiationParams {
  return { ...p, role: 'non_initiator', contributionSat: { local: p.contributionSat.remote, remote: p.contributionSat.local } }
}

export const entropy = (b: string): string => b.repeat(32)

export interface Exchange { a: Negotiation; b: Negotiation; messages: TxConstructionMessage[] }

/** Runs a whole negotiation: A (initiator) starts, each side answers the other's message. Throws on a
 *  refused step (tests of refusals drive the steps themselves). */
export function negotiate (params: NegotiationParams, own: { a: OwnContribution; b: OwnContribution }): Exchange {
  const ok = (r: NegotiationStep, who: string): Extract<NegotiationStep, { ok: true }> => {
    if (!r.ok) throw new Error(`${who}: ${r.error.reason}: ${r.error.detail}`)
    return r
  }
  let a = ok(startNegotiation(params, own.a), 'A start')
  let b = ok(startNegotiation(asNonInitiator(params), own.b), 'B start')
  const messages: TxConstructionMessage[] = []
  let toB = a.reply === undefined ? undefined : replyMessage(a.reply, CHANNEL)
  let toA: TxConstructionMessage | undefined
  for (let i = 0; i < 2_000 && (toA !== undefined || toB !== undefined); i++) {
    if (toB !== undefined) {
      messages.push(toB)
      b = ok(receiveTxMessage(b.negotiation, toB), `B receives ${toB.type}`)
      toB = undefined
      toA = b.reply === undefined ? undefined : replyMessage(b.reply, CHANNEL)
    } else if (toA !== undefined) {
      messages.push(toA)
      a = ok(receiveTxMessage(a.negotiation, toA), `A receives ${toA.type}`)
      toA = undefined
      toB = a.reply === undefined ? undefined : replyMessage(a.reply, CHANNEL)
    }
  }
  return { a: a.negotiation, b: b.negotiation, messages }
}

export const none = (e = '00'): OwnContribution => ({ inputs: [], outputs: [], entropy: entropy(e) })
