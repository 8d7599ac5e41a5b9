// Which transaction spent the funding output, and our own commitment rebuilt from the stored update,
// signed and ready to broadcast (with its second-stage HTLC transactions).
import { commitmentParams } from '../channel/bolt3-signer.ts'
import type { ChannelSetup } from '../channel/state.ts'
import { getCurve } from '../crypto/index.ts'
import { commitmentIndex, deriveOldSecret, obscuringFactor, shachainFromJson, xor48 } from '../keys/index.ts'
import { buildCommitment, obscuredNumberOf } from '../tx/commitment.ts'
import { buildHtlcTxs } from '../tx/htlc.ts'
import { finalizeFundingSpend, signFundingSpend } from '../tx/sign.ts'
import type { Commitment, CommitmentParams, HtlcTx, Tx } from '../tx/types.ts'
import { hexToBytes, type Txid } from '../types.ts'
import { delayedPrivkey, htlcPrivkey, type MonitorKeys } from './keys.ts'
import { knownFundings, type KnownFunding } from './splice.ts'
import type { LocalCommitRecord, MonitorState, RemoteCommitRecord, SeenTx } from './state.ts'

export type FundingSpend =
  | { kind: 'local'; rec: LocalCommitRecord }
  | { kind: 'remote'; rec: RemoteCommitRecord }
  | { kind: 'revoked'; number: number; secret: Uint8Array; htlcs: RemoteCommitRecord['htlcs'] }
  /** Not commitment-shaped: a mutual close (its outputs pay the shutdown scripts directly). */
  | { kind: 'mutual' }
  /** A commitment of the peer we know nothing about: we lost state (data-loss protection). */
  | { kind: 'unknown'; number: number }

export interface BuiltLocal {
  params: CommitmentParams
  commitment: Commitment
  /** Both signatures: broadcastable. */
  signedTx: Tx
  /** In commitment.htlcOutputs order, with the peer's signature for each. */
  htlcTxs: Array<{ htlcTx: HtlcTx; counterpartySig: Uint8Array }>
  delayedPrivkey: Uint8Array
  htlcPrivkey: Uint8Array
}

/** Records are never modified (steps replace them), so a build can be cached per record object. */
const cache = new WeakMap<LocalCommitRecord, BuiltLocal>()

export function buildLocal (setup: ChannelSetup, keys: MonitorKeys, rec: LocalCommitRecord): BuiltLocal {
  const hit = cache.get(rec)
  if (hit !== undefined) return hit
  const curve = getCurve()
  const point = hexToBytes(rec.perCommitmentPoint)
  const params = commitmentParams(
    setup, { holder: 'local', number: rec.number, perCommitmentPoint: rec.perCommitmentPoint, spec: rec.spec },
  )
  const commitment = buildCommitment(params)
  const ours = signFundingSpend(commitment.tx, params.funding, keys.fundingPrivkey, curve)
  const signedTx = finalizeFundingSpend(commitment.tx, params.funding,
    { pubkey: params.keys.localFundingPubkey, sig64: ours },
    { pubkey: params.keys.remoteFundingPubkey, sig64: hexToBytes(rec.signature) })
  const htlcTxs = buildHtlcTxs(params, commitment).map((htlcTx, i) => ({
    htlcTx, counterpartySig: hexToBytes(rec.htlcSignatures[i] ?? ''),
  }))
  const built = {
    params, commitment, signedTx, htlcTxs, delayedPrivkey: delayedPrivkey(keys, point), htlcPrivkey: htlcPrivkey(keys, point),
  }
  cache.set(rec, built)
  return built
}

/** The txid of our commitment `rec` (cached build). */
export const localTxid = (
  setup: ChannelSetup, keys: MonitorKeys, rec: LocalCommitRecord,
): Txid => buildLocal(setup, keys, rec).commitment.txid

/** The commitment number a commitment tx carries (BOLT #3 obscured number XOR the factor). */
export function commitmentNumberOf (setup: ChannelSetup, tx: SeenTx): number | undefined {
  const input = tx.inputs[0]
  if (input === undefined) return undefined
  const obscured = obscuredNumberOf({
    version: 2, locktime: tx.locktime,
    inputs: [{ txid: input.txid as Txid, vout: input.vout, sequence: input.sequence, scriptSig: new Uint8Array(0), witness: [] }],
    outputs: [],
  })
  if (obscured === undefined) return undefined
  const remote = setup.remote
  if (remote === undefined) return undefined
  const [opener, accepter] = setup.isFunder ? [setup.local, remote] : [remote, setup.local]
  return xor48(obscured, obscuringFactor(hexToBytes(opener.paymentBasepoint), hexToBytes(accepter.paymentBasepoint)))
}

/** The revocation secret of the peer's commitment `n`, if it revoked it. */
export function revocationSecret (s: MonitorState, n: number): Uint8Array | undefined {
  if (n > s.revokedUpTo) return undefined
  const store = shachainFromJson(s.secrets)
  if (!store.ok) throw new Error(`monitor state: ${store.error}`)
  return deriveOldSecret(store.value, commitmentIndex(n))
}

/**
 * BOLT #5: "There are three ways a channel can end: 1. The good way (mutual close) [...]
 * 2. The bad way (unilateral close) [...] 3. The ugly way (revoked transaction close)". Which one
 * `tx` (a spend of funding output `on`, by default the funding output it spends) is, from what the
 * monitor knows. Only our own commitments depend on the output: the peer's are recognised by their
 * number, whichever funding output (a splice candidate's, an older one) they spend.
 */
export function identifyFundingSpend (s: MonitorState, keys: MonitorKeys, tx: SeenTx, on?: KnownFunding): FundingSpend {
  const setup = s.setup!
  const n = commitmentNumberOf(setup, tx)
  if (n === undefined) return { kind: 'mutual' }
  const input = tx.inputs[0]
  const funding = on ?? knownFundings(s).find(f => f.txid === input?.txid && f.outputIndex === input.vout)
  for (const rec of funding?.locals ?? []) {
    if (rec.number === n && localTxid(funding!.setup, keys, rec) === tx.txid) return { kind: 'local', rec }
  }
  const secret = revocationSecret(s, n)
  if (secret !== undefined) return { kind: 'revoked', number: n, secret, htlcs: s.remotes.find(r => r.number === n)?.htlcs ?? [] }
  const rec = s.remotes.find(r => r.number === n)
  if (rec !== undefined) return { kind: 'remote', rec }
  return { kind: 'unknown', number: n }
}
