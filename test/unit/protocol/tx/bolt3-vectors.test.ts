// BOLT #3 Appendix B (funding), C (static_remotekey) and F (anchors): every transaction and every
// signature byte for byte, on both curve backends; and the verify functions accept exactly those.
import t from 'tap'
import { compactToDer, derToCompact } from '../../../../protocol/crypto/der.ts'
import { bytesToHex, hexToBytes, sat, type Txid } from '../../../../protocol/types.ts'
import {
  buildCommitment, buildFundingTx, buildHtlcTxs, finalizeFundingSpend, finalizeHtlcTx, p2wpkh, signFundingSpend,
  signHtlcTx, txHex, txid, verifyFundingSpend, verifyHtlcSig, obscuredNumberOf, parseTx, commitmentNumberOf,
} from '../../../../protocol/tx/index.ts'
import { parseVectorFile, prepareVectors, runVectors } from '../../../../scripts/bolt3-vectors.ts'
import { curves, loadVectors } from '../../../fixtures/bolt3-vectors.ts'

const fundingV = loadVectors('funding-tx.json')
const staticV = loadVectors('commitment-txs-static-remotekey.json')
const anchorsV = loadVectors('commitment-txs-anchors.json')
const staticFile = parseVectorFile(staticV, 'static')
const anchorsFile = parseVectorFile(anchorsV, 'anchors')

const der = (sig64: Uint8Array): string => bytesToHex(compactToDer(sig64))
const flipBit = (b: Uint8Array): Uint8Array => { const c = Uint8Array.from(b); c[10]! ^= 1; return c }

for (const curve of curves) {
  t.test(`Appendix B funding tx (${curve.name})`, async t => {
    const priv = hexToBytes(fundingV.block1_coinbase_privkey)
    const r = buildFundingTx({
      inputs: [{
        txid: fundingV.input_txid as Txid, vout: fundingV.input_index, valueSat: sat(fundingV.input_satoshis), kind: 'p2pkh', privkey: priv,
      }],
      fundingAmountSat: sat(fundingV.funding_satoshis),
      localFundingPubkey: hexToBytes(fundingV.local_funding_pubkey),
      remoteFundingPubkey: hexToBytes(fundingV.remote_funding_pubkey),
      changeScript: p2wpkh(curve.pubkey(priv)),
      feeratePerKw: fundingV.feerate_per_kw,
      sequence: 0xffffffff,
    }, curve)
    if (!r.ok) { t.fail(r.detail); return }
    t.equal(txHex(r.tx), fundingV.expected_funding_tx_hex)
    t.equal(r.txid, fundingV.expected_funding_txid)
    t.equal(r.funding.vout, fundingV.funding_output_index)
    t.equal(r.changeSat, fundingV.change_satoshis)
    t.equal(bytesToHex(r.funding.witnessScript), fundingV.funding_witness_script)
  })

  t.test(`Appendix C static_remotekey (${curve.name}): 16 commitments, 33 HTLC txs, every signature`, async t => {
    const v = prepareVectors(staticFile, undefined, curve)
    t.equal(v.tests.length, 16)
    let htlcTxCount = 0
    v.tests.forEach(({ name, params }, n) => {
      const exp = staticV.tests[n]
      t.equal(name, exp.name)
      const c = buildCommitment(params)
      const localSig = signFundingSpend(c.tx, v.funding, v.localFundingPriv, curve)
      const remoteSig = signFundingSpend(c.tx, v.funding, v.remoteFundingPriv, curve)
      t.equal(der(localSig), exp.local_signature, `${name}: local signature`)
      t.equal(der(remoteSig), exp.remote_signature, `${name}: remote signature`)
      t.ok(
        verifyFundingSpend(c.tx, v.funding, derToCompact(hexToBytes(exp.remote_signature))!, params.keys.remoteFundingPubkey, curve),
        `${name}: peer signature verifies`,
      )
      t.notOk(
        verifyFundingSpend(c.tx, v.funding, flipBit(remoteSig), params.keys.remoteFundingPubkey, curve),
        `${name}: tampered signature fails`,
      )
      t.notOk(verifyFundingSpend(c.tx, v.funding, remoteSig, params.keys.localFundingPubkey, curve), `${name}: wrong key fails`)
      const signed = finalizeFundingSpend(
        c.tx, v.funding, { pubkey: params.keys.localFundingPubkey, sig64: localSig },
        { pubkey: params.keys.remoteFundingPubkey, sig64: remoteSig },
      )
      t.equal(txHex(signed), exp.expected_commitment_tx_hex, `${name}: commitment tx`)
      // The spec states the fees for all but its last test.
      if (exp.base_commitment_fee_sat !== undefined) t.equal(c.baseFeeSat, exp.base_commitment_fee_sat, `${name}: base fee`)
      if (exp.actual_commitment_fee_sat !== undefined) t.equal(c.feeSat, exp.actual_commitment_fee_sat, `${name}: actual fee`)
      t.equal(obscuredNumberOf(c.tx), 0x2bb03852193e)
      t.equal(commitmentNumberOf(
        parseTx(exp.expected_commitment_tx_hex), hexToBytes(staticV.common.local_payment_basepoint),
        hexToBytes(staticV.common.remote_payment_basepoint),
      ), 42)
      const htlcTxs = buildHtlcTxs(params, c)
      t.equal(htlcTxs.length, exp.htlc_txs.length, `${name}: number of HTLC txs`)
      for (const e of exp.htlc_txs) {
        const h = htlcTxs[e.htlc_output_index_among_htlcs]!
        t.equal(h.kind, e.type)
        t.equal(h.spends.htlc.id, e.htlc)
        const remote = signHtlcTx(h, v.remoteHtlcPriv, 'counterparty', curve)
        const local = signHtlcTx(h, v.localHtlcPriv, 'holder', curve)
        t.equal(der(remote), e.remote_htlc_signature, `${name}: HTLC ${e.htlc} remote signature`)
        t.equal(der(local), e.local_htlc_signature, `${name}: HTLC ${e.htlc} local signature`)
        t.ok(verifyHtlcSig(h, remote, params.keys.remoteHtlcPubkey, 'counterparty', curve))
        t.notOk(verifyHtlcSig(h, flipBit(remote), params.keys.remoteHtlcPubkey, 'counterparty', curve))
        const tx = finalizeHtlcTx(h, remote, local, v.preimages.get(e.htlc))
        t.equal(txHex(tx), e.expected_tx_hex, `${name}: HTLC ${e.htlc} tx`)
        htlcTxCount++
      }
      // Exactly the untrimmed HTLCs the spec comments list (which it groups by type, not output order).
      const ids = (xs: number[]): number[] => xs.slice().sort((a, b) => a - b)
      t.same(ids(c.htlcOutputs.map(o => o.htlc.id)), ids(exp.untrimmed_htlc_outputs_comment?.map((o: { htlc: number }) => o.htlc) ?? []))
      t.same(ids(c.trimmedHtlcs.map(h => h.id)), ids(params.htlcs.map(h => h.id).filter(id => !c.htlcOutputs.some(o => o.htlc.id === id))))
    })
    t.equal(htlcTxCount, 33)
  })

  t.test(`Appendix F anchors (${curve.name}): 9 commitments, 15 zero-fee HTLC txs, every signature`, async t => {
    const v = prepareVectors(anchorsFile, staticFile, curve)
    t.equal(v.tests.length, 9)
    let htlcTxCount = 0
    v.tests.forEach(({ name, params }, n) => {
      const exp = anchorsV.tests[n]
      t.equal(params.channelType, 'anchors')
      const c = buildCommitment(params)
      const remoteSig = signFundingSpend(c.tx, v.funding, v.remoteFundingPriv, curve)
      const localSig = signFundingSpend(c.tx, v.funding, v.localFundingPriv, curve)
      t.equal(der(remoteSig), exp.RemoteSigHex, `${name}: remote signature`)
      const localFromTx = exp.derived_decoded_commitment_tx.inputs[0].witness[1] as string
      t.equal(der(localSig) + '01', localFromTx, `${name}: local signature`)
      t.ok(verifyFundingSpend(c.tx, v.funding, derToCompact(hexToBytes(exp.RemoteSigHex))!, params.keys.remoteFundingPubkey, curve))
      const signed = finalizeFundingSpend(
        c.tx, v.funding, { pubkey: params.keys.localFundingPubkey, sig64: localSig },
        { pubkey: params.keys.remoteFundingPubkey, sig64: remoteSig },
      )
      t.equal(txHex(signed), exp.ExpectedCommitmentTxHex, `${name}: commitment tx`)
      const htlcTxs = buildHtlcTxs(params, c)
      t.equal(htlcTxs.length, exp.HtlcDescs.length)
      exp.HtlcDescs.forEach((e: {
        RemoteSigHex: string, ResolutionTxHex: string, derived_local_htlc_sig_hex: string, derived_htlc_id: number, derived_kind: string,
        derived_commitment_vout: number,
      }, k: number) => {
        const h = htlcTxs[k]!
        t.equal(h.spends.htlc.id, e.derived_htlc_id)
        t.equal(h.kind, e.derived_kind)
        t.equal(h.spends.vout, e.derived_commitment_vout)
        const remote = signHtlcTx(h, v.remoteHtlcPriv, 'counterparty', curve)
        const local = signHtlcTx(h, v.localHtlcPriv, 'holder', curve)
        t.equal(der(remote), e.RemoteSigHex, `${name}: HTLC ${e.derived_htlc_id} remote signature (SINGLE|ANYONECANPAY)`)
        t.equal(der(local), e.derived_local_htlc_sig_hex, `${name}: HTLC ${e.derived_htlc_id} local signature`)
        t.ok(verifyHtlcSig(h, remote, params.keys.remoteHtlcPubkey, 'counterparty', curve))
        // Signed with the wrong sighash type, the same signature no longer verifies.
        t.notOk(verifyHtlcSig(h, remote, params.keys.remoteHtlcPubkey, 'holder', curve))
        t.equal(txHex(finalizeHtlcTx(h, remote, local, v.preimages.get(e.derived_htlc_id))), e.ResolutionTxHex)
        htlcTxCount++
      })
    })
    t.equal(htlcTxCount, 15)
  })

  t.test(`the runner's lines equal the expected txs of both files (${curve.name})`, async t => {
    const s = runVectors(staticFile, undefined, curve)
    t.same(s.map(l => l.commitment_tx_hex), staticV.tests.map((x: { expected_commitment_tx_hex: string }) => x.expected_commitment_tx_hex))
    const a = runVectors(anchorsFile, staticFile, curve)
    t.same(a.map(l => l.commitment_tx_hex), anchorsV.tests.map((x: { ExpectedCommitmentTxHex: string }) => x.ExpectedCommitmentTxHex))
    t.same(
      a.flatMap(l => l.htlc_txs.map(h => h.tx_hex)),
      anchorsV.tests.flatMap((x: { HtlcDescs: Array<{ ResolutionTxHex: string }> }) => x.HtlcDescs.map(d => d.ResolutionTxHex)),
    )
  })
}

t.test('serialization round-trips the vector txs', async t => {
  for (const x of staticV.tests) {
    const tx = parseTx(x.expected_commitment_tx_hex)
    t.equal(txHex(tx), x.expected_commitment_tx_hex)
    t.equal(txid(tx), x.htlc_txs[0]?.derived_decoded_tx.inputs[0].txid ?? txid(tx))
  }
})
