// Scenario 10 (funding part): a platform's funding transaction is reorged out before it reached the
// hub's minimum_depth (btcd `invalidateblock`). The depth the hub counted is undone with the blocks;
// the channel becomes usable only once the funding is minimum_depth deep again in the new chain.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../../helpers/btcd.ts'
import { startClient, startHub, tempDir, waitFor } from '../../helpers/hub.ts'

const MIN_DEPTH = 3

t.test('scenario 10: funding reorged out before minimum_depth; the channel waits for the new chain', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('hub-reorg')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { channels: { minimumDepth: MIN_DEPTH } } }, t)
  const admin = async <T>(route: string): Promise<T> => await (await hub.adminFetch(route)).json() as T
  type Row = { peer: string; phase: string; funding_txid: string | null }
  const hubPhase = async (peer: string): Promise<string | undefined> => (await admin<Row[]>('/channels')).find(r => r.peer === peer)?.phase
  /** The hub has processed the node's current tip (so a phase read after it is not stale). */
  const hubAtTip = async (): Promise<void> => {
    const tip = await btc.chain.tip()
    if (!tip.ok) throw new Error('tip')
    await waitFor(async () => (await admin<{ height: number }>('/info')).height === tip.value.height, 'the hub at the tip')
  }

  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const coin = await btc.faucet(platform.newAddress(), 400_000)
  await btc.mine(1)
  await waitFor(() => platform.wallet.utxos().some(u => u.txid === coin.txid), 'the faucet coin in the platform wallet')
  const opening = platform.openChannel({ capacitySat: 300_000 })
  await waitFor(() => platform.channels().some(c => c.fundingTxid !== null && c.phase === 'awaiting_funding_depth'), 'funding broadcast')
  const txid = platform.channels()[0]!.fundingTxid!
  await waitFor(
    async () => { const r = await btc.chain.getRawTransaction(txid); return r.ok && r.value !== null }, 'funding in the mempool',
  )

  const [first] = await btc.mine(MIN_DEPTH - 1)
  await hubAtTip()
  t.equal(await hubPhase(platform.nodeId), 'awaiting_funding_depth', `at depth ${MIN_DEPTH - 1} the hub still waits`)

  // Reorg: the block holding the funding (and the one on top) leave the main chain.
  const inv = await btc.chain.invalidateBlock(first!)
  t.ok(inv.ok, 'invalidateblock')
  await btc.chain.syncFollowers()
  await hubAtTip()
  const lookup = await btc.chain.getRawTransaction(txid)
  t.ok(lookup.ok && lookup.value !== null && lookup.value.confirmations === 0, 'the funding is back in the mempool, unconfirmed')
  await btc.mine(MIN_DEPTH - 1)
  await hubAtTip()
  t.equal(
    await hubPhase(platform.nodeId), 'awaiting_funding_depth',
    `depth counted before the reorg is gone: at ${MIN_DEPTH - 1} in the new chain, still waiting`,
  )
  await btc.mine(1)
  await opening
  await waitFor(async () => await hubPhase(platform.nodeId) === 'normal', 'the hub channel normal')
  t.equal(platform.channels()[0]!.phase, 'normal', `usable at depth ${MIN_DEPTH} in the new chain`)
})
