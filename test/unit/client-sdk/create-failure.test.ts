// A client that cannot start (client-sdk/node.ts createNodeClient, client-sdk/hub-client.ts create)
// closes what it opened before it rejects — the LevelDB store (whose lock would otherwise keep the
// data directory unusable until the process exits) and the wallet (which follows the chain) — and
// rejects with a typed ClientError (client-sdk/errors.ts), not a message to parse. A chain the caller
// gave stays open: it is the caller's. The core's host parts are checked like its options.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ChainBackend, ChainFailure, ChainListener, FollowOptions } from '../../../host/chain/backend.ts'
import { err, type Result } from '../../../protocol/result.ts'
import { LevelStore } from '../../../host/store/node/level-store.ts'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { hexToBytes } from '../../../protocol/types.ts'
import { MemoryStore } from '../../../host/store/index.ts'
import { ClientError, createNodeClient, HubClient } from '../../../client-sdk/node.ts'
import { FakeChain } from './fixtures/fake-hub.ts'

const HUB_ID = nodeIdOf(hexToBytes('22'.repeat(32)))

/** A chain that answers until the wallet follows it, then is unreachable: the client's own startup
 *  (the genesis block) finds it down after the store and the wallet opened. */
class ChainGoingDown implements ChainBackend {
  private readonly chain = new FakeChain()
  down = false
  following = 0
  closed = false
  private unreachable<T> (what: string): Result<T, ChainFailure> {
    return err({ kind: 'unavailable', detail: `${what}: ECONNREFUSED after 4 attempts` })
  }
  tip () { return this.down ? Promise.resolve(this.unreachable<never>('getbestblock')) : this.chain.tip() }
  getBlockHash (h: number) { return this.down ? Promise.resolve(this.unreachable<never>('getblockhash')) : this.chain.getBlockHash(h) }
  getBlock (at: number | string) { return this.chain.getBlock(at) }
  getRawTransaction (txid: string) { return this.chain.getRawTransaction(txid) }
  getTxOut (txid: string, vout: number) { return this.chain.getTxOut(txid, vout) }
  broadcast (hex: string) { return this.chain.broadcast(hex) }
  async follow (listener: ChainListener, _opts?: FollowOptions) {
    const r = await this.chain.follow(listener)
    this.following++
    this.down = true
    return r.ok ? { ok: true as const, value: () => { this.following--; r.value() } } : r
  }

  async close (): Promise<void> { this.closed = true; await this.chain.close() }
}

function dataDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-create-failure-'))
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  return dir
}

const nodeKey = '33'.repeat(32)

t.test('create fails after the store and wallet opened (the chain went down): both are closed, the error is typed', async t => {
  const dir = dataDir(t)
  const chain = new ChainGoingDown()
  const failed = await createNodeClient({
    nodeKey, hubUrl: 'ws://127.0.0.1:1', hubId: HUB_ID, dataDir: dir, chain,
  }).then(() => undefined, (e: unknown) => e)
  t.ok(failed instanceof ClientError, `rejects with a ClientError (${String(failed)})`)
  const e = failed as ClientError
  t.equal(e.operation, 'create', 'naming the call')
  t.equal(e.reason, 'chain_unavailable', 'with the reason')
  t.match(e.cause, { kind: 'unavailable' }, 'and the chain failure underneath')
  t.ok(chain.down, 'the chain went down after the wallet followed it (the failure is past the store and the wallet)')
  t.equal(chain.following, 0, 'the wallet stopped following the chain (closed)')
  t.notOk(chain.closed, 'the chain the caller gave is left open')
  const reopened = await LevelStore.open(path.join(dir, 'store')).then(s => s, (x: unknown) => x)
  t.ok(
    reopened instanceof LevelStore,
    `the store's lock was released: it opens again (${reopened instanceof LevelStore ? 'opened' : String(reopened)})`,
  )
  if (reopened instanceof LevelStore) await reopened.close()
})

t.test('create fails when the wallet cannot reach btcd: the store it opened is closed, the error is typed', async t => {
  const dir = dataDir(t)
  const failed = await createNodeClient({
    nodeKey, hubUrl: 'ws://127.0.0.1:1', hubId: HUB_ID, dataDir: dir, btcdRpc: { host: '127.0.0.1', port: 1, user: 'u', pass: 'p' },
  }).then(() => undefined, (e: unknown) => e)
  t.ok(failed instanceof ClientError, `rejects with a ClientError (${String(failed)})`)
  t.equal((failed as ClientError).reason, 'chain_unavailable', 'the wallet could not read the chain')
  t.ok(fs.existsSync(path.join(dir, 'store')), 'the store had been opened')
  const reopened = await LevelStore.open(path.join(dir, 'store')).then(s => s, (x: unknown) => x)
  t.ok(reopened instanceof LevelStore, 'its lock was released: it opens again')
  if (reopened instanceof LevelStore) await reopened.close()
})

t.test('HubClient.create (the browser-safe core): a bad host part is refused with the field named, before any I/O', async t => {
  const chain = new FakeChain()
  const store = new MemoryStore()
  const options = { nodeKey, hubUrl: 'ws://127.0.0.1:1', hubId: HUB_ID }
  const socket = async (): Promise<never> => { throw new Error('no socket is opened by create()') }
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no store', { chain, wallet: {}, socket }, /host\.store: must be a Store \(get, write, iterate, close\)/],
    ['not a chain', { store, chain: {}, wallet: {}, socket }, /host\.chain: must be a ChainBackend/],
    ['not a wallet', { store, chain, wallet: { newAddress: () => {} }, socket }, /host\.wallet: must be a Wallet/],
    ['no socket factory', { store, chain, wallet: {} }, /host\.socket: /],
    ['an unknown part', { store, chain, wallet: {}, socket, disk: '/tmp' }, /host.*disk/],
  ]
  for (const [name, host, re] of cases) {
    await t.rejects(HubClient.create(options, host as never), { name: 'TypeError', message: re }, name)
  }
  await t.rejects(HubClient.create({ ...options, dataDir: '/tmp' } as never, { store, chain, wallet: {}, socket } as never),
    { name: 'TypeError', message: /options.*dataDir/ }, 'the core takes no data directory (that is the Node entry\'s)')
})
