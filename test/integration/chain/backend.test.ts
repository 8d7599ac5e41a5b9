// ChainBackend over a real btcd: lookups, blocks with chosen transactions, /ws-driven following,
// multi-block reorgs replayed in order, and many concurrent requests.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import type { BlockRef, ChainBlock } from '../../../host/chain/backend.ts'
import { bytesToHex } from '../../../protocol/types.ts'
import { useBtcd } from '../../helpers/btcd.ts'
import { orAfter } from '../../helpers/race.ts'

const btc = await useBtcd(t)

function must<T> (r: { ok: true; value: T } | { ok: false; error: { detail: string } }): T {
  if (!r.ok) throw new Error(r.error.detail)
  return r.value
}

t.test('lookups: blocks by height and hash, transactions with confirmations, outputs, unknowns as null', async t => {
  const tip = must(await btc.chain.tip())
  const byHeight = must(await btc.chain.getBlock(tip.height))
  const byHash = must(await btc.chain.getBlock(tip.hash))
  t.same(byHeight, byHash)
  t.equal(byHeight?.height, tip.height)
  t.equal(byHeight?.prevHash, must(await btc.chain.getBlockHash(tip.height - 1)))
  t.equal(must(await btc.chain.getBlockHash(tip.height + 1)), null, 'no block above the tip')
  t.equal(must(await btc.chain.getBlock(bytesToHex(randomBytes(32)))), null, 'unknown block')
  t.equal(must(await btc.chain.getRawTransaction(bytesToHex(randomBytes(32)))), null, 'unknown tx')

  const pay = await btc.faucet(btc.node.miner.address, 250_000)
  const inPool = must(await btc.chain.getRawTransaction(pay.txid))
  t.equal(inPool?.confirmations, 0, 'mempool tx: 0 confirmations')
  t.equal(inPool?.block, undefined)
  t.equal(inPool?.tx.hex, pay.hex)
  const outPool = must(await btc.chain.getTxOut(pay.txid, pay.vout))
  t.same(outPool && { value: outPool.value, confirmations: outPool.confirmations }, { value: 250_000, confirmations: 0 })
  t.equal(must(await btc.chain.getTxOut(pay.txid, pay.vout, false)), null, 'not in the UTXO set without the mempool')

  const [hash] = await btc.mine(2)
  const mined = must(await btc.chain.getRawTransaction(pay.txid))
  t.equal(mined?.confirmations, 2)
  t.same(mined?.block, { height: tip.height + 1, hash })
  const out = must(await btc.chain.getTxOut(pay.txid, pay.vout, false))
  t.same(out, { value: 250_000, scriptPubKey: pay.scriptPubKey, confirmations: 2, coinbase: false })
  const block = must(await btc.chain.getBlock(hash!))
  t.ok(block?.txs.some(x => x.txid === pay.txid), 'the block lists the transaction')
})

t.test('submitBlock mines exactly the chosen transactions (segwit commitment included)', async t => {
  const a = await btc.faucet(btc.node.miner.address, 100_000)
  const b = await btc.faucet(btc.node.miner.address, 200_000)
  const hash = must(await btc.chain.submitBlock([a.hex]))
  const block = must(await btc.chain.getBlock(hash))
  t.same(block?.txs.map(x => x.txid).slice(1), [a.txid], 'only the chosen tx after the coinbase')
  t.equal(must(await btc.chain.getRawTransaction(b.txid))?.confirmations, 0, 'the other stays in the mempool')
  const bad = await btc.chain.submitBlock([a.hex])
  t.equal(bad.ok ? 'accepted' : bad.error.kind, 'block_rejected', 'a block repeating an already-confirmed transaction is rejected')
  await btc.mine(1)
})

t.test('/ws notifications alone (no polling) drive a follower', async t => {
  const chain = btc.node.backend({ pollMs: 0 })
  t.teardown(() => chain.close())
  let resolve!: (b: ChainBlock) => void
  const seen = new Promise<ChainBlock>(r => { resolve = r })
  must(await chain.follow({ connected: b => resolve(b) }))
  // Wait until the /ws subscription is up; a block mined before it would only be seen by a poll.
  for (let i = 0; i < 200 && !chain.notificationsConnected; i++) await new Promise(r => setTimeout(r, 50))
  t.ok(chain.notificationsConnected)
  const [hash] = must(await chain.generate(1))
  const got = await orAfter(seen, 20_000, null)
  t.equal(got?.hash, hash, 'blockconnected over /ws woke the follower')
})

t.test('a 3-block reorg is replayed as disconnects (highest first) then connects (lowest first)', async t => {
  const events: string[] = []
  const stop = must(await btc.chain.follow({
    connected: (b: ChainBlock) => { events.push(`+${b.height}`) },
    disconnected: (b: BlockRef) => { events.push(`-${b.height}`) }
  }))
  t.teardown(stop)
  const hashes = await btc.mine(3)
  const top = must(await btc.chain.tip()).height
  events.length = 0
  must(await btc.chain.invalidateBlock(hashes[0]!))
  await btc.mine(4)
  t.same(events, [`-${top}`, `-${top - 1}`, `-${top - 2}`, `+${top - 2}`, `+${top - 1}`, `+${top}`, `+${top + 1}`])
})

t.test('40 concurrent requests all succeed (bounded below btcd\'s 10-client limit)', async t => {
  const tip = must(await btc.chain.tip()).height
  const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => btc.chain.getBlock(tip - (i % 20))))
  t.equal(rs.filter(r => r.ok && r.value !== null).length, 40)
})
