// A tiny script assembler and the BOLT #3 witness scripts. Written out opcode by opcode so each can
// be read against the spec text quoted above it.
import { concatBytes, hash160, ripemd160, sha256, compareBytes } from '../crypto/hash.ts'

export const OP = {
  0: 0x00, PUSHDATA1: 0x4c, PUSHDATA2: 0x4d, 1: 0x51, 2: 0x52, 16: 0x60,
  IF: 0x63, NOTIF: 0x64, ELSE: 0x67, ENDIF: 0x68, VERIFY: 0x69, DROP: 0x75, DUP: 0x76, SWAP: 0x7c,
  SIZE: 0x82, EQUAL: 0x87, EQUALVERIFY: 0x88, HASH160: 0xa9, CHECKSIG: 0xac, CHECKSIGVERIFY: 0xad,
  CHECKMULTISIG: 0xae, IFDUP: 0x73, CHECKLOCKTIMEVERIFY: 0xb1, CHECKSEQUENCEVERIFY: 0xb2,
} as const

export type ScriptItem = number | Uint8Array

/** Minimal push of data (BIP 62): OP_0 / OP_1..16 for small values are the caller's choice. */
function push (data: Uint8Array): Uint8Array {
  if (data.length < OP.PUSHDATA1) return concatBytes(Uint8Array.of(data.length), data)
  if (data.length <= 0xff) return concatBytes(Uint8Array.of(OP.PUSHDATA1, data.length), data)
  return concatBytes(Uint8Array.of(OP.PUSHDATA2, data.length & 0xff, data.length >> 8), data)
}

/** Script number encoding (minimal, little-endian, sign bit) of a non-negative integer. */
export function scriptNum (n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`scriptNum: ${n}`)
  if (n === 0) return new Uint8Array(0)
  const out: number[] = []
  while (n > 0) { out.push(n & 0xff); n = Math.floor(n / 256) }
  if ((out[out.length - 1]! & 0x80) !== 0) out.push(0)
  return Uint8Array.from(out)
}

/** Pushes a number the way Bitcoin Core's CScript << int64 does: OP_0, OP_1..OP_16, else a push. */
export function pushNum (n: number): Uint8Array {
  if (n === 0) return Uint8Array.of(OP[0])
  if (n >= 1 && n <= 16) return Uint8Array.of(0x50 + n)
  return push(scriptNum(n))
}

/** Numbers are opcodes; byte arrays are pushed. */
export function compile (items: ScriptItem[]): Uint8Array {
  return concatBytes(...items.map(i => typeof i === 'number' ? Uint8Array.of(i) : push(i)))
}

export function p2wsh (witnessScript: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(OP[0], 32), sha256(witnessScript))
}
export function p2wpkh (pubkey: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(OP[0], 20), hash160(pubkey))
}
export function p2pkh (pubkey: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(OP.DUP, OP.HASH160, 20), hash160(pubkey), Uint8Array.of(OP.EQUALVERIFY, OP.CHECKSIG))
}

/** BOLT #3: "2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG ... pubkey1 is the lexicographically lesser". */
export function fundingWitnessScript (a: Uint8Array, b: Uint8Array): Uint8Array {
  const [k1, k2] = compareBytes(a, b) <= 0 ? [a, b] : [b, a]
  return compile([OP[2], k1, k2, OP[2], OP.CHECKMULTISIG])
}

/**
 * BOLT #3 to_local (also the output of HTLC-success/timeout txs):
 * OP_IF <revocationpubkey> OP_ELSE `to_self_delay` OP_CHECKSEQUENCEVERIFY OP_DROP <local_delayedpubkey>
 * OP_ENDIF OP_CHECKSIG
 */
export function toLocalWitnessScript (revocationPubkey: Uint8Array, toSelfDelay: number, localDelayedPubkey: Uint8Array): Uint8Array {
  return concatBytes(
    compile([OP.IF, revocationPubkey, OP.ELSE]),
    pushNum(toSelfDelay),
    compile([OP.CHECKSEQUENCEVERIFY, OP.DROP, localDelayedPubkey, OP.ENDIF, OP.CHECKSIG]),
  )
}

/** BOLT #3 to_remote with option_anchors: <remotepubkey> OP_CHECKSIGVERIFY 1 OP_CHECKSEQUENCEVERIFY */
export function toRemoteAnchorsWitnessScript (remotePubkey: Uint8Array): Uint8Array {
  return compile([remotePubkey, OP.CHECKSIGVERIFY, OP[1], OP.CHECKSEQUENCEVERIFY])
}

/**
 * BOLT #3 anchor: <local_funding_pubkey/remote_funding_pubkey> OP_CHECKSIG OP_IFDUP OP_NOTIF
 * OP_16 OP_CHECKSEQUENCEVERIFY OP_ENDIF
 */
export function anchorWitnessScript (fundingPubkey: Uint8Array): Uint8Array {
  return compile([fundingPubkey, OP.CHECKSIG, OP.IFDUP, OP.NOTIF, OP[16], OP.CHECKSEQUENCEVERIFY, OP.ENDIF])
}

/** The trailing `1 OP_CHECKSEQUENCEVERIFY OP_DROP` option_anchors adds to both HTLC scripts. */
const anchorsCsv = (anchors: boolean): ScriptItem[] => anchors ? [OP[1], OP.CHECKSEQUENCEVERIFY, OP.DROP] : []

/**
 * BOLT #3 offered HTLC output:
 * OP_DUP OP_HASH160 <RIPEMD160(SHA256(revocationpubkey))> OP_EQUAL
 * OP_IF OP_CHECKSIG
 * OP_ELSE <remote_htlcpubkey> OP_SWAP OP_SIZE 32 OP_EQUAL
 *   OP_NOTIF OP_DROP 2 OP_SWAP <local_htlcpubkey> 2 OP_CHECKMULTISIG
 *   OP_ELSE OP_HASH160 <RIPEMD160(payment_hash)> OP_EQUALVERIFY OP_CHECKSIG
 *   OP_ENDIF
 *   [option_anchors: 1 OP_CHECKSEQUENCEVERIFY OP_DROP]
 * OP_ENDIF
 */
export function offeredHtlcWitnessScript (k: HtlcScriptKeys, paymentHash: Uint8Array, anchors: boolean): Uint8Array {
  return compile([
    OP.DUP, OP.HASH160, hash160(k.revocationPubkey), OP.EQUAL,
    OP.IF, OP.CHECKSIG,
    OP.ELSE, k.remoteHtlcPubkey, OP.SWAP, OP.SIZE, Uint8Array.of(32), OP.EQUAL,
    OP.NOTIF, OP.DROP, OP[2], OP.SWAP, k.localHtlcPubkey, OP[2], OP.CHECKMULTISIG,
    OP.ELSE, OP.HASH160, ripemd160(paymentHash), OP.EQUALVERIFY, OP.CHECKSIG,
    OP.ENDIF,
    ...anchorsCsv(anchors),
    OP.ENDIF,
  ])
}

/**
 * BOLT #3 received HTLC output:
 * OP_DUP OP_HASH160 <RIPEMD160(SHA256(revocationpubkey))> OP_EQUAL
 * OP_IF OP_CHECKSIG
 * OP_ELSE <remote_htlcpubkey> OP_SWAP OP_SIZE 32 OP_EQUAL
 *   OP_IF OP_HASH160 <RIPEMD160(payment_hash)> OP_EQUALVERIFY 2 OP_SWAP <local_htlcpubkey> 2 OP_CHECKMULTISIG
 *   OP_ELSE OP_DROP <cltv_expiry> OP_CHECKLOCKTIMEVERIFY OP_DROP OP_CHECKSIG
 *   OP_ENDIF
 *   [option_anchors: 1 OP_CHECKSEQUENCEVERIFY OP_DROP]
 * OP_ENDIF
 */
export function receivedHtlcWitnessScript (k: HtlcScriptKeys, paymentHash: Uint8Array, cltvExpiry: number, anchors: boolean): Uint8Array {
  return concatBytes(
    compile([
      OP.DUP, OP.HASH160, hash160(k.revocationPubkey), OP.EQUAL,
      OP.IF, OP.CHECKSIG,
      OP.ELSE, k.remoteHtlcPubkey, OP.SWAP, OP.SIZE, Uint8Array.of(32), OP.EQUAL,
      OP.IF, OP.HASH160, ripemd160(paymentHash), OP.EQUALVERIFY, OP[2], OP.SWAP, k.localHtlcPubkey, OP[2], OP.CHECKMULTISIG,
      OP.ELSE, OP.DROP,
    ]),
    pushNum(cltvExpiry),
    compile([
      OP.CHECKLOCKTIMEVERIFY, OP.DROP, OP.CHECKSIG,
      OP.ENDIF,
      ...anchorsCsv(anchors),
      OP.ENDIF,
    ]),
  )
}

export interface HtlcScriptKeys {
  readonly revocationPubkey: Uint8Array
  readonly localHtlcPubkey: Uint8Array
  readonly remoteHtlcPubkey: Uint8Array
}
