// Store benchmark (not run in CI): latency of one synced write, and write throughput with 1, 16 and
// 256 concurrent writers, with group commit (LevelStore) and, for comparison, with one synced
// db.batch per write. Usage: npx tsx scripts/bench-store.ts [--seconds N] [--dir PATH] [--json]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Level } from 'level'
import { LevelStore } from '../host/store/node/level-store.ts'
import { put, type StoreOp } from '../host/store/index.ts'

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined }
const seconds = Number(opt('--seconds') ?? 3)
const baseDir = opt('--dir') ?? tmpdir()
const json = args.includes('--json')

/** A write the size of a small channel-state update (~300 bytes). */
const op = (w: number, i: number): StoreOp => put(`chan/bench${w}/state`, { w, i, pad: 'x'.repeat(256) })
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }

async function withDir<T> (fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(baseDir, 'bench-store-'))
  try { return await fn(dir) } finally { rmSync(dir, { recursive: true, force: true }) }
}

async function latency (n: number): Promise<{ medianMs: number; p99Ms: number }> {
  return withDir(async dir => {
    const store = await LevelStore.open(dir)
    const ms: number[] = []
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await store.write([op(0, i)])
      ms.push(performance.now() - t0)
    }
    await store.close()
    const s = [...ms].sort((a, b) => a - b)
    return { medianMs: median(ms), p99Ms: s[Math.floor(s.length * 0.99)]! }
  })
}

interface Throughput { writers: number; mode: string; writesPerSec: number; syncs: number; writesPerSync: number }

async function throughput (writers: number, mode: 'group-commit' | 'sync-per-write'): Promise<Throughput> {
  return withDir(async dir => {
    let write: (ops: StoreOp[]) => Promise<void>
    let syncs = 0
    let close: () => Promise<void>
    let stats = (): number => syncs
    if (mode === 'group-commit') {
      const store = await LevelStore.open(dir)
      write = ops => store.write(ops)
      close = () => store.close()
      stats = () => store.stats.batches
    } else {
      const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
      await db.open()
      write = async ops => {
        syncs++
        await db.batch(
          ops.map(o => o.type === 'put' ? { type: 'put' as const, key: o.key, value: o.value } : { type: 'del' as const, key: o.key }),
          { sync: true },
        )
      }
      close = () => db.close()
    }
    let done = 0
    const end = performance.now() + seconds * 1000
    const t0 = performance.now()
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < end; i++) { await write([op(w, i)]); done++ }
    }))
    const elapsed = (performance.now() - t0) / 1000
    const s = stats()
    await close()
    return { writers, mode, writesPerSec: Math.round(done / elapsed), syncs: s, writesPerSync: Math.round(done / s * 10) / 10 }
  })
}

const lat = await latency(300)
const results: Throughput[] = []
for (const writers of [1, 16, 256]) {
  results.push(await throughput(writers, 'group-commit'))
  if (writers > 1) results.push(await throughput(writers, 'sync-per-write'))
}
if (!json) {
  console.log(`store: ${baseDir} (${seconds}s per run)`)
  console.log(`one synced write: median ${lat.medianMs.toFixed(2)} ms, p99 ${lat.p99Ms.toFixed(2)} ms`)
  for (const r of results) console.log(`${String(r.writers).padStart(4)} writers, ${r.mode.padEnd(14)}: ` +
    `${String(r.writesPerSec).padStart(7)} writes/s, ${r.syncs} syncs, ${r.writesPerSync} writes/sync`)
}
console.log(JSON.stringify({ latency: lat, throughput: results }))
