// A client's chain source (client-sdk/README.md "The chain"): any object with the ChainBackend methods
// (host/chain/backend.ts) will do — the client checks the methods it calls at the boundary, runs over
// it, and leaves it open when it stops (it belongs to the caller). One without a method the client
// needs is refused naming the field, before anything is opened.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createNodeClient, type ChainBackend } from '../../../client-sdk/node.ts'
import { FakeChain, FakeHub } from './fixtures/fake-hub.ts'

function dataDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-chain-source-'))
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  return dir
}

const random32 = (): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(32))

/** A chain source written by the caller: a plain object that delegates to a chain and counts calls. */
function ownChain (inner: ChainBackend): ChainBackend & { calls: Map<string, number>; closed: boolean } {
  const calls = new Map<string, number>()
  const count = (m: string): void => { calls.set(m, (calls.get(m) ?? 0) + 1) }
  const own = {
    calls,
    closed: false,
    tip: async () => { count('tip'); return await inner.tip() },
    getBlockHash: async (h: number) => { count('getBlockHash'); return await inner.getBlockHash(h) },
    getBlock: async (at: number | string) => { count('getBlock'); return await inner.getBlock(at) },
    getRawTransaction: async (txid: string) => { count('getRawTransaction'); return await inner.getRawTransaction(txid) },
    getTxOut: async (txid: string, vout: number, mempool?: boolean) => {
      count('getTxOut'); return await inner.getTxOut(txid, vout, mempool)
    },
    broadcast: async (hex: string) => { count('broadcast'); return await inner.broadcast(hex) },
    follow: async (...a: Parameters<ChainBackend['follow']>) => { count('follow'); return await inner.follow(...a) },
    close: async () => { own.closed = true },
  }
  return own
}

t.test('a chain source without a method the client calls is refused naming the field and the methods, before anything opens', async t => {
  const dir = dataDir(t)
  const { getBlockHash: _dropped, ...partial } = ownChain(new FakeChain())
  await t.rejects(createNodeClient({
    nodeKey: random32(), hubUrl: 'ws://127.0.0.1:1', hubId: new FakeHub().hubId, dataDir: dir, chain: partial as unknown as ChainBackend,
  }), {
    name: 'TypeError',
    message: new RegExp(
      '^options\\.chain: must be a ChainBackend \\(tip, getBlockHash, getBlock, getRawTransaction, getTxOut, broadcast, follow, close\\)',
    ),
  })
  t.same(fs.readdirSync(dir), [], 'nothing was created in the data directory')
})

t.test('a chain source the caller wrote runs the client (a hub-funded channel checked on it, a payment), and stays open after stop()', async t => {
  const hub = new FakeHub()
  const chain = ownChain(hub.chain)
  const { client } = await hub.client({ options: { chain } })
  t.teardown(() => hub.cleanup())
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 300_000_000 })
  t.ok((chain.calls.get('getTxOut') ?? 0) > 0, 'the hub\'s funding was looked up on the caller\'s chain source')
  t.ok((chain.calls.get('follow') ?? 0) > 0, 'the client follows it')
  const r = await client.pay(hub.invoice(5_000_000).invoice)
  t.match(r, { ok: true })
  await client.stop()
  t.equal(chain.closed, false, 'the client did not close a chain it was given')
})
