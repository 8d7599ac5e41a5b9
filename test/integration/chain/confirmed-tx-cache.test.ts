// getRawTransaction answers a confirmed transaction asked for again from what it decoded the first
// time (one getblockheader instead of the whole verbose transaction): the depth still follows the
// chain, and a reorganisation that removes the block is seen.
import t from 'tap'
import { useBtcd } from '../../helpers/btcd.ts'

const btc = await useBtcd(t)

function must<T> (r: { ok: true; value: T } | { ok: false; error: { detail: string } }): T {
  if (!r.ok) throw new Error(r.error.detail)
  return r.value
}

t.test('a confirmed transaction looked up again: same transaction, current depth, reorgs seen', async t => {
  const pay = await btc.faucet(btc.node.miner.address, 300_000)
  const [hash] = await btc.mine(1)
  const first = must(await btc.chain.getRawTransaction(pay.txid))
  t.equal(first?.confirmations, 1)
  const height = first!.block!.height
  t.same(first?.block, { height, hash })

  await btc.mine(2)
  const again = must(await btc.chain.getRawTransaction(pay.txid))
  t.equal(again?.confirmations, 3, 'the depth follows the chain')
  t.same(again?.block, { height, hash }, 'same block')
  t.equal(again?.tx.hex, pay.hex, 'same transaction')

  // The block that confirmed it is reorganised away: the transaction is back in the mempool …
  must(await btc.chain.invalidateBlock(hash!))
  const back = must(await btc.chain.getRawTransaction(pay.txid))
  t.equal(back?.confirmations, 0, 'after the reorg it is unconfirmed again')
  t.equal(back?.block, undefined)
  // … and confirmed again in another block.
  const [other] = await btc.mine(1)
  const moved = must(await btc.chain.getRawTransaction(pay.txid))
  t.same(moved?.block, { height, hash: other }, 'the new block, not the cached one')
  t.equal(moved?.confirmations, 1)
})
