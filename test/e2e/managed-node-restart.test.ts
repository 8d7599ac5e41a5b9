// A hub on its own managed regtest btcd (the embedded default), with SDK clients that reach that node
// through the credentials the hub publishes: the hub and its btcd are SIGKILLed and the hub restarted
// on its data dir: the node replays its chain (same tip hash and height), the channels are intact, and
// a payment goes through. A first start that fails (its WebSocket port taken) leaves a data dir the
// next start runs on.
import t from 'tap'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import type { HubClient } from '../../client-sdk/index.ts'
import { createNodeClient } from '../../client-sdk/node.ts'
import type { Role } from '../../client-sdk/options.ts'
import { BtcdChainBackend } from '../../host/chain/btcd/backend.ts'
import type { RpcConfig } from '../../host/chain/btcd/rpc.ts'
import { randomKey, startHub, tempDir, waitFor, type HubProcess } from '../helpers/hub.ts'

const VERBOSE = process.env.HUB_VERBOSE === '1'

async function admin<T> (hub: HubProcess, route: string, body?: unknown): Promise<T> {
  const r = await hub.adminFetch(
    route,
    { method: body === undefined ? 'GET' : 'POST', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) },
  )
  const json = await r.json() as T & { error?: string }
  if (!r.ok) throw new Error(`${route}: ${r.status} ${json.error}`)
  return json
}

/** Mines one block through the admin API once `txid` waits in the node's mempool. */
async function mineTx (hub: HubProcess, chain: BtcdChainBackend, txid: string): Promise<void> {
  await waitFor(async () => { const r = await chain.getRawTransaction(txid); return r.ok && r.value !== null }, `tx ${txid} in the mempool`)
  await admin(hub, '/regtest/mine', { blocks: 1 })
}

t.test('managed node: SIGKILL the hub and its btcd, restart: the same chain, the channels intact, a payment goes through', async t => {
  const dir = tempDir('managed-restart')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), verbose: VERBOSE }, t)

  // The node's login, as a newcomer finds it: the listening line and the credentials file agree.
  const file = String(hub.info.btcd_rpc_file)
  t.equal(file, path.join(dir, 'hub', 'btcd-rpc.json'), 'the credentials file is <dataDir>/btcd-rpc.json')
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'mode 0600')
  const btcdRpc = JSON.parse(fs.readFileSync(file, 'utf8')) as RpcConfig
  t.same(btcdRpc, hub.info.btcd_rpc, 'the listening line prints the same login')
  const chain = new BtcdChainBackend({ ...btcdRpc, notifications: false, pollMs: 0 })
  t.teardown(() => chain.close())

  const client = async (name: string, role: Role, nodeKey = randomKey()): Promise<HubClient> => {
    const c = await createNodeClient({
      nodeKey, hubUrl: hub.url, hubId: hub.hubId, dataDir: path.join(dir, name), role, btcdRpc, reconnectInitialMs: 50, reconnectMaxMs: 500,
    })
    t.teardown(() => c.stop())
    await c.connect()
    return c
  }
  const platform = await client('platform', 'platform')
  const creator = await client('creator', 'creator')

  // The platform's coins come from the faucet; its channel and the creator's confirm by admin mining.
  const paid = await admin<{ txid: string; confirmed: boolean }>(
    hub, '/regtest/faucet', { address: platform.newAddress(), amount_sat: 1_200_000 },
  )
  t.ok(paid.confirmed, 'the faucet paid the platform, confirmed')
  await waitFor(() => platform.wallet.utxos().some(u => u.txid === paid.txid), 'the faucet coin in the platform wallet')
  const opening = platform.openChannel({ capacitySat: 1_000_000 })
  await waitFor(() => platform.channels().some(c => c.fundingTxid !== null), 'the platform funding')
  await mineTx(hub, chain, platform.channels()[0]!.fundingTxid!)
  await opening
  const requesting = creator.requestChannel()
  await waitFor(() => creator.channels().some(c => c.fundingTxid !== null), 'the hub funding')
  await mineTx(hub, chain, creator.channels()[0]!.fundingTxid!)
  await requesting

  const pay = async (amountMsat: number): Promise<void> => {
    const inv = await creator.createInvoice({ amountMsat, memo: 'managed-restart' })
    const r = await platform.pay(inv.invoice)
    t.ok(r.ok, `paid ${amountMsat} msat${r.ok ? '' : `: ${r.reason} ${r.detail}`}`)
  }
  await pay(5_000_000)
  // Six more blocks: both fundings are final, so a chain that came back without them would be a wipe.
  await admin(hub, '/regtest/mine', { blocks: 6 })
  const channelsBefore = await admin<Array<{ channel_id: string; phase: string; local_msat: number }>>(hub, '/channels')
  const tipBefore = await chain.tip()
  t.ok(tipBefore.ok, 'tip before')

  const btcdPid = Number(hub.info.btcd_pid)
  process.kill(btcdPid, 'SIGKILL')
  await hub.kill()
  await hub.restart()
  t.notOk(hub.lines.some(l => l.event === 'fatal'), 'the restarted hub did not stop (no chain_wiped)')
  t.not(Number(hub.info.btcd_pid), btcdPid, 'a new btcd')
  t.same(hub.info.btcd_rpc, btcdRpc, 'with the same published login and port')
  const tipAfter = await chain.tip()
  t.same(tipAfter, tipBefore, 'the same chain: tip hash and height')

  // The admin API lists channels in the order the hub loaded them, which a restart may change.
  const rows = (cs: typeof channelsBefore): Array<[string, string, number]> =>
    cs.map(c => [c.channel_id, c.phase, c.local_msat] as [string, string, number]).sort((a, b) => a[0].localeCompare(b[0]))
  const channelsAfter = await admin<Array<{ channel_id: string; phase: string; local_msat: number }>>(hub, '/channels')
  t.same(
    rows(channelsAfter), rows(channelsBefore),
    'the channels are intact',
  )
  t.same(channelsAfter.map(c => c.phase), ['normal', 'normal'], 'both normal')
  await platform.untilReestablished()
  await creator.untilReestablished()
  await pay(7_000_000)
  await waitFor(() => creator.channels()[0]!.inFlightMsat === 0, 'the payment settled')
  t.equal(creator.channels()[0]!.localMsat, 12_000_000, 'the creator holds both payments')
})

t.test('a first start that fails (its WebSocket port taken) does not poison the data dir', async t => {
  const dir = tempDir('managed-first-start')
  const blocker = net.createServer()
  await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', () => resolve()))
  t.teardown(() => new Promise<void>(resolve => blocker.close(() => resolve())))
  const port = (blocker.address() as net.AddressInfo).port
  let why = 'started'
  try {
    await startHub({ dataDir: path.join(dir, 'hub'), config: { transport: { port } }, verbose: VERBOSE }, t)
  } catch (e) { why = (e as Error).message }
  t.match(why, /exited \(1\) before listening[\s\S]*EADDRINUSE/, 'the first start fails: the port is taken')
  t.ok(fs.existsSync(path.join(dir, 'hub', 'wallet')), 'after it had set up its wallet on its chain')

  const hub = await startHub({ dataDir: path.join(dir, 'hub'), verbose: VERBOSE }, t)
  t.notOk(hub.lines.some(l => l.event === 'fatal'), 'the next start serves (no chain_wiped)')
  const info = await admin<{ height: number; wallet: { spendable: number } }>(hub, '/info')
  t.ok(info.wallet.spendable > 0, "with the first start's coins, spendable")
  t.ok(hub.lines.some(l => l.event === 'btcd_started' && Number(l.replayed_blocks) > 100), 'its chain replayed')
})

t.test('scenario 12 on the managed node: a chain that really lost its blocks (archive deleted) still stops the hub with chain_wiped', async t => {
  const dir = tempDir('managed-wiped')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), verbose: VERBOSE }, t)
  await hub.stop()
  fs.rmSync(path.join(dir, 'hub', 'btcd', 'blocks.jsonl'))
  let why = 'started'
  try { await hub.restart() } catch (e) { why = (e as Error).message }
  t.match(
    why, /exited \(70\) before listening[\s\S]*chain_wiped/, 'the hub stops loudly: its wallet was built on blocks the node no longer has',
  )
})
