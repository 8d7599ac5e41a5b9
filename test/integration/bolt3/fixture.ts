// Two parties with fresh random keys, a funded channel between them on a real btcd, and A's signed
// commitments: the material the BOLT #3 integration tests spend from.
import { randomBytes } from 'node:crypto'
import { tinyCurve } from '../../../protocol/crypto/tiny.ts'
import { sha256 } from '../../../protocol/crypto/hash.ts'
import { derivePrivkey, perCommitmentPoint, perCommitmentSecret, commitmentIndex, obscuredCommitmentNumber } from '../../../protocol/keys/index.ts'
import {
  buildCommitment, buildFundingTx, buildHtlcTxs, deriveCommitmentKeys, finalizeFundingSpend, p2wpkh, signFundingSpend, signHtlcTx,
  verifyFundingSpend, verifyHtlcSig, txHex,
  type ChannelBasepoints, type ChannelType, type Commitment, type CommitmentParams, type FundingOutput, type HtlcTx, type Tx, type WalletInput,
} from '../../../protocol/tx/index.ts'
import { msat, sat, type Txid } from '../../../protocol/types.ts'
import type { Btcd } from '../../helpers/btcd.ts'

export const curve = tinyCurve
const rand32 = (): Uint8Array => {
  for (;;) { const k = new Uint8Array(randomBytes(32)); if (curve.isPrivkey(k)) return k }
}

export interface Party {
  secrets: { funding: Uint8Array, revocation: Uint8Array, payment: Uint8Array, delayed: Uint8Array, htlc: Uint8Array, seed: Uint8Array }
  basepoints: ChannelBasepoints
}
export function newParty (): Party {
  const s = { funding: rand32(), revocation: rand32(), payment: rand32(), delayed: rand32(), htlc: rand32(), seed: rand32() }
  return {
    secrets: s,
    basepoints: {
      fundingPubkey: curve.pubkey(s.funding), revocationBasepoint: curve.pubkey(s.revocation), paymentBasepoint: curve.pubkey(s.payment),
      delayedPaymentBasepoint: curve.pubkey(s.delayed), htlcBasepoint: curve.pubkey(s.htlc),
    },
  }
}

/** A wallet key with a confirmed P2WPKH coin from the faucet. */
export async function walletCoin (btc: Btcd, valueSat: number): Promise<WalletInput & { script: Uint8Array }> {
  const privkey = rand32()
  const script = p2wpkh(curve.pubkey(privkey))
  const out = await btc.faucet(script, valueSat)
  await btc.mine(1)
  return { txid: out.txid, vout: out.vout, valueSat: sat(valueSat), kind: 'p2wpkh', privkey, script }
}

export async function broadcast (btc: Btcd, tx: Tx): Promise<{ ok: true, txid: Txid } | { ok: false, reason: string, detail: string }> {
  const r = await btc.chain.broadcast(txHex(tx))
  if (r.ok) return { ok: true, txid: r.value }
  return { ok: false, reason: r.error.kind === 'rejected' ? r.error.reason : r.error.kind, detail: r.error.detail }
}

export async function confirmations (btc: Btcd, txid: string): Promise<number> {
  const r = await btc.chain.getRawTransaction(txid)
  if (!r.ok) throw new Error(r.error.detail)
  return r.value?.confirmations ?? -1
}

export async function height (btc: Btcd): Promise<number> {
  const r = await btc.chain.tip()
  if (!r.ok) throw new Error(r.error.detail)
  return r.value.height
}

/** Mines until the chain tip is `h`. */
export async function mineTo (btc: Btcd, h: number): Promise<void> {
  const now = await height(btc)
  if (h > now) await btc.mine(h - now)
}

export const FEERATE = 2500 // sat per 1000 weight = 10 sat/vB, above btcd's relay minimum
export const TO_SELF_DELAY = 6
export const FUNDING_SAT = 1_000_000

export interface Channel {
  channelType: ChannelType
  a: Party
  b: Party
  funding: FundingOutput
}

/** A (the opener) funds a channel with B from a faucet coin; the funding tx is broadcast and confirmed. */
export async function openChannel (btc: Btcd, channelType: ChannelType): Promise<Channel & { fundingTxid: Txid }> {
  const a = newParty()
  const b = newParty()
  const coin = await walletCoin(btc, FUNDING_SAT + 100_000)
  const r = buildFundingTx({
    inputs: [coin], fundingAmountSat: sat(FUNDING_SAT), localFundingPubkey: a.basepoints.fundingPubkey, remoteFundingPubkey: b.basepoints.fundingPubkey,
    changeScript: coin.script, feeratePerKw: FEERATE,
  }, curve)
  if (!r.ok) throw new Error(r.detail)
  const sent = await broadcast(btc, r.tx)
  if (!sent.ok) throw new Error(`funding rejected: ${sent.detail}`)
  await btc.mine(1)
  return { channelType, a, b, funding: r.funding, fundingTxid: r.txid }
}

export const PREIMAGE_RECEIVED = new Uint8Array(32).fill(0x77)
export const PREIMAGE_OFFERED = new Uint8Array(32).fill(0x55)

export interface SignedCommitment {
  params: CommitmentParams
  commitment: Commitment
  /** A's broadcastable commitment (both signatures). */
  tx: Tx
  htlcTxs: HtlcTx[]
  /** B's signatures on the HTLC txs, in htlcOutputs order (what commitment_signed carries). */
  counterpartyHtlcSigs: Uint8Array[]
  perCommitmentSecret: Uint8Array
  perCommitmentPoint: Uint8Array
  /** A's keys for this commitment. */
  aHtlcPrivkey: Uint8Array
  aDelayedPrivkey: Uint8Array
  bHtlcPrivkey: Uint8Array
}

/**
 * A's commitment number `n`, holding one HTLC A offered (expiring at `offeredCltv`) and one it
 * received (preimage PREIMAGE_RECEIVED), signed by B as `commitment_signed` would be, checked by A.
 */
export function aCommitment (ch: Channel, n: number, offeredCltv: number, receivedCltv = offeredCltv + 100): SignedCommitment {
  const secret = perCommitmentSecret(ch.a.secrets.seed, commitmentIndex(n))
  const point = perCommitmentPoint(secret, curve)
  const keys = deriveCommitmentKeys(ch.a.basepoints, ch.b.basepoints, point, curve)
  const offered = 200_000_000
  const received = 150_000_000
  const toLocal = 500_000_000
  const params: CommitmentParams = {
    channelType: ch.channelType,
    funding: ch.funding,
    obscuredCommitmentNumber: obscuredCommitmentNumber(n, ch.a.basepoints.paymentBasepoint, ch.b.basepoints.paymentBasepoint),
    holderIsOpener: true,
    toSelfDelay: TO_SELF_DELAY,
    dustLimitSat: sat(546),
    feeratePerKw: FEERATE,
    toLocalMsat: msat(toLocal),
    toRemoteMsat: msat(FUNDING_SAT * 1000 - toLocal - offered - received),
    htlcs: [
      { direction: 'offered', id: 0, amountMsat: msat(offered), paymentHash: sha256(PREIMAGE_OFFERED), cltvExpiry: offeredCltv },
      { direction: 'received', id: 0, amountMsat: msat(received), paymentHash: sha256(PREIMAGE_RECEIVED), cltvExpiry: receivedCltv },
    ],
    keys,
  }
  const commitment = buildCommitment(params)
  const bSig = signFundingSpend(commitment.tx, ch.funding, ch.b.secrets.funding, curve)
  if (!verifyFundingSpend(commitment.tx, ch.funding, bSig, ch.b.basepoints.fundingPubkey, curve)) throw new Error('B signature does not verify')
  const aSig = signFundingSpend(commitment.tx, ch.funding, ch.a.secrets.funding, curve)
  const tx = finalizeFundingSpend(commitment.tx, ch.funding, { pubkey: keys.localFundingPubkey, sig64: aSig }, { pubkey: keys.remoteFundingPubkey, sig64: bSig })
  const htlcTxs = buildHtlcTxs(params, commitment)
  const bHtlcPrivkey = derivePrivkey(ch.b.secrets.htlc, point, curve)
  const counterpartyHtlcSigs = htlcTxs.map(h => signHtlcTx(h, bHtlcPrivkey, 'counterparty', curve))
  counterpartyHtlcSigs.forEach((s, k) => { if (!verifyHtlcSig(htlcTxs[k]!, s, keys.remoteHtlcPubkey, 'counterparty', curve)) throw new Error('B HTLC signature does not verify') })
  return {
    params, commitment, tx, htlcTxs, counterpartyHtlcSigs, perCommitmentSecret: secret, perCommitmentPoint: point,
    aHtlcPrivkey: derivePrivkey(ch.a.secrets.htlc, point, curve),
    aDelayedPrivkey: derivePrivkey(ch.a.secrets.delayed, point, curve),
    bHtlcPrivkey,
  }
}
