// hub/audit/anchoring.ts against a real btcd and a real hub wallet: an anchor carried as one more output
// of another transaction (a settlement's extra output: output(), then carriedBy() before the broadcast)
// reaches depth and its proofs check; an anchor whose carrier never confirms stays unanchored and the
// next anchor covers its entries; the records survive a reopen; nothing to anchor is said so.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { useBtcd } from '../../helpers/btcd.ts'
import { Wallet } from '../../../host/wallet/wallet.ts'
import { fileWalletStorage } from '../../../host/wallet/node/file-storage.ts'
import { MemoryStore } from '../../../host/store/index.ts'
import { AuditLog } from '../../../hub/audit/log.ts'
import { Anchoring } from '../../../hub/audit/anchoring.ts'
import { anchorCommitment, anchorScript, GENESIS_COMMITMENT } from '../../../protocol/audit/anchor.ts'
import { merkleRoot, verifyMerklePath } from '../../../protocol/audit/merkle.ts'
import { hexToBytes } from '../../../protocol/types.ts'

const DEPTH = 3
const btc = await useBtcd(t)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'anchoring-'))
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
const opened = await Wallet.open({ storage: fileWalletStorage(dir), chain: btc.chain, feeRate: 2 })
if (!opened.ok) throw new Error(JSON.stringify(opened.error))
const wallet = opened.value
t.teardown(() => wallet.close())
await btc.faucet(wallet.newAddress().address, 2_000_000)
await btc.faucet(wallet.newAddress().address, 2_000_000)
await btc.mine(1)

const store = new MemoryStore()
let height = 0
const clock = { now: () => Date.now(), height: () => height }
const audit = await AuditLog.open(store, clock)
const open = (): Promise<Anchoring> => Anchoring.open({ store, audit, chain: btc.chain, wallet, depth: DEPTH, ...clock })
let anchoring = await open()

/** Waits until anchoring.onBlock() has seen what it needs (the wallet follows the chain on its own). */
async function settle (until: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !until(); i++) { await anchoring.onBlock(); await new Promise(r => setTimeout(r, 100)) }
}

t.test('an anchor carried by another transaction (a settlement\'s extra output) reaches depth; its proofs check', async t => {
  t.equal(await anchoring.output(), undefined, 'nothing to anchor in an empty log')
  for (let i = 0; i < 7; i++) { height = 200 + i; await audit.append({ kind: 'test', i }) }
  const out = await anchoring.output()
  if (out === undefined) return t.fail('an anchor output')
  t.equal(out.value, 0)
  const a = anchoring.list()[0]!
  t.same([a.status, a.from, a.to, a.prev_commitment], ['prepared', 0, 7, GENESIS_COMMITMENT])
  const hashes = (await audit.export()).map(e => e.hash)
  t.equal(a.root, merkleRoot(hashes))
  t.equal(out.script, anchorScript(anchorCommitment({ prev_commitment: GENESIS_COMMITMENT, root: a.root, from: 0, to: 7 })))
  // The "settlement": a payout and the anchor's OP_RETURN in one wallet transaction.
  const built = wallet.buildTx([{ address: wallet.newAddress().address, value: 100_000 }, { script: hexToBytes(out.script), value: 0 }])
  if (!built.ok) return t.fail(JSON.stringify(built.error))
  await anchoring.carriedBy(out.seq, built.value.txid)
  t.equal(anchoring.list()[0]!.status, 'carried', 'recorded before the broadcast')
  t.ok((await wallet.broadcast(built.value.txid)).ok, 'broadcast')
  await btc.mine(DEPTH - 1)
  await anchoring.onBlock()
  t.equal(anchoring.anchoredCount(), 0, `not final below ${DEPTH} confirmations`)
  t.equal(await anchoring.proof(3), undefined, 'no proof before depth')
  await btc.mine(1)
  await settle(() => anchoring.anchoredCount() === 7)
  t.equal(anchoring.anchoredCount(), 7, 'final at depth')
  t.equal(anchoring.list()[0]!.txid, built.value.txid)
  for (let n = 0; n < 7; n++) {
    const p = await anchoring.proof(n)
    if (p === undefined) { t.fail(`proof of ${n}`); continue }
    t.ok(verifyMerklePath(p.entry.hash, n - p.anchor.from, p.anchor.to - p.anchor.from, p.path, p.anchor.root), `entry ${n}'s path`)
  }
  t.equal(await anchoring.output(), undefined, 'everything durable is anchored')
})

t.test('an anchor whose carrier never confirms is not counted; the next anchor covers its entries and chains to the last final one',
  async t => {
    for (let i = 7; i < 10; i++) await audit.append({ kind: 'test', i })
    const lost = await anchoring.output()
    if (lost === undefined) return t.fail('an anchor output')
    await anchoring.carriedBy(lost.seq, 'ee'.repeat(32)) // a settlement that was never broadcast
    await audit.append({ kind: 'test', i: 10 })
    await btc.mine(DEPTH)
    await anchoring.onBlock()
    t.equal(anchoring.anchoredCount(), 7, 'its entries are not anchored')
    const r = await anchoring.anchorNow()
    if (!r.ok) return t.fail(r.detail)
    t.same([r.anchor.from, r.anchor.to], [7, 11], 'the next anchor covers them and what came after')
    t.equal(r.anchor.prev_commitment, anchoring.list()[0]!.commitment, 'chained to the last final anchor')
    await btc.mine(DEPTH)
    await settle(() => anchoring.anchoredCount() === 11)
    t.equal(anchoring.anchoredCount(), 11)
    t.equal(anchoring.list()[1]!.status, 'carried', 'the lost one stays unfinished')
    t.equal((await anchoring.proof(8))?.anchor.txid, r.anchor.txids[0], 'the proof comes from the anchor that reached depth')
  })

t.test('a reopened anchoring reads the same records', async t => {
  const before = anchoring.list()
  anchoring = await open()
  t.same(anchoring.list(), before)
  t.equal(anchoring.anchoredCount(), 11)
})
