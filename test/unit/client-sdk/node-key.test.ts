// The client's nodeKey (client-sdk/options.ts, client-sdk/identity.ts): a data directory belongs to
// the node whose key first used it, and a client with another key is refused naming nodeKey and the
// node the directory belongs to (its store is closed again, so the right key opens it next); a hex
// key is read in either case (the same bytes), and a malformed one is told what is expected.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { bytesToHex } from '../../../protocol/types.ts'
import { createNodeClient } from '../../../client-sdk/node.ts'
import { FakeChain, FakeHub } from './fixtures/fake-hub.ts'

function dataDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-node-key-'))
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  return dir
}

const random32 = (): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(32))
const hubId = new FakeHub().hubId

t.test('a data directory used with another nodeKey is refused, naming nodeKey and the node it belongs to', async t => {
  const dir = dataDir(t)
  const chain = new FakeChain()
  const first = random32()
  const other = random32()
  const opts = { hubUrl: 'ws://127.0.0.1:1', hubId, dataDir: dir, chain }
  const a = await createNodeClient({ ...opts, nodeKey: first })
  t.equal(a.nodeId, nodeIdOf(first), 'the first key opens the directory')
  await a.stop()

  await t.rejects(createNodeClient({ ...opts, nodeKey: other }), {
    name: 'TypeError',
    message: `options.nodeKey: this data directory (its store) belongs to node ${nodeIdOf(first)}, but this nodeKey is node `
      + `${nodeIdOf(other)}: give the key that created it, or another dataDir`,
  })
  const again = await createNodeClient({ ...opts, nodeKey: first })
  t.equal(again.nodeId, nodeIdOf(first), 'the refused start closed the store: the right key opens the directory again')
  await again.stop()
  await t.rejects(createNodeClient({ ...opts, nodeKey: other }), { name: 'TypeError', message: /^options\.nodeKey: / }, 'still refused')
})

t.test('a hex nodeKey is read in either case; a malformed one is told it must be 64 hex characters', async t => {
  const dir = dataDir(t)
  const chain = new FakeChain()
  const key = random32()
  const opts = { hubUrl: 'ws://127.0.0.1:1', hubId, dataDir: dir, chain }
  const upper = await createNodeClient({ ...opts, nodeKey: bytesToHex(key).toUpperCase() })
  t.equal(upper.nodeId, nodeIdOf(key), 'upper-case hex: the same key')
  await upper.stop()
  const lower = await createNodeClient({ ...opts, nodeKey: bytesToHex(key) })
  t.equal(lower.nodeId, nodeIdOf(key), 'lower-case hex: the same node, so the same data directory')
  await lower.stop()
  await t.rejects(createNodeClient({ ...opts, nodeKey: bytesToHex(key).slice(2) }), {
    name: 'TypeError', message: /^options\.nodeKey: must be 64 hex characters \(32 bytes\), got 62 characters$/,
  })
  await t.rejects(createNodeClient({ ...opts, nodeKey: 'x'.repeat(64) }), {
    name: 'TypeError', message: /^options\.nodeKey: must be 64 hex characters \(32 bytes\), got 64 characters, not all hex$/,
  })
  await t.rejects(createNodeClient({ ...opts, nodeKey: 42 as unknown as string }), {
    name: 'TypeError', message: /^options\.nodeKey: must be a Uint8Array of 32 bytes or a string of 64 hex characters$/,
  })
})
