// The hub as a real process on a real btcd, with SDK clients over WebSockets: a platform opens and
// funds its channel, the hub opens one to a creator on request, a payment goes platform → hub →
// creator, the hub is SIGKILLed and restarted on its data directory, and payments continue; the
// admin API reports the channels and closes one cooperatively, paying both sides on-chain.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../../helpers/hub.ts'
import { forwardingFee } from '../../../protocol/forwarding.ts'

const VERBOSE = process.env.HUB_VERBOSE === '1'

t.test('hub process: open, forward, SIGKILL + restart, continue', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('hub-int')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, verbose: VERBOSE }, t)
  await fundHub(btc, hub, 3_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  await openFundedChannel(btc, platform, 500_000)
  await requestHubChannel(btc, creator)
  t.equal(platform.channels()[0]!.phase, 'normal', 'platform channel is normal')
  t.equal(creator.channels()[0]!.phase, 'normal', 'creator channel is normal')

  const policy = platform.hubPolicyInfo!
  const pay = async (amountMsat: number): Promise<number> => {
    const inv = await creator.createInvoice({ amountMsat, memo: 'hub-int' })
    const r = await platform.pay(inv.invoice)
    t.ok(r.ok, `paid ${amountMsat} msat${r.ok ? '' : `: ${r.reason} ${r.detail}`}`)
    return r.ok ? r.feeMsat : 0
  }
  const fee1 = await pay(1_234_567)
  t.equal(fee1, forwardingFee(1_234_567, policy), 'the hub charged its policy fee')

  hub.kill !== undefined && await hub.kill()
  await hub.restart()
  await platform.untilReestablished()
  await creator.untilReestablished()
  const fee2 = await pay(2_345_678)
  await waitFor(() => platform.channels()[0]!.inFlightMsat === 0 && creator.channels()[0]!.inFlightMsat === 0, 'HTLCs settled')
  t.equal(creator.channels()[0]!.localMsat, 1_234_567 + 2_345_678, 'creator holds both payments')
  t.equal(platform.channels()[0]!.localMsat, 500_000_000 - 1_234_567 - 2_345_678 - fee1 - fee2, 'platform paid both plus fees')

  // The operator closes the creator's channel through the admin API; both sides are paid on-chain
  // exactly their final balance, the funder (the hub) minus the agreed fee.
  const admin = async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    const r = await hub.adminFetch(route, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    return await r.json() as T
  }
  type Row = { channel_id: string; peer: string; local_msat: number; remote_msat: number; is_funder: boolean; phase: string }
  const rows = await admin<Row[]>('GET', '/channels')
  const row = rows.find(r => r.peer === creator.nodeId)!
  t.ok(row.is_funder && row.phase === 'normal', 'the admin API lists the hub-funded creator channel')
  const bad = await admin<{ error?: string }>('POST', '/channels/close', { channel_id: 'nope' })
  t.match(bad.error ?? '', /^channel_id: /, 'a bad close request names the field')
  const closing = await admin<{ ok?: boolean }>('POST', '/channels/close', { channel_id: row.channel_id })
  t.equal(closing.ok, true, 'close accepted')
  type Closed = {
    channel_id: string; closing_txid: string; fee_sat: number; agreed_fee_sat: number; to_local_sat: number; to_remote_sat: number
  }
  let closed: Closed | undefined
  await waitFor(async () => {
    closed = (await admin<Closed[]>('GET', '/closed')).find(c => c.channel_id === row.channel_id); return closed !== undefined
  }, 'the closing tx broadcast')
  await btc.mine(1)
  const tx = await btc.chain.getRawTransaction(closed!.closing_txid)
  t.ok(tx.ok && tx.value !== null && tx.value.confirmations >= 1, 'the closing tx confirmed')
  const outs = tx.ok && tx.value !== null ? tx.value.tx.outputs.map(o => o.value as number).sort((a, b) => a - b) : []
  t.equal(
    closed!.to_local_sat, Math.floor(row.local_msat / 1000) - closed!.agreed_fee_sat, "the hub's output: its balance minus the agreed fee",
  )
  t.equal(closed!.to_remote_sat, Math.floor(row.remote_msat / 1000), "the creator's output: its balance")
  t.same(outs, [closed!.to_local_sat, closed!.to_remote_sat].sort((a, b) => a - b), 'the chain holds exactly those outputs')
  t.equal(
    closed!.fee_sat, row.local_msat / 1000 + row.remote_msat / 1000 - closed!.to_local_sat - closed!.to_remote_sat,
    'fee_sat: what the tx leaves to the miners (the agreed fee and the msat both outputs round away)',
  )
})

t.test('scenario 12: the chain is wiped under a running hub: it stops loudly (exit 70), and refuses to start on it', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('hub-wipe')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, verbose: VERBOSE }, t)
  await fundHub(btc, hub, 3_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  await openFundedChannel(btc, platform, 300_000)
  await btc.mine(6) // the funding is final: its disappearance can only mean a wiped chain
  const exited = hub.exited()
  await btc.restart() // btcd wipes its regtest chain on restart, then re-mines 101 blocks
  const code = await exited
  t.equal(code, 70, 'the hub exited with the fatal code')
  t.ok(hub.lines.some(l => l.event === 'fatal' && l.reason === 'chain_wiped'), 'and said why: chain_wiped')
  let why = 'started'
  try { await hub.restart() } catch (e) { why = (e as Error).message }
  t.match(why, /exited \(70\)/, 'a restart on the wiped chain stops too, with the fatal code')
})
