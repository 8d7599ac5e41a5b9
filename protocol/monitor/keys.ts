// The private keys a monitor needs, passed in with each step (never stored in MonitorState). They are
// exactly the channel's keys (protocol/keys/channel.ts): the signer's three secrets plus the
// basepoint secrets that only on-chain claims use.
import { getCurve } from '../crypto/index.ts'
import { commitmentIndex, derivePrivkey, deriveRevocationPrivkey, perCommitmentPoint, perCommitmentSecret } from '../keys/index.ts'
import type { ChannelBasepoints } from '../tx/types.ts'
import type { SideParams } from '../channel/state.ts'
import { hexToBytes } from '../types.ts'

export interface MonitorKeys {
  fundingPrivkey: Uint8Array
  revocationBasepointSecret: Uint8Array
  paymentBasepointSecret: Uint8Array
  delayedPaymentBasepointSecret: Uint8Array
  htlcBasepointSecret: Uint8Array
  perCommitmentSeed: Uint8Array
}

/** From protocol/keys/channel.ts's ChannelKeys (or anything shaped like it). */
export function monitorKeys (k: {
  secrets: { fundingPrivkey: Uint8Array; htlcBasepointSecret: Uint8Array; perCommitmentSeed: Uint8Array }
  revocationBasepointSecret: Uint8Array; paymentBasepointSecret: Uint8Array; delayedPaymentBasepointSecret: Uint8Array
}): MonitorKeys {
  return {
    fundingPrivkey: k.secrets.fundingPrivkey,
    htlcBasepointSecret: k.secrets.htlcBasepointSecret,
    perCommitmentSeed: k.secrets.perCommitmentSeed,
    revocationBasepointSecret: k.revocationBasepointSecret,
    paymentBasepointSecret: k.paymentBasepointSecret,
    delayedPaymentBasepointSecret: k.delayedPaymentBasepointSecret,
  }
}

export function basepoints (p: SideParams): ChannelBasepoints {
  return {
    fundingPubkey: hexToBytes(p.fundingPubkey),
    revocationBasepoint: hexToBytes(p.revocationBasepoint),
    paymentBasepoint: hexToBytes(p.paymentBasepoint),
    delayedPaymentBasepoint: hexToBytes(p.delayedPaymentBasepoint),
    htlcBasepoint: hexToBytes(p.htlcBasepoint),
  }
}

/** Our per-commitment point for our commitment `n`. */
export function ourPoint (keys: MonitorKeys, n: number): Uint8Array {
  return perCommitmentPoint(perCommitmentSecret(keys.perCommitmentSeed, commitmentIndex(n)), getCurve())
}

/** BOLT #3: our htlc privkey on the commitment whose holder's point is `point` (ours or theirs). */
export const htlcPrivkey = (keys: MonitorKeys, point: Uint8Array): Uint8Array => derivePrivkey(keys.htlcBasepointSecret, point)
/** BOLT #3: our delayed privkey on our commitment with point `point`. */
export const delayedPrivkey = (keys: MonitorKeys, point: Uint8Array): Uint8Array => derivePrivkey(keys.delayedPaymentBasepointSecret, point)
/** BOLT #3 revocationprivkey for a commitment of the peer it revoked with `secret`. */
export const revocationPrivkey = (keys: MonitorKeys, secret: Uint8Array): Uint8Array => deriveRevocationPrivkey(
  keys.revocationBasepointSecret, secret,
)
