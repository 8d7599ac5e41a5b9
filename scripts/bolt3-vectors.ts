// BOLT #3 vector runner: `npm run --silent bolt3 -- FILE`.
//
// FILE has the shape of test/vectors/bolt3/commitment-txs-static-remotekey.json (`common`,
// `htlcs`, `tests[]`, `derived_by_verifier`) or of commitment-txs-anchors.json (spec field names:
// Name, LocalBalance, RemoteBalance, DustLimitSatoshis, FeePerKw, UseTestHtlcs; its common data is read
// from the static_remotekey file next to it when FILE has no `common`). A top-level `channel_type` of
// "anchors" (or one naming option_anchors) selects the anchors format; default static_remotekey.
//
// For each test it builds the commitment and its HTLC txs from the INPUTS alone — funding, keys,
// local_delay, dust limit, commitment_number, balances, feerate, htlc ids — never reading expected_*,
// *_signature, *_comment or *_output fields, signs with both parties' keys and prints one JSON line:
//   {"name", "commitment_tx_hex", "htlc_txs": [{"htlc", "type", "tx_hex"}]}
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { sha256 } from '../protocol/crypto/hash.ts'
import type { Curve } from '../protocol/crypto/index.ts'
import { getCurve } from '../protocol/crypto/index.ts'
import { obscuredCommitmentNumber } from '../protocol/keys/index.ts'
import {
  buildCommitment, buildHtlcTxs, finalizeFundingSpend, finalizeHtlcTx, fundingOutput, signFundingSpend, signHtlcTx, txHex,
  type ChannelType, type CommitmentHtlc, type CommitmentParams, type FundingOutput,
} from '../protocol/tx/index.ts'
import { hexToBytes, msat, sat, type Txid } from '../protocol/types.ts'

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`))
const u64 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

const commonSchema = z.looseObject({
  funding_txid: hex(32),
  funding_output_index: z.number().int().min(0).max(0xffff),
  funding_amount_satoshi: u64,
  commitment_number: z.number().int().min(0).max(2 ** 48 - 1),
  local_delay: z.number().int().min(0).max(0xffff),
  local_dust_limit_satoshi: u64.optional(),
  local_payment_basepoint: hex(33),
  remote_payment_basepoint: hex(33),
  local_funding_privkey: hex(32),
  remote_funding_pubkey: hex(33),
  local_privkey: hex(32).optional(),
  local_htlcpubkey: hex(33),
  remote_htlcpubkey: hex(33),
  local_delayedpubkey: hex(33),
  local_revocation_pubkey: hex(33),
})
const htlcSchema = z.looseObject({
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  amount_msat: u64,
  expiry: z.number().int().min(0).max(0xffffffff),
  payment_preimage: hex(32),
  offered_by_local: z.boolean().optional(),
  direction: z.enum(['local->remote', 'remote->local']).optional(),
})
const staticTestSchema = z.looseObject({
  name: z.string().max(500),
  to_local_msat: u64,
  to_remote_msat: u64,
  local_feerate_per_kw: u64,
  local_dust_limit_satoshi: u64.optional(),
  htlc_ids: z.array(z.number().int().min(0)).max(1000).optional(),
})
const anchorsTestSchema = z.looseObject({
  Name: z.string().max(500),
  LocalBalance: u64,
  RemoteBalance: u64,
  DustLimitSatoshis: u64,
  FeePerKw: u64,
  UseTestHtlcs: z.boolean().optional(),
  htlc_ids: z.array(z.number().int().min(0)).max(1000).optional(),
})
const secretsSchema = z.looseObject({
  remote_funding_privkey: hex(32).optional(),
  remote_privkey: hex(32).optional(),
  remote_htlc_privkey: hex(32).optional(),
  local_htlc_privkey: hex(32).optional(),
})
const fileSchema = z.looseObject({
  channel_type: z.string().max(500).optional(),
  common: commonSchema.optional(),
  htlcs: z.array(htlcSchema).max(1000).optional(),
  internal_from_html_comment: secretsSchema.optional(),
  derived_by_verifier: secretsSchema.optional(),
  tests: z.array(z.union([anchorsTestSchema, staticTestSchema])).max(10_000),
})
export type VectorFile = z.infer<typeof fileSchema>

export interface RunnerLine { name: string, commitment_tx_hex: string, htlc_txs: Array<{ htlc: number, type: string, tx_hex: string }> }

function channelTypeOf (s: string | undefined): ChannelType {
  return s !== undefined && /^anchors$|option_anchors/.test(s) ? 'anchors' : 'static_remotekey'
}

function parse (json: unknown, what: string): VectorFile {
  const r = fileSchema.safeParse(json)
  if (!r.success) throw new Error(`${what}: ${r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  return r.data
}

export interface PreparedVectors {
  readonly funding: FundingOutput
  readonly localFundingPriv: Uint8Array
  readonly remoteFundingPriv: Uint8Array
  readonly localHtlcPriv: Uint8Array
  readonly remoteHtlcPriv: Uint8Array
  readonly preimages: ReadonlyMap<number, Uint8Array>
  readonly tests: ReadonlyArray<{ readonly name: string, readonly params: CommitmentParams }>
}

/**
 * Turns a parsed vector file into commitment parameters and signing keys, from its input fields only.
 * `sibling` supplies common/htlcs/secrets when the file has none (the anchors file).
 */
export function prepareVectors (file: VectorFile, sibling?: VectorFile, curve?: Curve): PreparedVectors {
  const c = getCurve(curve)
  const channelType = channelTypeOf(file.channel_type)
  const common = file.common ?? sibling?.common
  const htlcDefs = file.htlcs ?? sibling?.htlcs ?? []
  const secrets = {
    ...sibling?.internal_from_html_comment, ...sibling?.derived_by_verifier, ...file.internal_from_html_comment, ...file.derived_by_verifier
  }
  if (common === undefined) throw new Error('vector file: no `common` section (and no sibling static_remotekey file)')
  const remoteFundingPriv = secrets.remote_funding_privkey
  const remoteHtlcPriv = secrets.remote_htlc_privkey ?? secrets.remote_privkey
  const localHtlcPriv = secrets.local_htlc_privkey ?? common.local_privkey
  if (remoteFundingPriv === undefined || remoteHtlcPriv === undefined || localHtlcPriv === undefined) {
    throw new Error('vector file: remote_funding_privkey, remote_htlc_privkey and local_htlc_privkey are needed to sign')
  }
  const localFundingPriv = hexToBytes(common.local_funding_privkey)
  const localFundingPub = c.pubkey(localFundingPriv)
  const remoteFundingPub = hexToBytes(common.remote_funding_pubkey)
  const funding = fundingOutput(
    common.funding_txid as Txid, common.funding_output_index, sat(common.funding_amount_satoshi), localFundingPub, remoteFundingPub,
  )
  const keys = {
    revocationPubkey: hexToBytes(common.local_revocation_pubkey),
    localDelayedPubkey: hexToBytes(common.local_delayedpubkey),
    localHtlcPubkey: hexToBytes(common.local_htlcpubkey),
    remoteHtlcPubkey: hexToBytes(common.remote_htlcpubkey),
    // option_static_remotekey: remotepubkey = the remote payment_basepoint.
    remotePaymentPubkey: hexToBytes(common.remote_payment_basepoint),
    localFundingPubkey: localFundingPub,
    remoteFundingPubkey: remoteFundingPub,
  }
  const obscured = obscuredCommitmentNumber(
    common.commitment_number, hexToBytes(common.local_payment_basepoint), hexToBytes(common.remote_payment_basepoint),
  )
  const preimages = new Map<number, Uint8Array>()
  const htlcById = new Map<number, CommitmentHtlc>()
  for (const h of htlcDefs) {
    const offered = h.offered_by_local ?? h.direction === 'local->remote'
    const preimage = hexToBytes(h.payment_preimage)
    preimages.set(h.id, preimage)
    htlcById.set(h.id, {
      direction: offered ? 'offered' : 'received', id: h.id, amountMsat: msat(h.amount_msat), paymentHash: sha256(preimage),
      cltvExpiry: h.expiry,
    })
  }

  const tests = file.tests.map(raw => {
    const anchorsShape = anchorsTestSchema.safeParse(raw)
    const t = anchorsShape.success
      ? { shape: 'anchors' as const, ...anchorsShape.data }
      : { shape: 'static' as const, ...staticTestSchema.parse(raw) }
    const name = t.shape === 'anchors' ? t.Name : t.name
    // Appendix C: "HTLCs are not used for the first test, and HTLCs 5 and 6 are only used in the same
    // amount and preimage test" — the default when a test names no htlc_ids.
    const ids = t.htlc_ids ?? (t.shape === 'anchors' && t.UseTestHtlcs !== true ? [] : [0, 1, 2, 3, 4])
    const htlcs = ids.map(id => {
      const h = htlcById.get(id)
      if (h === undefined) throw new Error(`${name}: unknown HTLC id ${id}`)
      return h
    })
    const params: CommitmentParams = {
      channelType,
      funding,
      obscuredCommitmentNumber: obscured,
      holderIsOpener: true, // Appendix C: "local is the opener/funder"
      toSelfDelay: common.local_delay,
      dustLimitSat: sat(
        t.shape === 'anchors' ? t.DustLimitSatoshis : (t.local_dust_limit_satoshi ?? common.local_dust_limit_satoshi ?? 546)
      ),
      feeratePerKw: t.shape === 'anchors' ? t.FeePerKw : t.local_feerate_per_kw,
      toLocalMsat: msat(t.shape === 'anchors' ? t.LocalBalance : t.to_local_msat),
      toRemoteMsat: msat(t.shape === 'anchors' ? t.RemoteBalance : t.to_remote_msat),
      htlcs,
      keys,
    }
    return { name, params }
  })
  return {
    funding, localFundingPriv, remoteFundingPriv: hexToBytes(remoteFundingPriv),
    localHtlcPriv: hexToBytes(localHtlcPriv), remoteHtlcPriv: hexToBytes(remoteHtlcPriv), preimages, tests,
  }
}

/** Builds and fully signs every test's commitment and HTLC txs. */
export function runVectors (file: VectorFile, sibling?: VectorFile, curve?: Curve): RunnerLine[] {
  const c = getCurve(curve)
  const v = prepareVectors(file, sibling, c)
  const { funding } = v
  return v.tests.map(({ name, params }) => {
    const commitment = buildCommitment(params)
    const localSig = signFundingSpend(commitment.tx, funding, v.localFundingPriv, c)
    const remoteSig = signFundingSpend(commitment.tx, funding, v.remoteFundingPriv, c)
    const signed = finalizeFundingSpend(commitment.tx, funding,
      { pubkey: params.keys.localFundingPubkey, sig64: localSig }, { pubkey: params.keys.remoteFundingPubkey, sig64: remoteSig })
    const htlcTxs = buildHtlcTxs(params, commitment).map(h => {
      const remote = signHtlcTx(h, v.remoteHtlcPriv, 'counterparty', c)
      const local = signHtlcTx(h, v.localHtlcPriv, 'holder', c)
      const tx = finalizeHtlcTx(h, remote, local, h.kind === 'htlc-success' ? v.preimages.get(h.spends.htlc.id) : undefined)
      return { htlc: h.spends.htlc.id, type: h.kind, tx_hex: txHex(tx) }
    })
    return { name, commitment_tx_hex: txHex(signed), htlc_txs: htlcTxs }
  })
}

/** Parses a vector file's JSON (strict on the fields it reads). */
export function parseVectorFile (json: unknown, what: string): VectorFile { return parse(json, what) }

/** Reads FILE (and, for a file without `common`, the static_remotekey file beside it). */
export function runVectorFile (path: string, curve?: Curve): RunnerLine[] {
  const file = parse(JSON.parse(readFileSync(path, 'utf8')), path)
  let sibling: VectorFile | undefined
  if (file.common === undefined) {
    const p = join(dirname(path), 'commitment-txs-static-remotekey.json')
    sibling = parse(JSON.parse(readFileSync(p, 'utf8')), p)
  }
  return runVectors(file, sibling, curve)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const path = process.argv[2]
  if (path === undefined) {
    process.stderr.write('usage: npm run --silent bolt3 -- FILE\n')
    process.exit(2)
  }
  try {
    for (const line of runVectorFile(path)) process.stdout.write(JSON.stringify(line) + '\n')
  } catch (e) {
    process.stderr.write(`bolt3: ${(e as Error).message}\n`)
    process.exit(1)
  }
}
