// The admin API tells what happened on-chain, from the chain monitors' durable state: a cooperatively
// closed channel becomes `closed` once its closing tx and outputs are final (not `closing` forever); a
// channel the peer force-closed, while the peer was away from a running hub or while the hub itself was
// down, shows `force_closing` with how (never `normal`: the spend fails it), the hub's sweep of its
// output with txid and amount, then `closed`; GET /closed lists all of them with how they closed; all
// of it is the same after a restart. GET / lists the routes.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, randomKey, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { createNodeClient } from '../../client-sdk/node.ts'
import { ROUTES } from '../../hub/admin/server.ts'
import { admin } from './monitor/helpers.ts'

/** The hub's channels.finalityDepth here: how deep an on-chain outcome must be to count. */
const DEPTH = 3

interface Onchain {
  how: string | null; force_close_reason: string | null; closing_txid: string | null; closing_height: number | null; resolved: boolean;
  sweeps: Array<{ txid: string; height: number; amount_sat: number }>; swept_sat: number
}
interface Row {
  channel_id: string; peer: string; status: string; phase: string; link: string; onchain: Onchain | null; local_msat: number;
  remote_msat: number
}
interface Closed {
  channel_id: string; how: string; closing_txid: string; closing_height: number | null; resolved: boolean; to_local_sat?: number;
  to_remote_sat?: number; agreed_fee_sat?: number; sweeps: Onchain['sweeps']; swept_sat: number
}

t.test('admin API: a cooperative close ends `closed`; a force close by the peer (hub up or down) shows force_closing, its sweep, then closed; all in /closed, across a restart', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-admin-onchain')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { channels: { finalityDepth: DEPTH } } }, t)
  await fundHub(btc, hub, 5_000_000)
  const channels = async (): Promise<Row[]> => (await admin(hub, '/channels')).body as Row[]
  const rowOf = async (id: string): Promise<Row> => (await channels()).find(r => r.channel_id === id)!
  const closedOf = async (id: string): Promise<Closed | undefined> => (
    (await admin(hub, '/closed')).body as Closed[]
  ).find(c => c.channel_id === id)

  const listed = await admin(hub, '/')
  t.same(listed.body, { routes: ROUTES }, 'GET / lists every route with its body and answer')
  t.ok(ROUTES.some(r => r.path === '/closed') && ROUTES.some(r => r.path === '/channels/force-close'), '… the views and the commands')

  const coop = await startClient({ hub, btc, dataDir: path.join(dir, 'coop'), role: 'creator' }, t)
  const awayKey = randomKey()
  const away = await startClient({ hub, btc, dataDir: path.join(dir, 'away'), role: 'creator', nodeKey: awayKey }, t)
  const downKey = randomKey()
  const down = await startClient({ hub, btc, dataDir: path.join(dir, 'down'), role: 'creator', nodeKey: downKey }, t)
  await requestHubChannel(btc, coop)
  await requestHubChannel(btc, away)
  await requestHubChannel(btc, down)
  const coopId = coop.channels()[0]!.channelId
  const awayId = away.channels()[0]!.channelId
  const downId = down.channels()[0]!.channelId
  /** The peer's SDK, on its own data dir, broadcasts its latest commitment without the hub. */
  const peerForceCloses = async (nodeKey: Uint8Array, name: string, id: string): Promise<void> => {
    const offline = await createNodeClient({
      nodeKey, hubUrl: hub.url, hubId: hub.hubId, dataDir: path.join(dir, name), role: 'creator', chain: btc.chain,
    })
    t.teardown(() => offline.stop())
    const forced = await offline.forceCloseChannel(id)
    t.match(forced, { ok: true, broadcast: true }, `${name}: the peer broadcast its commitment, alone`)
    await offline.stop()
  }
  t.equal((await rowOf(coopId)).status, 'open', 'an open channel: status open')
  t.equal((await rowOf(coopId)).onchain, null, '… and nothing on-chain to show')

  // ── The cooperative close ──
  const closing = await admin(hub, '/channels/close', { channel_id: coopId })
  t.equal(closing.status, 200, 'the operator closes the first channel cooperatively')
  await waitFor(async () => (await closedOf(coopId)) !== undefined, 'the closing tx in /closed')
  const broadcast = (await closedOf(coopId))!
  t.match(broadcast, { how: 'mutual', closing_height: null, resolved: false }, 'broadcast, not confirmed yet')

  // ── The peer force-closes while it is away from the hub: the hub hears no error ──
  await away.stop()
  await waitFor(async () => (await rowOf(awayId)).link === 'down', 'the hub sees the peer gone')
  await peerForceCloses(awayKey, 'away', awayId)

  await btc.mine(1)
  const tip1 = await btc.chain.tip()
  const spentAt = tip1.ok ? tip1.value.height : 0
  await waitFor(async () => (await rowOf(awayId)).onchain?.closing_txid != null, 'the hub\'s monitor saw the peer\'s commitment')
  const forcedRow = await rowOf(awayId)
  t.equal(forcedRow.status, 'force_closing', 'the force-closed channel shows force_closing')
  t.not(forcedRow.phase, 'normal', '… never normal: the channel failed on the spend (BOLT #5)')
  t.match(
    forcedRow.onchain, { how: 'peer_commitment', closing_height: spentAt, resolved: false }, '… the peer\'s commitment, at its height',
  )
  const coopRow = await rowOf(coopId)
  t.equal(coopRow.status, 'closing', 'the cooperative close confirmed, not final yet: closing')
  t.match(coopRow.onchain, { how: 'mutual', closing_txid: broadcast.closing_txid, closing_height: spentAt, resolved: false })
  t.match(await closedOf(awayId), { how: 'peer_commitment', closing_height: spentAt }, '/closed lists the force close with how it closed')
  t.match(
    await closedOf(coopId),
    { how: 'mutual', closing_height: spentAt, to_local_sat: broadcast.to_local_sat, to_remote_sat: broadcast.to_remote_sat },
  )

  // ── The peer force-closes while the hub is down: the hub finds the spend when it starts ──
  await down.stop()
  await hub.stop()
  await peerForceCloses(downKey, 'down', downId)
  await btc.mine(1)
  const tip2 = await btc.chain.tip()
  const downAt = tip2.ok ? tip2.value.height : 0
  await hub.restart()
  await waitFor(async () => (await rowOf(downId)).onchain?.closing_txid != null, 'the restarted hub\'s monitor saw the commitment')
  const downRow = await rowOf(downId)
  t.equal(downRow.status, 'force_closing', 'closed while the hub was down: force_closing')
  t.not(downRow.phase, 'normal', '… never normal: the channel failed on the spend it found at startup (BOLT #5)')
  t.match(downRow.onchain, { how: 'peer_commitment', closing_height: downAt, resolved: false }, '… the peer\'s commitment, at its height')
  t.match(await closedOf(downId), { how: 'peer_commitment', closing_height: downAt }, '/closed lists it too')

  // The hub's monitor claims its output of each peer's commitment (static_remotekey: at once).
  const sweepOf = new Map<string, { txid: string; pays: number }>()
  for (let i = 0; i < 10 && sweepOf.size < 2; i++) {
    await btc.mine(1)
    await new Promise(resolve => setTimeout(resolve, 300))
    for (const id of [awayId, downId]) {
      const sweeps = (await rowOf(id)).onchain?.sweeps ?? []
      if (sweeps.length === 0 || sweepOf.has(id)) continue
      const tx = await btc.chain.getRawTransaction(sweeps[0]!.txid)
      t.ok(tx.ok && tx.value !== null, 'the sweep is on-chain')
      if (tx.ok && tx.value !== null) sweepOf.set(
        id, { txid: sweeps[0]!.txid, pays: tx.value.tx.outputs.reduce((n, o) => n + Number(o.value), 0) },
      )
    }
  }
  for (const [id, before] of [[awayId, forcedRow], [downId, downRow]] as const) {
    const sweepTx = sweepOf.get(id)
    t.ok(sweepTx !== undefined, `${id.slice(0, 8)}: the admin view shows the hub's sweep`)
    const swept = (await rowOf(id)).onchain!
    t.equal(swept.sweeps[0]!.amount_sat, sweepTx?.pays, '… with what it paid the hub\'s wallet')
    t.equal(swept.swept_sat, sweepTx?.pays, '… and the total swept')
    t.equal(swept.force_close_reason, null, '… and no force close reason: the hub\'s commitment never went on-chain')
    const commitFeeAndSweepFee = (before.local_msat / 1000) - (sweepTx?.pays ?? 0)
    t.ok(
      commitFeeAndSweepFee > 0 && commitFeeAndSweepFee < 5_000,
      `the hub got its balance back minus the commitment and sweep fees (${commitFeeAndSweepFee} sat)`,
    )
  }

  // Final at depth: every channel closed, in the channel machine (stored) and in the view.
  await btc.mine(DEPTH)
  const ids = [coopId, awayId, downId]
  await waitFor(async () => {
    const rows = await channels()
    return ids.every(id => rows.find(r => r.channel_id === id)?.phase === 'closed')
  }, 'every channel closed', 60_000)
  for (const id of ids) {
    const r = await rowOf(id)
    t.equal(r.status, 'closed', `${id.slice(0, 8)}: status closed`)
    t.equal(r.onchain?.resolved, true, `${id.slice(0, 8)}: every output resolved`)
  }
  // The SDK's monitor counts its own finality depth (DEFAULT_FINALITY_DEPTH).
  for (let i = 0; i < 10 && coop.channels()[0]!.phase !== 'closed'; i++) {
    await btc.mine(1)
    await waitFor(() => coop.channels()[0]!.phase === 'closed', 'the SDK channel closed', 1_000).catch(() => {})
  }
  t.equal(coop.channels()[0]!.phase, 'closed', 'the SDK side closes its channel the same way')

  // ── A restart: the same answers, from the store and the monitors ──
  const before = { channels: await channels(), closed: (await admin(hub, '/closed')).body as Closed[] }
  await hub.restart()
  const after = { channels: await channels(), closed: (await admin(hub, '/closed')).body as Closed[] }
  const pick = (rows: Row[]) => rows.map(r => ({
    id: r.channel_id, status: r.status, phase: r.phase, onchain: r.onchain,
  })).sort((a, b) => a.id.localeCompare(b.id))
  t.same(pick(after.channels), pick(before.channels), 'GET /channels says the same after a restart')
  const sortC = (rows: Closed[]) => [...rows].sort((a, b) => a.channel_id.localeCompare(b.channel_id))
  t.same(sortC(after.closed), sortC(before.closed), 'GET /closed says the same after a restart (amounts read from the chain)')
  t.equal(after.closed.length, 3, '… all three closes')
})
