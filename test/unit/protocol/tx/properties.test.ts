// Property tests: the shachain store against honest and tampered sequences; the commitment builder
// against random HTLC sets, feerates, dust limits and balances, for both channel types.
import t from 'tap'
import fc from 'fast-check'
import {
  commitmentIndex, emptyShachain, insertSecret, perCommitmentSecret, deriveOldSecret, type Shachain,
} from '../../../../protocol/keys/index.ts'
import { nobleCurve } from '../../../../protocol/crypto/noble.ts'
import { compactToDer, derToCompact } from '../../../../protocol/crypto/der.ts'
import { compareBytes } from '../../../../protocol/crypto/hash.ts'
import { msat, sat, type Txid } from '../../../../protocol/types.ts'
import {
  buildCommitment, buildHtlcTxs, fundingOutput, txHex, ANCHOR_OUTPUT_SAT, type ChannelType, type CommitmentHtlc, type CommitmentParams,
} from '../../../../protocol/tx/index.ts'

const NUM_RUNS = 200

t.test('shachain accepts every honest sequence and can derive each secret back', async t => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1, max: 150 }), (seed, n) => {
    let store: Shachain = emptyShachain()
    for (let k = 0; k < n; k++) {
      const r = insertSecret(store, commitmentIndex(k), perCommitmentSecret(seed, commitmentIndex(k)))
      if (!r.ok) return false
      store = r.value
    }
    const k = Math.floor(n / 2)
    return compareBytes(deriveOldSecret(store, commitmentIndex(k))!, perCommitmentSecret(seed, commitmentIndex(k))) === 0 &&
      store.known.filter(x => x !== undefined).length <= 49
  }), { numRuns: 60 })
  t.pass('property held')
})

t.test('shachain rejects any tampered secret, at the latest when the next secret arrives', async t => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 32, maxLength: 32 }),
    fc.integer({ min: 2, max: 120 }).chain(n => fc.tuple(
      fc.constant(n), fc.integer({ min: 0, max: n - 2 }), fc.integer({ min: 0, max: 255 }),
    )),
    (seed, [n, bad, bit]) => {
      let store: Shachain = emptyShachain()
      for (let k = 0; k < n; k++) {
        const secret = perCommitmentSecret(seed, commitmentIndex(k))
        if (k === bad) secret[bit >> 3]! ^= 1 << (bit & 7)
        const r = insertSecret(store, commitmentIndex(k), secret)
        if (!r.ok) return r.error.reason === 'secret_mismatch' && (k === bad || k === bad + 1)
        store = r.value
      }
      return false
    }), { numRuns: 150 })
  t.pass('property held')
})

t.test('DER encoding round-trips every compact signature', async t => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (hash, k) => {
    if (!nobleCurve.isPrivkey(k)) return true
    const sig = nobleCurve.sign(hash, k)
    return compareBytes(derToCompact(compactToDer(sig))!, sig) === 0 && nobleCurve.verify(sig, hash, nobleCurve.pubkey(k))
  }), { numRuns: 50 })
  t.pass('property held')
})

// Fixed, valid keys: buildCommitment does no curve math, so properties run fast.
const key = (n: number): Uint8Array => nobleCurve.pubkey(new Uint8Array(32).fill(n))
const keys = {
  revocationPubkey: key(1), localDelayedPubkey: key(2), localHtlcPubkey: key(3), remoteHtlcPubkey: key(4),
  remotePaymentPubkey: key(5), localFundingPubkey: key(6), remoteFundingPubkey: key(7),
}
const hashes = [new Uint8Array(32).fill(0xaa), new Uint8Array(32).fill(0xbb), new Uint8Array(32).fill(0xcc)]

const htlcsArb = fc.array(fc.record({
  direction: fc.constantFrom('offered' as const, 'received' as const),
  // A small pool of amounts, hashes and expiries makes identical outputs (the CLTV tie-break) common.
  amountMsat: fc.oneof(fc.constantFrom(5_000_000, 5_000_001, 546_000), fc.integer({ min: 1, max: 20_000_000 })),
  hash: fc.integer({ min: 0, max: 2 }),
  cltvExpiry: fc.integer({ min: 500, max: 503 }),
}), { maxLength: 10 }).map(hs => {
  const next = { offered: 0, received: 0 }
  return hs.map((h): CommitmentHtlc => ({
    direction: h.direction, id: next[h.direction]++, amountMsat: msat(h.amountMsat), paymentHash: hashes[h.hash]!, cltvExpiry: h.cltvExpiry,
  }))
})

const paramsArb = fc.record({
  channelType: fc.constantFrom<ChannelType>('static_remotekey', 'anchors'),
  holderIsOpener: fc.boolean(),
  feeratePerKw: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 0, max: 10_000_000 })),
  dustLimitSat: fc.integer({ min: 354, max: 5_000 }),
  toLocalSat: fc.integer({ min: 0, max: 20_000_000 }),
  toRemoteSat: fc.integer({ min: 0, max: 20_000_000 }),
  extraMsat: fc.integer({ min: 0, max: 999 }),
  htlcs: htlcsArb,
}).chain(p => fc.tuple(fc.constant(p), fc.shuffledSubarray(p.htlcs, { minLength: p.htlcs.length, maxLength: p.htlcs.length })))

interface Drawn {
  channelType: ChannelType, holderIsOpener: boolean, feeratePerKw: number, dustLimitSat: number, toLocalSat: number, toRemoteSat: number,
  extraMsat: number,
}

function toParams (p: Drawn, htlcs: CommitmentHtlc[]): CommitmentParams {
  // The opener must hold at least the two anchors: BOLT #2 checks that before a state exists.
  const openerMin = p.channelType === 'anchors' ? 2 * ANCHOR_OUTPUT_SAT : 0
  const toLocal = p.toLocalSat * 1000 + p.extraMsat + (p.holderIsOpener ? openerMin * 1000 : 0)
  const toRemote = p.toRemoteSat * 1000 + (p.holderIsOpener ? 0 : openerMin * 1000)
  const total = toLocal + toRemote + htlcs.reduce((n, h) => n + h.amountMsat, 0)
  const fundingSat = Math.ceil(total / 1000)
  return {
    channelType: p.channelType,
    funding: fundingOutput('11'.repeat(32) as Txid, 0, sat(fundingSat), keys.localFundingPubkey, keys.remoteFundingPubkey),
    obscuredCommitmentNumber: 0x2bb03852193e,
    holderIsOpener: p.holderIsOpener,
    toSelfDelay: 144,
    dustLimitSat: sat(p.dustLimitSat),
    feeratePerKw: p.feeratePerKw,
    toLocalMsat: msat(toLocal + (fundingSat * 1000 - total)),
    toRemoteMsat: msat(toRemote),
    htlcs,
    keys,
  }
}

t.test('commitment: Σ outputs + fee = funding amount, outputs in BIP 69+CLTV order, HTLCs all accounted for', async t => {
  fc.assert(fc.property(paramsArb, ([p]) => {
    const params = toParams(p, p.htlcs)
    const c = buildCommitment(params)
    const sum = c.tx.outputs.reduce((n, o) => n + o.valueSat, 0)
    if (sum + c.feeSat !== params.funding.amountSat || c.feeSat < 0) return false
    for (let i = 1; i < c.tx.outputs.length; i++) {
      const a = c.tx.outputs[i - 1]!, b = c.tx.outputs[i]!
      const cmp = (a.valueSat - b.valueSat) || compareBytes(a.script, b.script)
      if (cmp > 0) return false
      const oa = c.outputs[i - 1]!, ob = c.outputs[i]!
      if (cmp === 0 && oa.kind === 'htlc' && ob.kind === 'htlc' && oa.htlc.cltvExpiry > ob.htlc.cltvExpiry) return false
    }
    if (c.htlcOutputs.length + c.trimmedHtlcs.length !== params.htlcs.length) return false
    // Every output at or above the dust limit (anchors are fixed at 330 sat).
    if (c.outputs.some(o => o.kind !== 'local_anchor' && o.kind !== 'remote_anchor' && o.valueSat < params.dustLimitSat)) return false
    // The fee is at least the base fee, unless the funder could not pay it (then it took everything the funder had).
    const funderSat = Math.floor((params.holderIsOpener ? params.toLocalMsat : params.toRemoteMsat) / 1000)
    const anchorsCost = params.channelType === 'anchors' ? 2 * ANCHOR_OUTPUT_SAT : 0
    if (funderSat >= c.baseFeeSat + anchorsCost && c.feeSat < c.baseFeeSat) return false
    return c.htlcOutputs.every((o, k) => k === 0 || o.vout > c.htlcOutputs[k - 1]!.vout)
  }), { numRuns: NUM_RUNS })
  t.pass('property held')
})

t.test('commitment: output order, fee and HTLC mapping do not depend on the order HTLCs are given in', async t => {
  fc.assert(fc.property(paramsArb, ([p, shuffled]) => {
    const a = buildCommitment(toParams(p, p.htlcs))
    const b = buildCommitment(toParams(p, shuffled))
    const mapping = (c: typeof a): string => c.htlcOutputs.map(o => `${o.htlc.direction}:${o.htlc.id}@${o.vout}`).join(',')
    return txHex(a.tx) === txHex(b.tx) && a.feeSat === b.feeSat && mapping(a) === mapping(b)
  }), { numRuns: NUM_RUNS })
  t.pass('property held')
})

t.test('HTLC txs: one per untrimmed HTLC, in htlcOutputs order, spending the right vout', async t => {
  fc.assert(fc.property(paramsArb, ([p]) => {
    const params = toParams(p, p.htlcs)
    const c = buildCommitment(params)
    const txs = buildHtlcTxs(params, c)
    return txs.length === c.htlcOutputs.length && txs.every((h, k) =>
      h.spends === c.htlcOutputs[k] && h.tx.inputs[0]!.vout === h.spends.vout && h.tx.inputs[0]!.txid === c.txid &&
      h.tx.outputs[0]!.valueSat >= params.dustLimitSat &&
      (h.kind === 'htlc-timeout') === (h.spends.htlc.direction === 'offered') &&
      h.tx.locktime === (h.kind === 'htlc-timeout' ? h.spends.htlc.cltvExpiry : 0))
  }), { numRuns: NUM_RUNS })
  t.pass('property held')
})
