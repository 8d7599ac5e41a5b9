// The managed node's auto-miner (config btcd.autoMineSeconds): with it, a transaction waiting in the
// mempool is mined within a few rounds and the chain stands still once the mempool is empty; without
// it (the default) nothing is mined by itself.
import t from 'tap'
import type * as Tap from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { BtcdChainBackend } from '../../../host/chain/btcd/backend.ts'
import { minerFromKey } from '../../../host/chain/btcd/node.ts'
import type { RpcConfig } from '../../../host/chain/btcd/rpc.ts'
import { startHub, tempDir, waitFor, type HubProcess } from '../../helpers/hub.ts'

const VERBOSE = process.env.HUB_VERBOSE === '1'
/** Rounds of the auto-miner waited before concluding that nothing more happens. */
const QUIET_ROUNDS = 3

async function faucetUnconfirmed (hub: HubProcess): Promise<string> {
  const r = await hub.adminFetch(
    '/regtest/faucet',
    { method: 'POST', body: JSON.stringify({ address: minerFromKey(randomBytes(32)).address, amount_sat: 50_000, confirm: false }) },
  )
  const body = await r.json() as { txid?: string; error?: string }
  if (body.txid === undefined) throw new Error(`faucet: ${body.error}`)
  return body.txid
}

function nodeOf (t: Tap.Test, hub: HubProcess): BtcdChainBackend {
  const rpc = JSON.parse(fs.readFileSync(String(hub.info.btcd_rpc_file), 'utf8')) as RpcConfig
  const chain = new BtcdChainBackend({ ...rpc, notifications: false, pollMs: 0 })
  t.teardown(() => chain.close())
  return chain
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

t.test('auto-miner: a waiting transaction is mined; an empty mempool mines nothing', async t => {
  const hub = await startHub(
    { dataDir: path.join(tempDir('auto-mine'), 'hub'), config: { btcd: { mode: 'managed', autoMineSeconds: 1 } }, verbose: VERBOSE }, t,
  )
  const chain = nodeOf(t, hub)
  const txid = await faucetUnconfirmed(hub)
  await waitFor(
    async () => { const r = await chain.getRawTransaction(txid); return r.ok && r.value !== null && r.value.confirmations >= 1 },
    'the auto-miner to confirm the payment', 60_000,
  )
  t.pass('the payment was mined without anyone asking')
  // The log line reaches us through the hub's stdout, which may lag the block it reports.
  await waitFor(async () => hub.lines.some(l => l.event === 'auto_mined'), 'the hub to log auto_mined', 10_000)
  t.pass('the hub logged auto_mined')
  const tip = await chain.tip()
  await sleep(QUIET_ROUNDS * 1000 + 500)
  t.same(await chain.tip(), tip, 'with the mempool empty, no block for several rounds')
})

t.test('auto-miner off (the default): a waiting transaction stays unconfirmed', async t => {
  const hub = await startHub({ dataDir: path.join(tempDir('no-auto-mine'), 'hub'), verbose: VERBOSE }, t)
  const chain = nodeOf(t, hub)
  const txid = await faucetUnconfirmed(hub)
  await sleep(QUIET_ROUNDS * 1000 + 500)
  const r = await chain.getRawTransaction(txid)
  t.equal(r.ok && r.value?.confirmations, 0, 'still in the mempool')
})
