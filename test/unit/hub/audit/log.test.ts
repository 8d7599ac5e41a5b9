// The hash-chained audit log: entries chain by hash, the root moves with each durable append, a reopened
// log continues the chain, and the verifier catches every kind of tampering with an export.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '../../../../protocol/types.ts'
import { AuditLog, EMPTY_ROOT, GENESIS_HASH, canonicalJson, verifyAuditLog, type AuditEntry } from '../../../../hub/audit/index.ts'
import { LevelStore } from '../../../../host/store/node/level-store.ts'
import { MemoryStore, keys, put, parseJsonValue } from '../../../../host/store/index.ts'

const rec = (i: number): unknown => ({ channel: 'c1', commitment: i, balances: { hub: 1000 - i, peer: i } })

t.test('canonical JSON does not depend on key order and refuses non-JSON values', async t => {
  t.equal(canonicalJson({ b: 1, a: [true, null, 'x'] }), '{"a":[true,null,"x"],"b":1}')
  t.equal(canonicalJson({ a: 1, b: { d: 2, c: 3 } }), canonicalJson({ b: { c: 3, d: 2 }, a: 1 }))
  for (const bad of [undefined, NaN, Infinity, 1n, new Date(0), new Uint8Array(1), { x: undefined }]) {
    t.throws(() => canonicalJson(bad), TypeError)
  }
})

t.test('entry n = sha256(prev ‖ canonical JSON of its time, height and record); root() follows durable appends', async t => {
  const store = new MemoryStore()
  let now = 1_700_000_000_000
  let height = 100
  const log = await AuditLog.open(store, { now: () => now, height: () => height })
  t.same(await log.root(), EMPTY_ROOT)
  const e0 = await log.append(rec(0))
  now += 5
  height++
  const e1 = await log.append(rec(1))
  t.same(
    [e0.time_ms, e0.height, e1.time_ms, e1.height], [1_700_000_000_000, 100, 1_700_000_000_005, 101], 'each entry has its time and height',
  )
  const body0 = canonicalJson({ time_ms: 1_700_000_000_000, height: 100, record: rec(0) })
  const expect0 = bytesToHex(sha256(new Uint8Array([...hexToBytes(GENESIS_HASH), ...new TextEncoder().encode(body0)])))
  t.equal(e0.hash, expect0)
  t.equal(e0.prev, GENESIS_HASH)
  t.equal(e1.prev, e0.hash)
  t.same(await log.root(), { hash: e1.hash, count: 2 })
  t.same(verifyAuditLog(await log.export()), { ok: true, root: { hash: e1.hash, count: 2 } })
})

t.test('an entry can ride in the caller\'s own batch: state and audit are durable together', async t => {
  const store = new MemoryStore()
  const log = await AuditLog.open(store)
  const { entry, ops } = log.prepare(rec(7))
  await store.write([put(keys.channelState('c1'), { commitment: 7 }), ...ops])
  t.same(parseJsonValue((await store.get(keys.auditEntry(0)))!), entry)
  t.same(await log.root(), { hash: entry.hash, count: 1 })
  t.equal(store.stats.batches, 1, 'one batch for both')
})

t.test('concurrent appends keep chain order (and share synced batches)', async t => {
  const store = new MemoryStore()
  const log = await AuditLog.open(store)
  await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(rec(i))))
  const exported = await log.export()
  t.equal(exported.length, 50)
  t.same(exported.map(e => (e.record as { commitment: number }).commitment), Array.from({ length: 50 }, (_, i) => i))
  t.ok(verifyAuditLog(exported, await log.root()).ok)
  t.equal(store.stats.batches, 1)
})

t.test('a reopened LevelDB log continues the same chain', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let s = await LevelStore.open(dir)
  let log = await AuditLog.open(s)
  for (let i = 0; i < 5; i++) await log.append(rec(i))
  const before = await log.root()
  await s.close()
  s = await LevelStore.open(dir)
  log = await AuditLog.open(s)
  t.same(await log.root(), before)
  await log.append(rec(5))
  const all = await log.export()
  t.equal(all.length, 6)
  t.equal(all[5]!.prev, before.hash)
  t.ok(verifyAuditLog(all, await log.root()).ok)
  await s.close()
})

t.test('the verifier catches tampering, reordering, gaps, truncation and junk', async t => {
  const log = await AuditLog.open(new MemoryStore())
  for (let i = 0; i < 6; i++) await log.append(rec(i))
  const root = await log.root()
  const good = await log.export()
  const copy = (): AuditEntry[] => JSON.parse(JSON.stringify(good))

  const tampered = copy()
  ;(tampered[3]!.record as { balances: { hub: number } }).balances.hub += 1
  t.match(verifyAuditLog(tampered), { ok: false, index: 3, reason: 'bad_hash' }, 'a changed record')

  const swapped = copy()
  ;[swapped[1], swapped[2]] = [swapped[2]!, swapped[1]!]
  t.match(verifyAuditLog(swapped), { ok: false, index: 1, reason: 'bad_index' }, 'two entries swapped')

  const gap = copy().filter((_, i) => i !== 2).map((e, i) => ({ ...e, n: i }))
  t.match(verifyAuditLog(gap), { ok: false, index: 2, reason: 'bad_prev' }, 'an entry removed and the rest renumbered')

  const rehashed = copy()
  rehashed[4] = { ...rehashed[4]!, record: { forged: true } }
  t.match(verifyAuditLog(rehashed), { ok: false, index: 4, reason: 'bad_hash' })

  t.match(
    verifyAuditLog(copy().slice(0, 4), root), { ok: false, reason: 'root_mismatch' }, 'a truncated log does not reach the anchored root',
  )
  t.ok(verifyAuditLog(copy().slice(0, 4)).ok, 'a prefix alone is a valid (shorter) log')
  t.match(verifyAuditLog([{ n: 0, prev: 'xx', hash: GENESIS_HASH, time_ms: 0, height: 0, record: 1 }]), { ok: false, reason: 'malformed' })
  const retimed = copy()
  retimed[2] = { ...retimed[2]!, time_ms: retimed[2]!.time_ms + 1 }
  t.match(verifyAuditLog(retimed), { ok: false, index: 2, reason: 'bad_hash' }, 'a changed time')
  const moved = copy()
  moved[5] = { ...moved[5]!, height: moved[5]!.height + 1 }
  t.match(verifyAuditLog(moved), { ok: false, index: 5, reason: 'bad_hash' }, 'a changed height')
  t.match(verifyAuditLog(copy().slice(3), undefined, { hash: good[2]!.hash, count: 3 }), { ok: true, root }, 'a range from entry 3 on')
  t.match(verifyAuditLog([{ ...good[0]!, extra: 1 }]), { ok: false, reason: 'malformed' }, 'unknown fields refused')
  t.match(verifyAuditLog('nope'), { ok: false, reason: 'malformed' })
  t.ok(verifyAuditLog(good, root).ok)
})
