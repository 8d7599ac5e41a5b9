// Nothing outlives its parent. The real processes, signalled as an operator or a supervisor would:
// SIGTERM to `npm start` stops the demo and everything it started (npm → tsx → the demo → btcd, the
// hub, their watchdogs); the hub's command line stops cleanly on SIGTERM or SIGINT, its managed btcd
// with it, also when the signal comes while it is still starting; a demo killed outright (SIGKILL, no
// code of its own runs) leaves no hub behind. Every process is found by walking /proc (Linux).
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Teardown } from '../../scripts/lib/cleanups.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** Long enough for a loaded machine to stop a hub, its btcd and every watchdog. */
const GONE_WITHIN_MS = 30_000

/** Every live process's parent pid, from /proc/<pid>/stat (fields after the command's closing paren). */
function parents (): Map<number, number> {
  const out = new Map<number, number>()
  for (const name of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue
    const fields = alive(Number(name)) ? statFields(Number(name)) : undefined
    if (fields !== undefined) out.set(Number(name), Number(fields[1]))
  }
  return out
}

/** /proc/<pid>/stat after the command name: [state, ppid, …]; undefined once the process is gone. */
function statFields (pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch { return undefined }
}

/** Running (a zombie has exited: it only waits for its parent to read its status). */
function alive (pid: number): boolean {
  const fields = statFields(pid)
  return fields !== undefined && fields[0] !== 'Z'
}

function descendants (pid: number): number[] {
  const byParent = new Map<number, number[]>()
  for (const [child, parent] of parents()) byParent.set(parent, [...byParent.get(parent) ?? [], child])
  const found: number[] = []
  const walk = (p: number): void => { for (const c of byParent.get(p) ?? []) { found.push(c); walk(c) } }
  walk(pid)
  return found
}

function command (pid: number): string {
  try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').slice(0, 120) } catch { return '(gone)' }
}

async function stillAlive (pids: number[]): Promise<string[]> {
  const until = Date.now() + GONE_WITHIN_MS
  for (;;) {
    const left = pids.filter(alive)
    if (left.length === 0 || Date.now() > until) return left.map(p => `${p} ${command(p)}`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

/** Resolves with the first stdout line matching `pred` (lines of text or JSON). */
function lineOf (child: ChildProcess, pred: (line: string) => boolean, what: string, timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no ${what} within ${timeoutMs} ms`)) }, timeoutMs)
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`exited (${code}) before ${what}`)) })
    createInterface({ input: child.stdout! }).on('line', line => { if (pred(line)) { clearTimeout(timer); resolve(line) } })
  })
}

const exitOf = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise(resolve => child.once('exit', (code, signal) => resolve({ code, signal })))

/** Kills what a failed test left running (by pid: only what this test started). */
function killAll (t: Teardown, pids: () => number[]): void {
  t.teardown(() => { for (const p of pids()) if (alive(p)) { try { process.kill(p, 'SIGKILL') } catch { /* gone */ } } })
}

t.test('SIGTERM to `npm start` stops the demo, the hub, btcd and every watchdog', async t => {
  // Payments for ten minutes: the demo must not end by itself while the test waits.
  const npm = spawn('npm', ['start', '--', '--seconds', '600'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let tree: number[] = []
  killAll(t, () => [npm.pid!, ...tree])
  let dataDir: string | undefined
  const listening = lineOf(npm, l => l.includes('listening on'), 'the demo\'s hub listening')
  createInterface({ input: npm.stdout! }).on('line', l => { const m = /^data directory: (.+)$/.exec(l); if (m !== null) dataDir = m[1] })
  t.teardown(() => { if (dataDir !== undefined) fs.rmSync(path.join(ROOT, dataDir), { recursive: true, force: true }) })
  await listening
  tree = descendants(npm.pid!)
  const names = tree.map(command).join('\n')
  t.match(names, /btcd/, 'the demo runs btcd')
  t.match(names, /hub-bundles\/main-/, '… and the hub')
  npm.kill('SIGTERM')
  const exited = await exitOf(npm)
  t.not(exited.code, 0, `npm ends (${JSON.stringify(exited)})`)
  t.same(await stillAlive(tree), [], `nothing it started is left running (${tree.length} processes)`)
})

/** The hub's command line as one process, on its managed btcd, in a fresh data directory. */
function hubProcess (t: Teardown): ChildProcess {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-signals-'))
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  return spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts', '--data-dir', dir, '--port', '0'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  })
}

t.test('the hub command line: SIGTERM once it serves, SIGINT while it starts: a clean stop, its btcd with it', async t => {
  for (const [signal, when] of [['SIGTERM', 'listening'], ['SIGINT', 'starting']] as const) {
    const hub = hubProcess(t)
    let tree: number[] = []
    killAll(t, () => [hub.pid!, ...tree])
    const lines: string[] = []
    createInterface({ input: hub.stdout! }).on('line', l => { lines.push(l) })
    // While starting: the managed node runs (the chain is connected), the hub does not serve yet.
    await lineOf(hub, l => when === 'listening' ? l.includes('"event":"listening"') : l.includes('"stage":"chain_connected"'), when)
    tree = descendants(hub.pid!)
    t.ok(tree.map(command).some(c => /btcd/.test(c)), `${signal} ${when}: its managed btcd runs`)
    hub.kill(signal)
    const exited = await exitOf(hub)
    t.same(exited, { code: 0, signal: null }, `${signal} ${when}: the hub exits 0, stopped by its own code`)
    t.ok(lines.some(l => l.includes('"event":"stopped"')), '… and says it stopped')
    t.same(await stillAlive(tree), [], '… its btcd and the watchdog are gone')
  }
})

t.test('a demo killed outright (SIGKILL) leaves no hub running: the hub\'s watchdog stops it', async t => {
  const demo = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--seconds', '600'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let tree: number[] = []
  killAll(t, () => [demo.pid!, ...tree])
  let dataDir: string | undefined
  const listening = lineOf(demo, l => l.includes('listening on'), 'the demo\'s hub listening')
  createInterface({ input: demo.stdout! }).on('line', l => { const m = /^data directory: (.+)$/.exec(l); if (m !== null) dataDir = m[1] })
  t.teardown(() => { if (dataDir !== undefined) fs.rmSync(path.join(ROOT, dataDir), { recursive: true, force: true }) })
  await listening
  tree = descendants(demo.pid!)
  t.ok(tree.map(command).some(c => /hub-bundles\/main-/.test(c)), 'the demo runs the hub')
  demo.kill('SIGKILL')
  await exitOf(demo)
  t.same(await stillAlive(tree), [], `nothing it started is left running (${tree.length} processes)`)
})
