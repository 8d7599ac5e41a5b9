// The managed node with keepBlocks (the hub's embedded default): every block of its main chain is kept
// in its data directory and replayed when it starts, so a restart (clean, or after btcd was SIGKILLed)
// brings back the same chain; a reorg is kept as the node saw it; a torn last record is dropped; an
// archive that is not what we wrote stops the start, naming the line. The credentials file holds the
// published address, mode 0600, stable across restarts, and btcd's command line carries no password.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { BtcdStartError, startBtcd, type ManagedBtcd } from '../../../host/chain/btcd/node.ts'
import { BtcdChainBackend } from '../../../host/chain/btcd/backend.ts'
import { BLOCK_ARCHIVE_FILE } from '../../../host/chain/btcd/block-archive.ts'

function tempDir (): string { return fs.mkdtempSync(path.join(os.tmpdir(), 'keep-blocks-')) }

async function tipOf (node: ManagedBtcd): Promise<{ height: number; hash: string }> {
  const chain = new BtcdChainBackend({ ...node.publicRpc, notifications: false, pollMs: 0 })
  try {
    const tip = await chain.tip()
    if (!tip.ok) throw new Error(`tip: ${tip.error.detail}`)
    return tip.value
  } finally { await chain.close() }
}

/** Mines n blocks and waits until the archive holds them (the gated backend hands out the tip only then). */
async function mineKept (node: ManagedBtcd, n: number): Promise<void> {
  const chain = node.backend({ notifications: false, pollMs: 0 })
  try {
    const g = await chain.generate(n)
    if (!g.ok) throw new Error(`generate: ${g.error.detail}`)
    const b = await chain.getBlock(g.value[g.value.length - 1]!)
    if (!b.ok || b.value === null) throw new Error('getblock failed')
  } finally { await chain.close() }
}

t.test('keepBlocks: restart and SIGKILL bring back the same chain, reorgs included; credentials stay', async t => {
  const dir = tempDir()
  const credentials = path.join(dir, 'btcd-rpc.json')
  const node = await startBtcd({ dataDir: path.join(dir, 'btcd'), keepBlocks: true, rpcCredentialsFile: credentials })
  t.teardown(async () => { await node.stop(); fs.rmSync(dir, { recursive: true, force: true }) })
  t.same(node.replay, { blocks: 0, rejected: null }, 'a first start has nothing to replay')
  t.not(node.publicRpc.port, node.rpc.port, 'other processes reach the node through the published address')

  const file = JSON.parse(fs.readFileSync(credentials, 'utf8')) as Record<string, unknown>
  t.same(
    file, { host: '127.0.0.1', port: node.publicRpc.port, user: node.publicRpc.user, pass: node.publicRpc.pass },
    'the credentials file holds the published address and login',
  )
  t.equal(fs.statSync(credentials).mode & 0o777, 0o600, 'readable by its owner only')
  const cmdline = fs.readFileSync(`/proc/${node.pid}/cmdline`, 'utf8')
  t.notOk(cmdline.includes(node.rpc.pass), "the password is not on btcd's command line")

  await mineKept(node, 30)
  // A reorg: the last 3 blocks replaced by 4 others; the archive must bring back the new branch.
  const chain = node.backend({ notifications: false, pollMs: 0 })
  const h28 = await chain.getBlockHash(28)
  t.ok(h28.ok && h28.value !== null, 'block 28 exists')
  const inv = await chain.invalidateBlock((h28 as { value: string }).value)
  t.ok(inv.ok, 'invalidateblock at height 28')
  await chain.close()
  await mineKept(node, 4)
  const before = await tipOf(node)
  t.equal(before.height, 31, 'the new branch is the main chain (27 + 4)')

  await node.restart()
  t.same(node.replay, { blocks: 31, rejected: null }, 'restart replays the 31 blocks of the main chain')
  t.same(await tipOf(node), before, 'the same tip (hash and height) after a restart')

  const publicPort = node.publicRpc.port
  await mineKept(node, 2)
  const beforeKill = await tipOf(node)
  process.kill(node.pid!, 'SIGKILL')
  await node.restart()
  t.same(await tipOf(node), beforeKill, 'the same tip after btcd was SIGKILLed')
  t.equal(node.publicRpc.port, publicPort, 'the published port stays the same')
  t.equal((JSON.parse(fs.readFileSync(credentials, 'utf8')) as { pass: string }).pass, file.pass, 'and so does the login')

  // A crash in the middle of an append leaves a partial last line: dropped, the rest replays.
  await node.halt()
  fs.appendFileSync(path.join(dir, 'btcd', BLOCK_ARCHIVE_FILE), '{"connect":{"height":34,"hash":"ab')
  await node.restart()
  t.same(await tipOf(node), beforeKill, 'a torn last record is dropped; the chain before it comes back')
  await mineKept(node, 1)
  await node.restart()
  t.equal((await tipOf(node)).height, beforeKill.height + 1, 'and records appended after it replay too')
})

t.test('keepBlocks: an archive that is not what we wrote stops the start, naming the line', async t => {
  const dir = tempDir()
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const node = await startBtcd({ dataDir: path.join(dir, 'btcd'), keepBlocks: true })
  await mineKept(node, 3)
  await node.halt()
  const file = path.join(dir, 'btcd', BLOCK_ARCHIVE_FILE)
  const lines = fs.readFileSync(file, 'utf8').split('\n')
  // Block 2's bytes altered: they no longer hash to the recorded hash.
  lines[1] = lines[1]!.replace(/"hex":"(..)/, (_m, b: string) => `"hex":"${b === '00' ? '01' : '00'}`)
  fs.writeFileSync(file, lines.join('\n'))
  let error: unknown
  try { await startBtcd({ dataDir: path.join(dir, 'btcd'), keepBlocks: true }) } catch (e) { error = e }
  t.ok(error instanceof BtcdStartError && error.reason === 'unreadable', 'refused as unreadable')
  t.match(
    (error as Error).message, /line 2: connect\.hex: hashes to [0-9a-f]{64}, not [0-9a-f]{64}/,
    'the error names the line and what is wrong',
  )
})

t.test('without keepBlocks a restart still wipes the chain (scenario 12 stays testable)', async t => {
  const node = await startBtcd()
  t.teardown(() => node.stop())
  const chain = node.backend({ notifications: false, pollMs: 0 })
  t.teardown(() => chain.close())
  await chain.generate(3)
  await node.restart()
  const tip = await chain.tip()
  t.equal(tip.ok && tip.value.height, 0, 'empty after a restart')
  t.same(node.publicRpc, node.rpc, 'no gate: the published address is btcd itself')
})
