// The vector runner: as a process, `npm run --silent bolt3 -- FILE` reproduces every expected tx; and
// it computes them from inputs only (the same output with every expected/signature/comment field
// removed). Only the first check spawns a process: on a loaded 2-core machine each spawn costs seconds.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runVectorFile } from '../../../scripts/bolt3-vectors.ts'
import { loadVectors, repoRoot, vectorsDir } from '../../fixtures/bolt3-vectors.ts'

function run (file: string): Array<{
  name: string, commitment_tx_hex: string, htlc_txs: Array<{ htlc: number, type: string, tx_hex: string }>,
}> {
  const out = execFileSync('npm', ['run', '--silent', 'bolt3', '--', file], { cwd: repoRoot, encoding: 'utf8' })
  return out.trim().split('\n').map(l => JSON.parse(l))
}

/** The fields that hold answers (expected txs, signatures, comments, derived keys). */
const ANSWER = /^expected|^Expected|_signature$|SigHex$|_comment$|_output$|TxHex$|^derived_decoded|^derived_local|^htlc_txs$|^HtlcDescs$/

/** Deep copy without any field the runner must not read. */
function stripAnswers (x: unknown): unknown {
  if (Array.isArray(x)) return x.map(stripAnswers)
  if (x !== null && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x)
      .filter(([k]) => !ANSWER.test(k))
      .map(([k, v]) => [k, stripAnswers(v)]))
  }
  return x
}

const staticV = loadVectors('commitment-txs-static-remotekey.json')
const anchorsV = loadVectors('commitment-txs-anchors.json')

t.test('npm run bolt3 on the static_remotekey file reproduces all 16 commitments and 33 HTLC txs', async t => {
  const lines = run(join(vectorsDir, 'commitment-txs-static-remotekey.json'))
  t.equal(lines.length, 16)
  let htlcs = 0
  lines.forEach((l, n) => {
    const exp = staticV.tests[n]
    t.equal(l.name, exp.name)
    t.equal(l.commitment_tx_hex, exp.expected_commitment_tx_hex, exp.name)
    const byIndex = exp.htlc_txs.slice().sort((
      a: { htlc_output_index_among_htlcs: number }, b: { htlc_output_index_among_htlcs: number },
    ) => a.htlc_output_index_among_htlcs - b.htlc_output_index_among_htlcs)
    t.same(l.htlc_txs, byIndex.map((h: { htlc: number, type: string, expected_tx_hex: string }) => ({
      htlc: h.htlc, type: h.type, tx_hex: h.expected_tx_hex,
    })), `${exp.name}: HTLC txs`)
    htlcs += l.htlc_txs.length
  })
  t.equal(htlcs, 33)
})

t.test('the runner reads inputs only: same output with every answer field stripped, both formats', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'bolt3-'))
  const staticPath = join(dir, 'commitment-txs-static-remotekey.json')
  // derived_by_verifier also holds answers (obscured number, revocation pubkey): keep only the keys.
  const stripped = stripAnswers(staticV) as Record<string, unknown>
  const d = staticV.derived_by_verifier
  stripped.derived_by_verifier = {
    remote_funding_privkey: d.remote_funding_privkey, remote_htlc_privkey: d.remote_htlc_privkey, local_htlc_privkey: d.local_htlc_privkey,
  }
  writeFileSync(staticPath, JSON.stringify(stripped))
  t.same(runVectorFile(staticPath), runVectorFile(join(vectorsDir, 'commitment-txs-static-remotekey.json')))

  const anchorsPath = join(dir, 'commitment-txs-anchors.json')
  writeFileSync(anchorsPath, JSON.stringify(stripAnswers(anchorsV)))
  const lines = runVectorFile(anchorsPath)
  t.same(lines.map(l => l.commitment_tx_hex), anchorsV.tests.map((x: { ExpectedCommitmentTxHex: string }) => x.ExpectedCommitmentTxHex))
  t.same(
    lines.flatMap(l => l.htlc_txs.map(h => h.tx_hex)),
    anchorsV.tests.flatMap((x: { HtlcDescs: Array<{ ResolutionTxHex: string }> }) => x.HtlcDescs.map(h => h.ResolutionTxHex)),
  )

  // The static file, switched to anchors by a top-level channel_type, builds the anchors format.
  const switched = join(dir, 'switched.json')
  writeFileSync(switched, JSON.stringify({
    ...stripped, channel_type: 'anchors',
    tests: [{ name: 'x', to_local_msat: 7_000_000_000, to_remote_msat: 3_000_000_000, local_feerate_per_kw: 15000, htlc_ids: [] }],
  }))
  t.equal(runVectorFile(switched)[0]!.commitment_tx_hex, anchorsV.tests[0].ExpectedCommitmentTxHex)
})
