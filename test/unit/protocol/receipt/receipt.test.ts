// Receipts and their inclusion proofs (protocol/receipt): the hub's signature covers every field; a
// proof from the anchored log checks, and a log rewritten or with an entry dropped after anchoring
// fails, naming the receipt's entry.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import { GENESIS_COMMITMENT, anchorCommitment } from '../../../../protocol/audit/anchor.ts'
import { EMPTY_ROOT, nextEntry, type AuditEntry, type AuditRoot } from '../../../../protocol/audit/entry.ts'
import { merklePath, merkleRoot } from '../../../../protocol/audit/merkle.ts'
import {
  checkReceiptProof, receiptOf, receiptProofSchema, receiptSchema, receiptSignatureValid, signReceipt, type PaymentAuditRecord,
  type ReceiptProof,
} from '../../../../protocol/receipt/index.ts'
import type { NodeId } from '../../../../protocol/types.ts'

const key = (): Uint8Array => new Uint8Array(randomBytes(32))
const hubKey = key()
const hub = nodeIdOf(hubKey)
const payer = nodeIdOf(key())
const payee = nodeIdOf(key())
const aux = new Uint8Array(32)

const payment = (i: number): PaymentAuditRecord => ({
  kind: 'payment', payment_hash: i.toString(16).padStart(64, '0'), amount_msat: 1000 * (i + 1), fee_msat: i, payer, payee,
  reference: `order-${i}`,
})

/** A log of `n` entries, every third a payment, the rest channel writes. */
function buildLog (
  n: number, records: (i: number) => unknown = i => i % 3 === 0 ? payment(i) : { kind: 'channel_write', i },
): AuditEntry[] {
  const out: AuditEntry[] = []
  let root: AuditRoot = EMPTY_ROOT
  for (let i = 0; i < n; i++) {
    const e = nextEntry(root, { time_ms: 1_700_000_000_000 + i, height: 200 + i, record: records(i) })
    out.push(e)
    root = { hash: e.hash, count: i + 1 }
  }
  return out
}

function anchorOver (log: AuditEntry[], from: number, to: number): ReceiptProof['anchor'] {
  const root = merkleRoot(log.slice(from, to).map(e => e.hash))
  const claim = { prev_commitment: GENESIS_COMMITMENT, root, from, to }
  return { ...claim, commitment: anchorCommitment(claim), txid: 'cd'.repeat(32) }
}

function proofOf (log: AuditEntry[], anchor: ReceiptProof['anchor'], n: number): ReceiptProof {
  const path = merklePath(log.slice(anchor.from, anchor.to).map(e => e.hash), n - anchor.from)
  return receiptProofSchema.parse({ entry: log[n], path, anchor })
}

const receiptAt = (log: AuditEntry[], n: number) => receiptOf(hub as NodeId, log[n]!.record as PaymentAuditRecord, n, log[n]!.time_ms)

t.test('the hub\'s signature verifies, and no field can change', async t => {
  const log = buildLog(4)
  const r = receiptAt(log, 3)
  t.ok(receiptSchema.safeParse(r).success, 'the receipt parses with its own schema')
  const sig = signReceipt(r, hubKey, aux)
  t.ok(receiptSignatureValid(r, sig))
  const changes: Array<[string, unknown]> = [
    ['amount_msat', r.amount_msat + 1], ['fee_msat', r.fee_msat + 1], ['reference', 'other'], ['reference', null],
    ['time_ms', r.time_ms + 1],
    ['entry', 4], ['payment_hash', 'ff'.repeat(32)], ['payer', payee], ['payee', payer],
  ]
  for (const [field, value] of changes) t.notOk(receiptSignatureValid({ ...r, [field]: value }, sig), `${field} changed`)
  t.notOk(receiptSignatureValid({ ...r, hub_id: nodeIdOf(key()) }, sig), 'another hub')
  t.notOk(receiptSignatureValid(r, signReceipt(r, key(), aux)), 'signed by another key')
  t.notOk(receiptSignatureValid(r, 'zz'), 'malformed signature')
  t.notOk(receiptSignatureValid(r, '00'.repeat(64)), 'zero signature')
})

t.test('a proof from the anchored log checks for every payment in the anchor', async t => {
  const log = buildLog(20)
  const anchor = anchorOver(log, 0, 20)
  for (let n = 0; n < 20; n += 3) {
    const c = checkReceiptProof(receiptAt(log, n), proofOf(log, anchor, n))
    t.same(c, { ok: true, commitment: anchor.commitment, txid: anchor.txid }, `entry ${n}`)
  }
  const later = anchorOver(log, 9, 20)
  t.ok(checkReceiptProof(receiptAt(log, 12), proofOf(log, later, 12)).ok, 'an anchor that does not start at entry 0')
})

t.test('rewriting the entry after anchoring fails, naming the entry', async t => {
  const log = buildLog(20)
  const anchor = anchorOver(log, 0, 20)
  const receipt = receiptAt(log, 6)
  // The hub rewrites entry 6 (less paid to the payee) and recomputes every later hash, then serves a
  // proof from the rewritten log under the anchor on the chain.
  const rewritten = buildLog(20, i => i === 6 ? { ...payment(6), amount_msat: 1 } : i % 3 === 0 ? payment(i) : { kind: 'channel_write', i })
  const served = { ...proofOf(log, anchor, 6), entry: rewritten[6]!, path: merklePath(rewritten.map(e => e.hash), 6) }
  t.match(checkReceiptProof(receipt, served), { ok: false, entry: 6, reason: 'entry_rewritten', detail: /^entry 6: / })
  // Or keeps entry 6 as it was and rewrites entry 7: entry 6's path no longer leads to the anchored root.
  const after = buildLog(
    20, i => i === 7 ? { kind: 'channel_write', i, forged: true } : i % 3 === 0 ? payment(i) : { kind: 'channel_write', i },
  )
  const served2 = { ...proofOf(log, anchor, 6), path: merklePath(after.map(e => e.hash), 6) }
  t.match(checkReceiptProof(receipt, served2), { ok: false, entry: 6, reason: 'not_in_anchor' })
  // Or changes the entry and keeps its old hash.
  const kept = { ...proofOf(log, anchor, 6), entry: { ...log[6]!, height: log[6]!.height + 1 } }
  t.match(checkReceiptProof(receipt, kept), { ok: false, entry: 6, reason: 'bad_entry_hash' })
})

t.test('dropping an entry after anchoring fails, naming the entry', async t => {
  const log = buildLog(20)
  const anchor = anchorOver(log, 0, 20)
  const receipt = receiptAt(log, 9)
  // Entry 9 dropped and the rest renumbered: the log's entry 9 is what was entry 10.
  const dropped = buildLog(19, i => { const j = i >= 9 ? i + 1 : i; return j % 3 === 0 ? payment(j) : { kind: 'channel_write', i: j } })
  const served = { entry: dropped[9]!, path: merklePath(dropped.map(e => e.hash), 9), anchor }
  t.match(checkReceiptProof(receipt, served), { ok: false, entry: 9, reason: 'entry_rewritten' })
  const elsewhere = proofOf(log, anchor, 12)
  t.match(checkReceiptProof(receipt, elsewhere), { ok: false, entry: 9, reason: 'other_entry' }, 'a proof of another entry')
})

t.test('an anchor whose fields do not give its commitment fails', async t => {
  const log = buildLog(10)
  const anchor = anchorOver(log, 0, 10)
  const proof = proofOf(log, { ...anchor, prev_commitment: '11'.repeat(32) }, 3)
  t.match(checkReceiptProof(receiptAt(log, 3), proof), { ok: false, entry: 3, reason: 'bad_commitment' })
  const outside = proofOf(log, anchorOver(log, 0, 3), 0)
  t.match(checkReceiptProof(receiptAt(log, 3), { ...outside, entry: log[3]! }), { ok: false, entry: 3, reason: 'not_in_anchor' })
})

t.test('the proof schema refuses what does not fit', async t => {
  const log = buildLog(4)
  const p = proofOf(log, anchorOver(log, 0, 4), 3)
  t.notOk(receiptProofSchema.safeParse({ ...p, path: Array(54).fill('00'.repeat(32)) }).success, 'a path longer than MAX_MERKLE_PATH')
  t.notOk(receiptProofSchema.safeParse({ ...p, extra: 1 }).success, 'an unknown field')
  t.notOk(receiptProofSchema.safeParse({ ...p, anchor: { ...p.anchor, txid: 'x' } }).success, 'a bad txid')
})
