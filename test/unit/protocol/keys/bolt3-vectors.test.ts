// BOLT #3 Appendix D (per-commitment secrets) and Appendix E (key derivation), on both curves.
import t from 'tap'
import { bytesToHex, hexToBytes } from '../../../../protocol/types.ts'
import {
  commitmentIndex, deriveOldSecret, derivePrivkey, derivePubkey, deriveRevocationPrivkey, deriveRevocationPubkey,
  emptyShachain, insertSecret, obscuredCommitmentNumber, obscuringFactor, perCommitmentPoint, perCommitmentSecret,
  shachainFromJson, shachainToJson, FIRST_COMMITMENT_INDEX, type Shachain,
} from '../../../../protocol/keys/index.ts'
import { curves, loadVectors } from '../../../fixtures/bolt3-vectors.ts'

const secrets = loadVectors('per-commitment-secrets.json')
const derivation = loadVectors('key-derivation.json')
const appendixC = loadVectors('commitment-txs-static-remotekey.json')

t.test('Appendix D generation: generate_from_seed for all 5 cases', async t => {
  t.equal(secrets.generation.length, 5)
  for (const g of secrets.generation) {
    t.equal(bytesToHex(perCommitmentSecret(hexToBytes(g.seed), g.I)), g.output, g.name)
  }
})

t.test('Appendix D storage: all 9 insert_secret sequences accept and reject as the spec says', async t => {
  t.equal(secrets.storage.length, 9)
  let errors = 0
  for (const s of secrets.storage) {
    let store: Shachain = emptyShachain()
    for (const step of s.steps) {
      const r = insertSecret(store, step.I, hexToBytes(step.secret))
      if (step.expected === 'OK') {
        t.ok(r.ok, `${s.name}: index ${step.I} accepted`)
        if (!r.ok) break
        store = r.value
        // Every secret received so far can be derived back, also after a JSON round trip.
        const back = shachainFromJson(JSON.parse(JSON.stringify(shachainToJson(store))))
        t.ok(back.ok)
        if (back.ok) t.equal(bytesToHex(deriveOldSecret(back.value, step.I)!), step.secret)
      } else {
        t.notOk(r.ok, `${s.name}: index ${step.I} rejected`)
        if (!r.ok) t.equal(r.error.reason, 'secret_mismatch')
        errors++
        break
      }
    }
  }
  t.equal(errors, 8, 'eight of the nine sequences end in an error')
})

t.test('shachain: derives every older secret; refuses gaps, repeats and unknown indexes', async t => {
  const seed = new Uint8Array(32).fill(0x42)
  let store = emptyShachain()
  for (let n = 0; n < 100; n++) {
    const r = insertSecret(store, commitmentIndex(n), perCommitmentSecret(seed, commitmentIndex(n)))
    if (!r.ok) { t.fail(r.error.detail); return }
    store = r.value
  }
  t.ok(store.known.filter(k => k !== undefined).length <= 49)
  for (let n = 0; n < 100; n++) t.same(deriveOldSecret(store, commitmentIndex(n)), perCommitmentSecret(seed, commitmentIndex(n)))
  t.equal(deriveOldSecret(store, commitmentIndex(100)), undefined, 'a secret not yet received')
  const gap = insertSecret(store, commitmentIndex(101), perCommitmentSecret(seed, commitmentIndex(101)))
  t.match(gap, { ok: false, error: { reason: 'index_out_of_order' } })
  const repeat = insertSecret(store, commitmentIndex(99), perCommitmentSecret(seed, commitmentIndex(99)))
  t.ok(repeat.ok && repeat.value === store, 'the last secret again: accepted, nothing changes')
  const otherSeed = new Uint8Array(32).fill(0x43)
  t.match(
    insertSecret(store, commitmentIndex(99), perCommitmentSecret(otherSeed, commitmentIndex(99))),
    { ok: false, error: { reason: 'secret_mismatch' } },
  )
  t.match(
    insertSecret(store, commitmentIndex(98), perCommitmentSecret(seed, commitmentIndex(98))),
    { ok: false, error: { reason: 'index_out_of_order' } },
  )
  t.match(insertSecret(store, commitmentIndex(100), new Uint8Array(31)), { ok: false, error: { reason: 'bad_secret' } })
  t.match(shachainFromJson({ lastIndex: 5, known: [{ index: 4, secret: '00'.repeat(32) }] }), { ok: false })
  t.equal(FIRST_COMMITMENT_INDEX, 281474976710655)
})

for (const curve of curves) {
  t.test(`Appendix E key derivation (${curve.name}): the 4 cases`, async t => {
    const c = derivation.common
    const out: Record<string, string> = {
      localpubkey: bytesToHex(derivePubkey(hexToBytes(c.base_point), hexToBytes(c.per_commitment_point), curve)),
      localprivkey: bytesToHex(derivePrivkey(hexToBytes(c.base_secret), hexToBytes(c.per_commitment_point), curve)),
      revocationpubkey: bytesToHex(deriveRevocationPubkey(hexToBytes(c.base_point), hexToBytes(c.per_commitment_point), curve)),
      revocationprivkey: bytesToHex(deriveRevocationPrivkey(hexToBytes(c.base_secret), hexToBytes(c.per_commitment_secret), curve)),
    }
    t.equal(derivation.tests.length, 4)
    for (const v of derivation.tests) t.equal(out[v.output_name], v.expected, v.name)
    t.equal(bytesToHex(perCommitmentPoint(hexToBytes(c.per_commitment_secret), curve)), c.per_commitment_point)
    t.equal(bytesToHex(curve.pubkey(hexToBytes(c.base_secret))), c.base_point)
  })

  t.test(`Appendix C keys (${curve.name}): derived from the basepoint secrets`, async t => {
    const i = appendixC.internal_from_html_comment
    const c = appendixC.common
    const point = hexToBytes(i.local_per_commitment_point)
    t.equal(bytesToHex(perCommitmentPoint(hexToBytes(i.x_local_per_commitment_secret), curve)), i.local_per_commitment_point)
    t.equal(bytesToHex(derivePubkey(hexToBytes(c.local_payment_basepoint), point, curve)), c.local_htlcpubkey)
    t.equal(bytesToHex(derivePubkey(hexToBytes(c.remote_payment_basepoint), point, curve)), c.remote_htlcpubkey)
    t.equal(bytesToHex(derivePubkey(hexToBytes(i.local_delayed_payment_basepoint), point, curve)), c.local_delayedpubkey)
    t.equal(bytesToHex(deriveRevocationPubkey(hexToBytes(i.remote_revocation_basepoint), point, curve)), c.local_revocation_pubkey)
    t.equal(bytesToHex(derivePrivkey(hexToBytes(i.local_payment_basepoint_secret), point, curve)), c.local_privkey)
    t.equal(bytesToHex(derivePrivkey(hexToBytes(i.remote_payment_basepoint_secret), point, curve)), i.remote_privkey)
    t.equal(bytesToHex(derivePrivkey(hexToBytes(i.local_delayed_payment_basepoint_secret), point, curve)), i.local_delayed_privkey)
    // The revocation privkey matches the revocation pubkey once the secret is revealed.
    const revPriv = deriveRevocationPrivkey(
      hexToBytes(i.remote_revocation_basepoint_secret), hexToBytes(i.x_local_per_commitment_secret), curve,
    )
    t.equal(bytesToHex(curve.pubkey(revPriv)), c.local_revocation_pubkey)
  })
}

t.test('obscured commitment number: Appendix C factor 0x2bb038521914, number 42', async t => {
  const c = appendixC.common
  const lp = hexToBytes(c.local_payment_basepoint)
  const rp = hexToBytes(c.remote_payment_basepoint)
  t.equal(obscuringFactor(lp, rp), 0x2bb038521914)
  t.equal(obscuredCommitmentNumber(42, lp, rp), 0x2bb03852193e)
  t.equal(obscuredCommitmentNumber(2 ** 48 - 1, lp, rp), 0xffffffffffff - 0x2bb038521914)
})
