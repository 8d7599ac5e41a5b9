// The wallet's keys: a BIP32 seed (kept by the wallet's storage, storage.ts), BIP84-style P2WPKH keys
// on regtest, and signing through the project's one curve interface (protocol/crypto).
//
// BIP32 derivation uses the bip32 package, which wants tiny-secp256k1 directly; signing goes through
// `Curve` (tinyCurve here), so there is one place to swap the curve backend.
import { BIP32Factory, type BIP32Interface } from 'bip32'
import * as ecc from 'tiny-secp256k1'
import { networks, payments, type Signer } from 'bitcoinjs-lib'
import type { Curve } from '../../protocol/crypto/curve.ts'
import { tinyCurve } from '../../protocol/crypto/tiny.ts'
import { randomBytes } from '../random.ts'

const bip32 = BIP32Factory(ecc)
const SEED_BYTES = 32
/** BIP84 account 0 on a test network (coin type 1): m/84'/1'/0'/<chain>/<index>. */
const ACCOUNT_PATH = "m/84'/1'/0'"

/** 0: receive addresses handed out; 1: change (BIP44 chain numbers). */
export type KeyChain = 0 | 1

export interface WalletKey {
  chain: KeyChain
  index: number
  privateKey: Uint8Array
  publicKey: Uint8Array
  address: string
  /** P2WPKH output script. */
  script: Uint8Array
}

export type SeedError = { kind: 'seed_unreadable' | 'seed_exposed'; detail: string }

/** A new random seed (the platform's cryptographic random source). */
export function newSeed (): Uint8Array {
  return randomBytes(SEED_BYTES)
}

export class WalletKeys {
  private readonly account: BIP32Interface
  private readonly cache = new Map<string, WalletKey>()

  constructor (seed: Uint8Array, private readonly curve: Curve = tinyCurve) {
    this.account = bip32.fromSeed(seed, networks.regtest).derivePath(ACCOUNT_PATH)
  }

  key (chain: KeyChain, index: number): WalletKey {
    const id = `${chain}/${index}`
    const hit = this.cache.get(id)
    if (hit !== undefined) return hit
    const node = this.account.derive(chain).derive(index)
    if (node.privateKey === undefined) throw new Error('WalletKeys: derived node has no private key')
    const privateKey = Uint8Array.from(node.privateKey)
    const publicKey = this.curve.pubkey(privateKey)
    const p = payments.p2wpkh({ pubkey: publicKey, network: networks.regtest })
    if (p.address === undefined || p.output === undefined) throw new Error('WalletKeys: p2wpkh failed')
    const key = { chain, index, privateKey, publicKey, address: p.address, script: p.output }
    this.cache.set(id, key)
    return key
  }

  /** A 64-byte compact low-S signature of `hash` (BIP 143 sighash) with `key`. */
  sign (hash: Uint8Array, key: WalletKey): Uint8Array { return this.curve.sign(hash, key.privateKey) }

  /** A bitcoinjs Signer whose ECDSA goes through our Curve (64-byte compact, low-S, RFC 6979). */
  signer (key: WalletKey): Signer {
    return { publicKey: key.publicKey, sign: (hash: Uint8Array) => this.curve.sign(hash, key.privateKey) }
  }
}
