// Closing tx dust and fee rules, claim tx fees and failure values, funding change, curve selection.
import t from 'tap'
import { compactToDer, derToCompact } from '../../../../protocol/crypto/der.ts'
import { getCurve, setDefaultCurve } from '../../../../protocol/crypto/index.ts'
import { nobleCurve } from '../../../../protocol/crypto/noble.ts'
import { tinyCurve } from '../../../../protocol/crypto/tiny.ts'
import { hexToBytes, msat, sat, type Txid } from '../../../../protocol/types.ts'
import {
  buildClaimTx, buildClosingTx, buildFundingTx, buildCommitment, buildHtlcTxs, bumpHtlcTx, claimRemoteHtlcTimeout, claimToLocalDelayed,
  feeForWeight, finalizeFundingSpend, fundingOutput, p2wpkh, signFundingSpend, txWeight, verifyFundingSpend, parseWitnessSig,
  type CommitmentParams,
} from '../../../../protocol/tx/index.ts'

const key = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const pub = (n: number): Uint8Array => nobleCurve.pubkey(key(n))
const funding = fundingOutput('22'.repeat(32) as Txid, 1, sat(1_000_000), pub(1), pub(2))
const scriptA = p2wpkh(pub(3))
const scriptB = p2wpkh(pub(4))

t.test('closing tx: opener pays the fee, dust outputs removed, BIP 69 order, both signatures verify', async t => {
  const c = buildClosingTx({
    funding, localScript: scriptA, remoteScript: scriptB, localMsat: msat(600_000_500), remoteMsat: msat(399_999_500), feeSat: sat(1000),
    localIsOpener: true, dustLimitSat: sat(546),
  })
  t.same(c.tx.outputs.map(o => o.valueSat), [399_999, 599_000])
  t.equal(c.remoteVout, 0)
  t.equal(c.localVout, 1)
  t.equal(c.tx.inputs[0]!.sequence, 0xffffffff)
  t.equal(c.tx.locktime, 0)
  const sa = signFundingSpend(c.tx, funding, key(1))
  const sb = signFundingSpend(c.tx, funding, key(2))
  t.ok(verifyFundingSpend(c.tx, funding, sb, pub(2)))
  t.notOk(verifyFundingSpend(c.tx, funding, sb, pub(1)))
  const signed = finalizeFundingSpend(c.tx, funding, { pubkey: pub(2), sig64: sb }, { pubkey: pub(1), sig64: sa })
  t.equal(signed.inputs[0]!.witness.length, 4)

  const dust = buildClosingTx({
    funding, localScript: scriptA, remoteScript: scriptB, localMsat: msat(999_545_000), remoteMsat: msat(455_000), feeSat: sat(1000),
    localIsOpener: true, dustLimitSat: sat(546),
  })
  t.equal(dust.tx.outputs.length, 1, 'an output below the dust limit is removed')
  t.equal(dust.tx.outputs[0]!.valueSat, 998_545, 'the opener paid the fee')
  t.equal(dust.remoteVout, undefined)
  t.throws(() => buildClosingTx({
    funding, localScript: scriptA, remoteScript: scriptB, localMsat: msat(500), remoteMsat: msat(999_999_500), feeSat: sat(1000),
    localIsOpener: true, dustLimitSat: sat(546),
  }))
})

t.test('claim tx: fee from the maximal-signature weight, locktime from HTLC expiry, failures as values', async t => {
  const outpoint = { txid: '33'.repeat(32) as Txid, vout: 0 }
  const sweep = claimToLocalDelayed({
    outpoint, valueSat: sat(50_000), revocationPubkey: pub(5), localDelayedPubkey: pub(6), toSelfDelay: 144, localDelayedPrivkey: key(6),
  })
  const timeout = claimRemoteHtlcTimeout({
    channelType: 'anchors', outpoint: { ...outpoint, vout: 1 }, valueSat: sat(20_000), witnessScript: new Uint8Array(130),
    htlcPrivkey: key(7), cltvExpiry: 700,
  })
  const r = buildClaimTx({ claims: [sweep, timeout], destinationScript: scriptA, feeratePerKw: 1000 })
  if (!r.ok) { t.fail(r.detail); return }
  t.equal(r.tx.locktime, 700)
  t.same(r.tx.inputs.map(i => i.sequence), [144, 1])
  t.equal(r.valueSat + r.feeSat, 70_000)
  t.ok(r.feeSat >= feeForWeight(1000, txWeight(r.tx)), 'the fee covers the real weight')
  t.ok(r.feeSat <= feeForWeight(1000, txWeight(r.tx) + 8), 'and overestimates by at most a few signature bytes')
  const sig = parseWitnessSig(r.tx.inputs[0]!.witness[0]!)
  t.equal(sig?.hashType, 1)
  t.match(buildClaimTx({ claims: [], destinationScript: scriptA, feeratePerKw: 1000 }), { ok: false, reason: 'no_inputs' })
  const tiny = claimToLocalDelayed({
    outpoint, valueSat: sat(600), revocationPubkey: pub(5), localDelayedPubkey: pub(6), toSelfDelay: 144, localDelayedPrivkey: key(6),
  })
  t.match(buildClaimTx({ claims: [tiny], destinationScript: scriptA, feeratePerKw: 5000 }), { ok: false, reason: 'below_dust' })
})

t.test('funding tx: change dropped when dust, insufficient funds reported', async t => {
  const input = { txid: '44'.repeat(32) as Txid, vout: 0, valueSat: sat(100_400), kind: 'p2wpkh' as const, privkey: key(9) }
  const r = buildFundingTx({
    inputs: [input], fundingAmountSat: sat(100_000), localFundingPubkey: pub(1), remoteFundingPubkey: pub(2), changeScript: scriptA,
    feeratePerKw: 253,
  })
  if (!r.ok) { t.fail(r.detail); return }
  t.equal(r.tx.outputs.length, 1)
  t.equal(r.changeSat, 0)
  t.equal(r.feeSat, 400, 'the dust change went to the fee')
  t.equal(r.tx.inputs[0]!.witness.length, 2)
  t.match(buildFundingTx({
    inputs: [input], fundingAmountSat: sat(100_450), localFundingPubkey: pub(1), remoteFundingPubkey: pub(2), changeScript: scriptA,
    feeratePerKw: 2530,
  }), { ok: false, reason: 'insufficient_funds' })
})

t.test('anchors HTLC tx fee bump keeps input 0 / output 0 and pays the fee from the wallet', async t => {
  const keys = {
    revocationPubkey: pub(1), localDelayedPubkey: pub(2), localHtlcPubkey: pub(3), remoteHtlcPubkey: pub(4), remotePaymentPubkey: pub(5),
    localFundingPubkey: pub(1), remoteFundingPubkey: pub(2),
  }
  const params: CommitmentParams = {
    channelType: 'anchors', funding, obscuredCommitmentNumber: 1, holderIsOpener: true, toSelfDelay: 144, dustLimitSat: sat(546),
    feeratePerKw: 1000,
    toLocalMsat: msat(500_000_000), toRemoteMsat: msat(400_000_000),
    htlcs: [{ direction: 'offered', id: 0, amountMsat: msat(100_000_000), paymentHash: new Uint8Array(32), cltvExpiry: 800 }], keys,
  }
  const c = buildCommitment(params)
  const [h] = buildHtlcTxs(params, c)
  if (h === undefined) { t.fail('no HTLC tx'); return }
  t.equal(h.tx.outputs[0]!.valueSat, 100_000, 'zero fee')
  const coin = { txid: '55'.repeat(32) as Txid, vout: 3, valueSat: sat(10_000), kind: 'p2wpkh' as const, privkey: key(9) }
  const b = bumpHtlcTx(h, { walletInputs: [coin], changeScript: scriptA, feeratePerKw: 1000 })
  if (!b.ok) { t.fail(b.detail); return }
  t.same(b.htlcTx.tx.inputs[0], h.tx.inputs[0])
  t.same(b.htlcTx.tx.outputs[0], h.tx.outputs[0])
  t.equal(b.htlcTx.tx.outputs[1]!.valueSat + b.feeSat, 10_000)
  t.match(
    bumpHtlcTx(h, { walletInputs: [{ ...coin, valueSat: sat(400) }], changeScript: scriptA, feeratePerKw: 1000 }),
    { ok: false, reason: 'insufficient_funds' },
  )
})

t.test('DER: strict encodings only', async t => {
  const sig = nobleCurve.sign(new Uint8Array(32).fill(1), key(1))
  const der = compactToDer(sig)
  t.same(derToCompact(der), sig)
  const padded = Uint8Array.from(der); padded[1]! += 1
  t.equal(derToCompact(padded), undefined, 'wrong length')
  t.equal(derToCompact(hexToBytes('300702020001020101')), undefined, 'needless zero padding')
  t.equal(derToCompact(hexToBytes('3006020180020101')), undefined, 'negative integer')
  t.same(
    derToCompact(hexToBytes('3006020101020102')), Uint8Array.from([...new Uint8Array(31), 1, ...new Uint8Array(31), 2]), 'small integers',
  )
  t.equal(derToCompact(new Uint8Array(0)), undefined)
})

t.test('setDefaultCurve: the host picks the backend once; explicit curves still win', async t => {
  t.equal(getCurve().name, 'noble', 'noble until the host says otherwise')
  setDefaultCurve(tinyCurve)
  t.equal(getCurve().name, 'tiny')
  t.equal(getCurve(nobleCurve).name, 'noble')
  setDefaultCurve(nobleCurve)
})
