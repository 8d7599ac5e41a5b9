// The node manager: start, RPC answers, stop; and no btcd outlives a killed parent.
import t from 'tap'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { startBtcd } from '../../../host/chain/btcd/node.ts'

const here = path.dirname(fileURLToPath(import.meta.url))

function alive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM' }
}

/** Polls `cond` every 100 ms until it holds or `limitMs` passes (a bound on failure, not a timing assertion). */
async function eventually (cond: () => boolean, limitMs: number): Promise<boolean> {
  for (const end = Date.now() + limitMs; Date.now() < end;) {
    if (cond()) return true
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return cond()
}

t.test('node manager: start, RPC answers, /ws connects, restart wipes, stop leaves nothing behind', async t => {
  const node = await startBtcd()
  t.teardown(() => node.stop())
  const pid = node.pid
  t.ok(pid !== null && alive(pid), 'btcd is running')
  t.equal(node.rpc.host, '127.0.0.1', 'RPC on loopback')
  t.match(node.miner.address, /^bcrt1q[0-9a-z]{38}$/, 'P2WPKH regtest mining address')
  const chain = node.backend()
  const tip = await chain.tip()
  t.same(tip.ok && tip.value.height, 0, 'RPC answers: a fresh regtest chain at the genesis block')
  const gen = await chain.generate(1)
  t.ok(gen.ok, 'generate works (--miningaddr is set)')
  const blk = await chain.getBlock(1)
  t.equal(
    blk.ok && blk.value?.txs[0]?.outputs[0]?.scriptPubKey, Buffer.from(node.miner.script).toString('hex'),
    'coinbase pays the miner key we hold',
  )
  t.ok(await eventually(() => chain.notificationsConnected, 10_000), '/ws notifications connected')
  // btcd before v0.26 activated CSV/segwit on regtest only at height 432 (DESIGN.md): not this one.
  const forks = await chain.rpc.request(
    'getblockchaininfo', [], z.object({ bip9_softforks: z.record(z.string(), z.object({ status: z.string() })) }), { idempotent: true },
  )
  const status = forks.ok ? Object.fromEntries(['csv', 'segwit', 'taproot'].map(k => [
    k, forks.value.bip9_softforks[k]?.status,
  ])) : forks.error
  t.same(status, { csv: 'active', segwit: 'active', taproot: 'active' }, 'CSV, segwit and taproot active from the genesis block')

  const port = node.rpc.port
  await node.restart()
  t.equal(node.rpc.port, port, 'restart comes back on the same RPC port')
  const again = await chain.tip()
  t.same(again.ok && again.value.height, 0, '... with an empty chain (regtest btcd wipes it at every start)')
  const pid2 = node.pid

  await chain.close()
  await node.stop()
  t.notOk(alive(pid!) || alive(pid2!), 'btcd exited on stop()')
  t.notOk(fs.existsSync(node.dataDir), 'temporary data dir removed')
  const probe = node.backend({ attempts: 1, notifications: false })
  const after = await probe.tip()
  await probe.close()
  t.equal(after.ok ? 'ok' : after.error.kind, 'unavailable', 'RPC no longer answers')
})

t.test('a SIGKILLed parent leaves no btcd and no temporary data dir behind (the watchdog cleans up)', async t => {
  const child = spawn(
    process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/start-btcd-child.ts')], { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const line = await new Promise<string>((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (c: Buffer) => { buf += c.toString(); if (buf.includes('\n')) resolve(buf.split('\n')[0]!) })
    child.once('exit', code => reject(new Error(`child exited early (${code})`)))
  })
  const { btcdPid, dataDir } = JSON.parse(line) as { btcdPid: number; dataDir: string }
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }))
  t.ok(alive(btcdPid), 'the child started btcd')
  t.ok(fs.existsSync(dataDir))
  child.kill('SIGKILL')
  await new Promise(resolve => child.once('exit', resolve))
  const gone = await eventually(() => !alive(btcdPid) && !fs.existsSync(dataDir), 15_000)
  if (alive(btcdPid)) process.kill(btcdPid, 'SIGKILL')
  t.ok(gone, 'btcd is gone and its data dir removed after its parent was SIGKILLed')
})

t.test('a btcd that cannot be executed fails with a typed error and signals no other process of our group', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'btcd-bad-bin-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const bin = path.join(dir, 'btcd')
  fs.writeFileSync(bin, '#!/bin/sh\nexit 0\n', { mode: 0o644 }) // present, not executable
  // The child leads its own process group (detached), so a signal to "the whole group" reaches it
  // and its sleeping sibling, never this test runner.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'fixtures/start-btcd-bad-bin.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'], detached: true, env: { ...process.env, BTCD_BIN: bin },
  })
  const lines: string[] = []
  let wake = (): void => {}
  let buf = ''
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString()
    const parts = buf.split('\n')
    buf = parts.pop()!
    lines.push(...parts)
    wake()
  })
  let exit: string | undefined
  child.once('exit', (code, signal) => { exit = `exited (${code ?? signal})`; wake() })
  /** The first line matching `pred`, or undefined once the child has exited without one. */
  const lineWhere = async (pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined> => {
    for (;;) {
      const found = lines.map(l => JSON.parse(l) as Record<string, unknown>).find(pred)
      if (found !== undefined || exit !== undefined) return found
      await new Promise<void>(resolve => { wake = resolve })
    }
  }
  t.teardown(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* already gone */ } })
  const first = await lineWhere(l => 'siblingPid' in l)
  if (first === undefined) return t.fail(`the child ${exit} before starting its sibling`)
  const siblingPid = first.siblingPid as number
  const result = await lineWhere(l => 'error' in l)
  t.ok(alive(siblingPid), 'a sibling process in the same process group is still alive')
  t.equal(exit, undefined, 'the process that tried to start btcd is still alive')
  t.same(lines.filter(l => l.includes('"uncaught"')), [], 'no uncaught error (a failed spawn\'s \'error\' event is handled)')
  const error = result?.error
  t.match(error, {
    name: 'BtcdStartError', reason: 'not_executable',
    message: new RegExp(`cannot execute ${bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(EACCES\\)`),
  })
})
