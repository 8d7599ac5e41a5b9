// A channel's keys from one 32-byte channel seed (chosen at random by the host when it opens or
// accepts a channel, and stored with the channel): the signer's secrets and the basepoints that go in
// open_channel / accept_channel. One seed per channel means no key is ever shared between channels,
// and no counter has to be allocated durably before a channel exists.
//
// Each secret is sha256(seed ‖ tag): independent keys from one seed (the probability that a hash is
// not a valid secp256k1 scalar is below 2^-127).
import { concatBytes, sha256 } from '../crypto/hash.ts'
import { getCurve } from '../crypto/index.ts'
import type { SignerSecrets } from '../channel/bolt3-signer.ts'
import type { SideParams } from '../channel/state.ts'
import { bytesToHex } from '../types.ts'

const TAGS = ['funding', 'revocation', 'payment', 'delayed_payment', 'htlc', 'per_commitment_seed'] as const
type Tag = (typeof TAGS)[number]

function derive (seed: Uint8Array, tag: Tag): Uint8Array {
  if (seed.length !== 32) throw new TypeError('channel seed must be 32 bytes')
  return sha256(concatBytes(seed, new TextEncoder().encode(`channel-key/${tag}`)))
}

export interface ChannelKeys {
  secrets: SignerSecrets
  /** Public keys (hex) for SideParams. */
  fundingPubkey: string
  revocationBasepoint: string
  paymentBasepoint: string
  delayedPaymentBasepoint: string
  htlcBasepoint: string
  /** Secrets the chain monitor needs (sweeping to_local, penalties); the signer does not. */
  revocationBasepointSecret: Uint8Array
  paymentBasepointSecret: Uint8Array
  delayedPaymentBasepointSecret: Uint8Array
}

/** The public keys are computed on first read (a point multiplication each): a host that restarts
 *  with many channels needs only the secrets (signer, chain monitor); the basepoints are in the
 *  stored channel state already and are read from here only when a channel is opened. */
export function channelKeys (seed: Uint8Array): ChannelKeys {
  const c = getCurve()
  const funding = derive(seed, 'funding')
  const revocation = derive(seed, 'revocation')
  const payment = derive(seed, 'payment')
  const delayed = derive(seed, 'delayed_payment')
  const htlc = derive(seed, 'htlc')
  const pubs = new Map<Uint8Array, string>()
  const pub = (k: Uint8Array): string => {
    let p = pubs.get(k)
    if (p === undefined) pubs.set(k, p = bytesToHex(c.pubkey(k)))
    return p
  }
  return {
    secrets: { fundingPrivkey: funding, htlcBasepointSecret: htlc, perCommitmentSeed: derive(seed, 'per_commitment_seed') },
    get fundingPubkey () { return pub(funding) },
    get revocationBasepoint () { return pub(revocation) },
    get paymentBasepoint () { return pub(payment) },
    get delayedPaymentBasepoint () { return pub(delayed) },
    get htlcBasepoint () { return pub(htlc) },
    revocationBasepointSecret: revocation,
    paymentBasepointSecret: payment,
    delayedPaymentBasepointSecret: delayed,
  }
}

/** The limits a side imposes on its peer (BOLT #2 open_channel / accept_channel fields). */
export type SideLimits = Pick<SideParams, 'dustLimitSat' | 'maxHtlcValueInFlightMsat' | 'channelReserveSat' |
  'htlcMinimumMsat' | 'toSelfDelay' | 'maxAcceptedHtlcs' | 'upfrontShutdownScript'>

/** Our SideParams for a channel: its keys' basepoints and our limits. */
export function localSideParams (keys: ChannelKeys, limits: SideLimits): SideParams {
  return {
    ...limits,
    fundingPubkey: keys.fundingPubkey,
    revocationBasepoint: keys.revocationBasepoint,
    paymentBasepoint: keys.paymentBasepoint,
    delayedPaymentBasepoint: keys.delayedPaymentBasepoint,
    htlcBasepoint: keys.htlcBasepoint,
  }
}
