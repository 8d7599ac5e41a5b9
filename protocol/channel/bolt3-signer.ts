// The real ChannelSigner: builds BOLT #3 commitment, HTLC and closing transactions with protocol/tx
// and signs them with our keys. Keys come in as arguments (DESIGN.md rule 1); this object only
// closes over them, it performs no I/O.
import type { Curve } from '../crypto/index.ts'
import { getCurve } from '../crypto/index.ts'
import { concatBytes, sha256 } from '../crypto/hash.ts'
import { commitmentIndex, obscuredCommitmentNumber, perCommitmentPoint, perCommitmentSecret } from '../keys/index.ts'
import { buildClosingTx } from '../tx/closing.ts'
import { buildCommitment, deriveCommitmentKeys } from '../tx/commitment.ts'
import { fundingOutput } from '../tx/funding.ts'
import { buildHtlcTxs, signHtlcTx, verifyHtlcSig } from '../tx/htlc.ts'
import { signFundingSpend, signInput, verifyFundingSpend, verifyInput } from '../tx/sign.ts'
import { SIGHASH_ALL } from '../tx/serialize.ts'
import type { ChannelBasepoints, CommitmentKeys, CommitmentParams, FundingOutput } from '../tx/types.ts'
import { bytesToHex, hexToBytes, type Msat, type Sat } from '../types.ts'
import type { ChannelSigner, ClosingRef, CommitmentRef, SignatureCheck } from './signer.ts'
import type { ChannelSetup, SideParams } from './state.ts'
import { remoteParams } from './state.ts'

export interface SignerSecrets {
  fundingPrivkey: Uint8Array
  htlcBasepointSecret: Uint8Array
  /** BOLT #3 per-commitment seed. */
  perCommitmentSeed: Uint8Array
}

const basepoints = (p: SideParams): ChannelBasepoints => ({
  fundingPubkey: hexToBytes(p.fundingPubkey),
  revocationBasepoint: hexToBytes(p.revocationBasepoint),
  paymentBasepoint: hexToBytes(p.paymentBasepoint),
  delayedPaymentBasepoint: hexToBytes(p.delayedPaymentBasepoint),
  htlcBasepoint: hexToBytes(p.htlcBasepoint),
})

function funding (setup: ChannelSetup): FundingOutput {
  if (setup.funding === undefined) throw new Error('signer: channel has no funding outpoint yet')
  return fundingOutput(
    setup.funding.txid, setup.funding.outputIndex, setup.capacitySat, hexToBytes(setup.local.fundingPubkey),
    hexToBytes(remoteParams(setup).fundingPubkey),
  )
}

/** deriveCommitmentKeys, remembered per (holder basepoints, counterparty basepoints, point): the keys
 *  of commitment n never change, and the same ones are asked for when signing or checking it, when
 *  the chain monitor records it, and on retransmission. A pure memo, least recently used out; sized
 *  for the commitments in flight across a hub's busy channels (an entry is about 1 KiB). */
const KEY_CACHE_SIZE = 2048
const keyCache = new Map<string, CommitmentKeys>()
function commitmentKeys (holder: SideParams, counterparty: SideParams, point: string, curve?: Curve): CommitmentKeys {
  const k = [
    point, holder.fundingPubkey, holder.htlcBasepoint, holder.delayedPaymentBasepoint, holder.paymentBasepoint,
    counterparty.fundingPubkey, counterparty.revocationBasepoint, counterparty.htlcBasepoint, counterparty.paymentBasepoint,
  ].join('')
  let keys = keyCache.get(k)
  if (keys === undefined) {
    keys = deriveCommitmentKeys(basepoints(holder), basepoints(counterparty), hexToBytes(point), curve)
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!)
  } else {
    keyCache.delete(k) // re-inserted below: most recently used last
  }
  keyCache.set(k, keys)
  return keys
}

/** BOLT #3 commitment parameters for the holder's commitment described by `c`. */
export function commitmentParams (setup: ChannelSetup, c: CommitmentRef, curve?: Curve): CommitmentParams {
  const local = setup.local
  const remote = remoteParams(setup)
  const [holder, counterparty] = c.holder === 'local' ? [local, remote] : [remote, local]
  const [opener, accepter] = setup.isFunder ? [local, remote] : [remote, local]
  const keys = commitmentKeys(holder, counterparty, c.perCommitmentPoint, curve)
  const s = c.spec
  return {
    channelType: setup.channelType,
    funding: funding(setup),
    obscuredCommitmentNumber: obscuredCommitmentNumber(
      c.number, hexToBytes(opener.paymentBasepoint), hexToBytes(accepter.paymentBasepoint),
    ),
    holderIsOpener: (c.holder === 'local') === setup.isFunder,
    // BOLT #2: `to_self_delay` "is the number of blocks that the other node's to-self outputs must be
    // delayed": the holder's to_local waits for the delay its counterparty chose.
    toSelfDelay: counterparty.toSelfDelay,
    dustLimitSat: holder.dustLimitSat,
    feeratePerKw: s.feeratePerKw,
    toLocalMsat: (c.holder === 'local' ? s.toLocalMsat : s.toRemoteMsat) as Msat,
    toRemoteMsat: (c.holder === 'local' ? s.toRemoteMsat : s.toLocalMsat) as Msat,
    htlcs: s.htlcs.map(h => ({
      direction: h.offerer === c.holder ? 'offered' as const : 'received' as const, id: h.id, amountMsat: h.amountMsat,
      paymentHash: hexToBytes(h.paymentHash), cltvExpiry: h.cltvExpiry,
    })),
    keys,
  }
}

function closingTx (setup: ChannelSetup, c: ClosingRef, dustLimitSat: Sat) {
  return buildClosingTx({
    funding: funding(setup),
    localScript: hexToBytes(c.localScript),
    remoteScript: hexToBytes(c.remoteScript),
    localMsat: c.spec.toLocalMsat,
    remoteMsat: c.spec.toRemoteMsat,
    feeSat: c.feeSat,
    localIsOpener: setup.isFunder,
    dustLimitSat,
  }).tx
}

/** A small memo for pure functions of one string key: each step asks for the same per-commitment
 *  points and commitment keys several times (sign, check, revoke, reestablish). */
function memo<T> (size: number, f: (k: string) => T): (k: string) => T {
  const m = new Map<string, T>()
  return k => {
    let v = m.get(k)
    if (v === undefined) {
      v = f(k)
      if (m.size >= size) m.delete(m.keys().next().value!)
      m.set(k, v)
    }
    return v
  }
}

export function bolt3Signer (secrets: SignerSecrets, curve?: Curve): ChannelSigner {
  const cv = getCurve(curve)
  let htlcBasepoint: Uint8Array | undefined
  // BOLT #3 "privkey = basepoint_secret + SHA256(per_commitment_point || basepoint)"; the basepoint
  // (a point multiplication) is computed once per signer, not per commitment.
  const htlcPrivkey = (point: Uint8Array): Uint8Array => {
    htlcBasepoint ??= cv.pubkey(secrets.htlcBasepointSecret)
    return cv.privAdd(secrets.htlcBasepointSecret, sha256(concatBytes(point, htlcBasepoint)))
  }
  const secretHex = memo(16, k => bytesToHex(perCommitmentSecret(secrets.perCommitmentSeed, commitmentIndex(Number(k)))))
  const pointHex = memo(16, k => bytesToHex(perCommitmentPoint(hexToBytes(secretHex(k)), cv)))
  return {
    perCommitmentPoint: n => pointHex(String(n)),
    perCommitmentSecret: n => secretHex(String(n)),
    secretMatchesPoint: (s, point) => {
      const k = hexToBytes(s)
      return cv.isPrivkey(k) && bytesToHex(cv.pubkey(k)) === point
    },
    signCommitment (setup, c) {
      const params = commitmentParams(setup, c, cv)
      const tx = buildCommitment(params)
      const signature = bytesToHex(signFundingSpend(tx.tx, params.funding, secrets.fundingPrivkey, cv))
      // Our HTLC key on the peer's commitment is derived from our htlc basepoint and *its* point
      // (only when there is an untrimmed HTLC to sign for).
      const htlcTxs = buildHtlcTxs(params, tx)
      const htlcPriv = htlcTxs.length > 0 ? htlcPrivkey(hexToBytes(c.perCommitmentPoint)) : undefined
      const htlcSignatures = htlcTxs.map(h => bytesToHex(signHtlcTx(h, htlcPriv!, 'counterparty', cv)))
      return { signature, htlcSignatures }
    },
    checkCommitment (setup, c, signature, htlcSignatures): SignatureCheck {
      const params = commitmentParams(setup, c, cv)
      const tx = buildCommitment(params)
      if (tx.htlcOutputs.length !== htlcSignatures.length) return 'wrong_htlc_signature_count'
      if (!verifyFundingSpend(tx.tx, params.funding, hexToBytes(signature), params.keys.remoteFundingPubkey, cv)) return 'bad_signature'
      const htlcTxs = buildHtlcTxs(params, tx)
      for (let i = 0; i < htlcTxs.length; i++) {
        const signature = hexToBytes(htlcSignatures[i]!)
        if (!verifyHtlcSig(htlcTxs[i]!, signature, params.keys.remoteHtlcPubkey, 'counterparty', cv)) return 'bad_signature'
      }
      return 'ok'
    },
    signClosing (setup, c) {
      const tx = closingTx(setup, c, c.dustLimitSat ?? setup.local.dustLimitSat)
      return bytesToHex(signFundingSpend(tx, funding(setup), secrets.fundingPrivkey, cv))
    },
    checkClosing (setup, c, signature) {
      // BOLT #2 (closing_signed, receiver): "if the `signature` is not valid for either variant of
      // closing transaction specified in BOLT #3" — the peer removed outputs below *its* dust limit.
      const pub = hexToBytes(remoteParams(setup).fundingPubkey)
      const dustLimitSat = [remoteParams(setup).dustLimitSat, setup.local.dustLimitSat].find(d =>
        verifyFundingSpend(closingTx(setup, c, d), funding(setup), hexToBytes(signature), pub, cv))
      return dustLimitSat === undefined ? undefined : { dustLimitSat }
    },
    signFundingInput (setup, tx, index) {
      const f = funding(setup)
      return bytesToHex(signInput(tx, index, f.witnessScript, f.amountSat, secrets.fundingPrivkey, SIGHASH_ALL, cv))
    },
    checkFundingInput (setup, tx, index, signature) {
      const f = funding(setup)
      return verifyInput(
        tx, index, f.witnessScript, f.amountSat, hexToBytes(signature), hexToBytes(remoteParams(setup).fundingPubkey), SIGHASH_ALL, cv,
      )
    },
  }
}
