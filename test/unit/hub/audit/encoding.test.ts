// The audit log's fast path: the record is serialised once (canonical JSON) for both the hash
// and the stored entry. The stored entry must parse back to the same entry, the hash must be exactly
// sha256(prev ‖ UTF-8 of the canonical JSON of {height, record, time_ms}) for any text (multi-byte and astral characters too), and
// the exported log must verify.
import t from 'tap'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '../../../../protocol/types.ts'
import { AuditLog, GENESIS_HASH, canonicalJson, entryHash, verifyAuditLog } from '../../../../hub/audit/index.ts'
import { MemoryStore, keys, parseJsonValue } from '../../../../host/store/index.ts'

const body = (record: unknown): {
  time_ms: number; height: number; record: unknown
} => ({ time_ms: 1_700_000_000_123, height: 812, record })
const slowHash = (prev: string, record: unknown): string =>
  bytesToHex(sha256(new Uint8Array([...hexToBytes(prev), ...new TextEncoder().encode(canonicalJson(body(record)))])))

t.test('entryHash = sha256(prev ‖ UTF-8(canonical JSON of time, height and record)) for ASCII, multi-byte and astral text', async t => {
  const records = [
    { memo: 'plain' },
    { memo: 'café — 東京', n: [1, 2.5, -3] },
    { memo: '😀 emoji\u2028line', nested: { z: '\u0000', a: ['ß'] } },
    { memo: '\ud800 lone surrogate' },
    'x'.repeat(10_000),
  ]
  for (const [i, r] of records.entries()) t.equal(entryHash(GENESIS_HASH, body(r)), slowHash(GENESIS_HASH, r), `record ${i}`)
})

t.test('the stored entry and head parse back to what prepare() returned, and the export verifies', async t => {
  const store = new MemoryStore()
  const log = await AuditLog.open(store)
  const recs = [
    { b: 2, a: 'ü' }, { kind: 'channel_write', updates: ['1:local_commitment'], local_msat: 1000 }, { z: null, y: [true, false] },
  ]
  const entries = []
  for (const r of recs) {
    const { entry, ops } = log.prepare(r)
    await store.write(ops)
    entries.push(entry)
    t.same(parseJsonValue((await store.get(keys.auditEntry(entry.n)))!), entry, `entry ${entry.n} as stored`)
    t.same(parseJsonValue((await store.get(keys.auditHead))!), { hash: entry.hash, count: entry.n + 1 }, `head after entry ${entry.n}`)
  }
  t.same(verifyAuditLog(await log.export(), await log.root()), { ok: true, root: { hash: entries[2]!.hash, count: 3 } })
  const reopened = await AuditLog.open(store)
  t.same(reopened.pendingRoot, { hash: entries[2]!.hash, count: 3 }, 'a reopened log reads the head written as text')
})
