// The wallet's keys: a BIP32 seed in the data directory (mode 0600, created if absent), BIP84-style
// P2WPKH keys on regtest, and signing through the project's one curve interface (protocol/crypto).
//
// BIP32 derivation uses the bip32 package, which wants tiny-secp256k1 directly; signing goes through
// `Curve` (tinyCurve here), so there is one place to swap the curve backend.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { BIP32Factory, type BIP32Interface } from 'bip32'
import * as ecc from 'tiny-secp256k1'
import { networks, payments, type Signer } from 'bitcoinjs-lib'
import type { Curve } from '../../protocol/crypto/curve.ts'
import { tinyCurve } from '../../protocol/crypto/tiny.ts'
import { bytesToHex, hexToBytes } from '../../protocol/types.ts'

const bip32 = BIP32Factory(ecc)
export const SEED_FILE = 'wallet-seed.hex'
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

/**
 * Reads the seed, or creates it (exclusively, fsynced) when absent. A seed file readable by group or
 * others is refused rather than silently fixed: someone may already have copied it.
 */
export function loadOrCreateSeed (dataDir: string): { ok: true; seed: Uint8Array; created: boolean } | { ok: false; error: SeedError } {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = path.join(dataDir, SEED_FILE)
  if (!fs.existsSync(file)) {
    const seed = randomBytes(SEED_BYTES)
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
    try { fs.writeSync(fd, bytesToHex(seed) + '\n'); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
    return { ok: true, seed, created: true }
  }
  const mode = fs.statSync(file).mode & 0o777
  if ((mode & 0o077) !== 0) return { ok: false, error: { kind: 'seed_exposed', detail: `${file} has mode ${mode.toString(8)}; expected 600 (chmod 600 it if nobody else could read it)` } }
  const text = fs.readFileSync(file, 'utf8').trim()
  if (!/^[0-9a-f]{32,128}$/.test(text) || text.length % 2 !== 0) return { ok: false, error: { kind: 'seed_unreadable', detail: `${file}: expected 16-64 bytes of lowercase hex` } }
  return { ok: true, seed: hexToBytes(text), created: false }
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

  /** A bitcoinjs Signer whose ECDSA goes through our Curve (64-byte compact, low-S, RFC 6979). */
  signer (key: WalletKey): Signer {
    return { publicKey: key.publicKey, sign: (hash: Uint8Array) => this.curve.sign(hash, key.privateKey) }
  }
}
