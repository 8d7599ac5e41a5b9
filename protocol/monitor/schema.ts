// Parsing a stored monitor state (DESIGN.md rule 4: what comes back from disk is checked too). The
// channel-owned parts (setup, specs, HTLCs) are checked for shape at their top level; everything the
// monitor itself computes with is checked field by field.
import { z } from 'zod'
import {
  CLTV_EXPIRY_LIMIT, FEERATE_PER_KW_FLOOR, MAX_ACCEPTED_HTLCS_LIMIT, MAX_COMMITMENT_BATCH_SIZE, MAX_STANDARD_TX_WEIGHT,
} from '../limits.ts'
import type { MonitorState } from './state.ts'
import { err, ok, type Result } from '../result.ts'

const hex = z.string().regex(/^(?:[0-9a-f]{2})*$/)
const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const height = z.number().int().min(0).max(10_000_000)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
/** The deepest finality depth a monitor accepts. */
const MAX_DEPTH = 1000
/** HTLCs one commitment can hold: MAX_ACCEPTED_HTLCS_LIMIT offered by each side. */
const MAX_COMMITMENT_HTLCS = 2 * MAX_ACCEPTED_HTLCS_LIMIT
const htlc = z.looseObject({
  offerer: z.enum(['local', 'remote']), id: count, amountMsat: count, paymentHash: hex32, cltvExpiry: height.lt(CLTV_EXPIRY_LIMIT),
})
const spec = z.looseObject({ htlcs: z.array(htlc).max(MAX_COMMITMENT_HTLCS), toLocalMsat: count, toRemoteMsat: count, feeratePerKw: count })
const seenTx = z.strictObject({
  txid: hex32, height, blockHash: z.string().max(64), stage: z.number().int().min(0).max(2), locktime: count,
  inputs: z.array(z.strictObject({ txid: hex32, vout: count, sequence: count, witness: z.array(hex).max(100) })).max(10_000),
  outputs: z.array(z.strictObject({ valueSat: count, script: hex })).max(10_000),
})

const localCommit = z.strictObject({
  number: count, perCommitmentPoint: hex, spec, signature: hex, htlcSignatures: z.array(hex).max(MAX_COMMITMENT_HTLCS),
})
const pubkey = z.string().regex(/^0[23][0-9a-f]{64}$/)
const fundingKeys = z.strictObject({ local: pubkey, remote: pubkey })
/** A splice and its RBF replacements: each adds a commitment_signed to a batch of at most
 *  MAX_COMMITMENT_BATCH_SIZE (the channel refuses more). */
const candidate = z.strictObject({
  txid: hex32, outputIndex: count, capacitySat: count, fundingPubkey: fundingKeys,
  contributionSat: z.strictObject({ local: z.number().int().safe(), remote: z.number().int().safe() }),
  sigs: z.array(z.strictObject({ number: count, signature: hex, htlcSignatures: z.array(hex).max(MAX_COMMITMENT_HTLCS) })).max(2),
  tx: hex.max(2 * MAX_STANDARD_TX_WEIGHT).optional(), height, blockHash: z.string().max(64),
})
/** Older funding outputs are kept until the splice that spent them is `depth` deep; a new splice
 *  starts only once the last one is locked, so there are at most `depth` of them. */
const spliced = z.strictObject({
  txid: hex32, outputIndex: count, capacitySat: count, fundingPubkey: fundingKeys, splicedBy: hex32,
  local: localCommit.optional(), previousLocal: localCommit.optional(),
})

export const monitorStateSchema = z.strictObject({
  version: z.literal(1),
  channelId: z.string().min(1).max(128),
  config: z.strictObject({
    depth: z.number().int().min(1).max(MAX_DEPTH),
    feeratePerKw: z.number().int().min(FEERATE_PER_KW_FLOOR).max(1_000_000),
    maxFeeratePerKw: z.number().int().min(FEERATE_PER_KW_FLOOR).max(10_000_000),
    bumpEveryBlocks: z.number().int().min(1).max(1000),
    sweepScript: hex.min(4).max(84),
    offeredGraceBlocks: z.number().int().min(0).max(1000),
    fulfillSafetyBlocks: z.number().int().min(0).max(1000),
  }),
  lastSeq: count,
  setup: z.looseObject({ channelType: z.enum(['static_remotekey', 'anchors']), capacitySat: count, local: z.looseObject({}) }).optional(),
  local: localCommit.optional(),
  previousLocal: localCommit.optional(),
  remotes: z.array(z.strictObject({ number: count, perCommitmentPoint: hex, htlcs: z.array(htlc).max(MAX_COMMITMENT_HTLCS) })),
  secrets: z.looseObject({ lastIndex: count.nullable(), known: z.array(z.unknown()).max(49) }),
  revokedUpTo: z.number().int().min(-1),
  preimages: z.record(hex32, hex32),
  doNotBroadcast: z.boolean(),
  forceClose: z.strictObject({ reason: z.string().max(1000), height }).optional(),
  height,
  tipHash: z.string().max(64),
  fundingHeight: height,
  splice: z.strictObject({
    candidates: z.array(candidate).max(MAX_COMMITMENT_BATCH_SIZE), spliced: z.array(spliced).max(MAX_DEPTH),
  }).optional(),
  seen: z.array(seenTx).max(10_000),
  firstWanted: z.record(z.string().max(200), height),
  reported: z.array(z.string().max(200)).max(100_000),
  watching: z.array(z.string().max(100)).max(100_000).optional(),
  closed: z.boolean(),
})

/** Parses stored JSON; the error names the field. */
export function parseMonitorState (json: unknown): Result<MonitorState, string> {
  const r = monitorStateSchema.safeParse(json)
  if (!r.success) return err(r.error.issues.map(i => `monitor.${i.path.join('.')}: ${i.message}`).join('; '))
  return ok(r.data as unknown as MonitorState)
}
