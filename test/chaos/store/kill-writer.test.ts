// A child process writes batches to a LevelStore in a loop, from several concurrent writers, and
// prints each write's id to stdout once its promise resolves (acknowledged = durable). The parent
// SIGKILLs it at a random moment, reopens the store, and checks: every acknowledged write is there,
// and no write is partial (each has all of its parts or none). Several rounds on one directory, so
// the store also recovers from a kill on top of a kill.
//
// This file is both the test (no arguments) and the child (`--child <dir> <firstId> <seed>`), so tap
// does not mistake a helper for a test file.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LevelStore } from '../../../host/store/node/level-store.ts'
import { put, parseJsonValue, type StoreOp } from '../../../host/store/index.ts'

const WRITERS = 8
const idKey = (id: number): string => String(id).padStart(10, '0')
/** Parts per write, 1 to 6, fixed by the id so the checker knows what a whole write looks like. */
const partsOf = (id: number): number => 1 + ((id * 7919) % 6)

function writeOps (id: number): StoreOp[] {
  const ops: StoreOp[] = [put(`w/${idKey(id)}/manifest`, { id, parts: partsOf(id) })]
  for (let p = 0; p < partsOf(id); p++) ops.push(put(`w/${idKey(id)}/part/${p}`, { id, p, pad: 'x'.repeat(64 * p) }))
  return ops
}

async function child (dir: string, firstId: number): Promise<void> {
  const store = await LevelStore.open(dir)
  let next = firstId
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    for (;;) {
      const id = next++
      await store.write(writeOps(id))
      process.stdout.write(`${id}\n`) // synchronous on a pipe (Linux): once written, the parent has it
    }
  }))
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, Number(process.argv[4]))
} else {
  const self = fileURLToPath(import.meta.url)
  const repoRoot = join(self, '..', '..', '..', '..')

  /** Run the child until it has acknowledged `killAfter` writes, then SIGKILL it. Returns the acks. */
  function runAndKill (dir: string, firstId: number, killAfter: number): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const proc = spawn(
        process.execPath, ['--import', 'tsx', self, '--child', dir, String(firstId)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      const acked: number[] = []
      let buf = ''
      let stderr = ''
      let killed = false
      proc.stdout.setEncoding('utf8')
      proc.stdout.on('data', (chunk: string) => {
        buf += chunk
        const lines = buf.split('\n')
        buf = lines.pop()! // an unterminated line is not an acknowledgement
        for (const l of lines) acked.push(Number(l))
        if (!killed && acked.length >= killAfter) { killed = true; proc.kill('SIGKILL') }
      })
      proc.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
      proc.on('exit', (code, signal) => {
        if (signal === 'SIGKILL' && killed) resolve(acked)
        else reject(new Error(`child exited unexpectedly (code ${code}, signal ${signal}): ${stderr.slice(0, 2000)}`))
      })
    })
  }

  t.test('SIGKILL during synced batch writes: every acknowledged write survives, no write is partial', async t => {
    const dir = mkdtempSync(join(tmpdir(), 'store-chaos-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const allAcked = new Set<number>()
    const rounds = 3
    for (let round = 0; round < rounds; round++) {
      const firstId = round * 1_000_000
      // Kill points spread over the stream: after 50, 400 and 1000 acknowledgements.
      const killAfter = [50, 400, 1000][round]!
      const acked = await runAndKill(dir, firstId, killAfter)
      for (const id of acked) allAcked.add(id)

      const store = await LevelStore.open(dir)
      const present = new Map<number, { parts: number; seen: Set<number> }>()
      for await (const [k, v] of store.iterate('w/')) {
        const m = /^w\/(\d{10})\/(manifest|part\/(\d+))$/.exec(k)
        if (m === null) { t.fail(`unexpected key ${k}`); continue }
        const id = Number(m[1])
        const e = present.get(id) ?? { parts: -1, seen: new Set<number>() }
        if (m[2] === 'manifest') e.parts = (parseJsonValue(v) as { parts: number }).parts
        else e.seen.add(Number(m[3]))
        present.set(id, e)
      }
      await store.close()

      const missing = [...allAcked].filter(id => !present.has(id))
      const partial = [...present].filter(([id, e]) => e.parts !== partsOf(id) || e.seen.size !== partsOf(id)).map(([id]) => id)
      const unacked = [...present.keys()].filter(id => !allAcked.has(id)).length
      t.same(missing, [], `round ${round}: all ${allAcked.size} acknowledged writes are present`)
      t.same(partial, [], `round ${round}: none of the ${present.size} writes on disk is partial`)
      t.ok(
        acked.length >= killAfter,
        `round ${round}: killed after ${acked.length} acks (${unacked} more writes landed unacknowledged so far)`,
      )
    }
  })
}
