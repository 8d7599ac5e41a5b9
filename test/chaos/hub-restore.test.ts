// The hub restored from its own backup (hub/backup/), end to end: a real btcd, the hub process, SDK
// clients over real sockets, the restore run as its own process.
//
// 1. A backup taken mid-traffic (payments in flight), more payments after it, the hub SIGKILLed and
//    restored into a fresh data directory: the hub holds every restored channel (the operator's force
//    close refused, nothing in the mempool or the chain); the platform's channel_reestablish proves the
//    hub behind, the creator's peer sends an `error` before its reestablish (the hub fails the channel,
//    and its monitor wants our commitment: held). Both clients close with their latest commitment, the
//    hub's stale commitments never reach the mempool, and the hub's wallet gains its latest balance in
//    each channel, exactly, less the sweep fees: recovered through the clients, no penalty possible.
// 2. A backup with no traffic after it, restored into a fresh data directory: both channels are proven
//    current by their peers' channel_reestablish, released, and payments go on.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import type { HubClient } from '../../client-sdk/index.ts'
import { wsSocketFactory } from '../../client-sdk/node/socket.ts'
import type { SocketFactory, SocketLike } from '../../client-sdk/transport/socket.ts'
import { loadChannelRecords } from '../../host/channel/record.ts'
import { LevelStore } from '../../host/store/node/level-store.ts'
import { STORE_DIR } from '../../hub/backup/restore.ts'
import { runHubctl } from '../../hub/ctl/main.ts'
import { lazySigner } from '../../hub/channels/channel.ts'
import { channelKeys } from '../../protocol/keys/channel.ts'
import { buildLocal, monitorKeys } from '../../protocol/monitor/index.ts'
import { txid as txidOf } from '../../protocol/tx/index.ts'
import { hexToBytes } from '../../protocol/types.ts'
import { tipHeight, useBtcd, type Btcd } from '../helpers/btcd.ts'
import {
  fundHub, openFundedChannel, randomKey, requestHubChannel, startClient, startHub, tempDir, waitFor, type HubProcess,
} from '../helpers/hub.ts'
import { admin, commitFeerate, hubWalletTotal, mineUntilSpent } from '../e2e/monitor/helpers.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** The hub's channels.toSelfDelay: what a client's to_local waits on the client's commitment (short,
 *  so the test sees the clients sweep). */
const TO_SELF_DELAY = 10
/** BOLT #3: the weight of a commitment transaction without HTLC outputs (static_remotekey). */
const COMMIT_WEIGHT = 724

/** `npm run restore` as its own process (the hub is down). */
function restore (backup: string, dataDir: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/restore.ts', '--backup', backup, '--data-dir', dataDir], {
    cwd: ROOT, encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`restore exited ${r.status}: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>
}

interface StaleCommitment { txid: string; localMsat: number; fundingVout: number }

/** The txids of the hub's own latest commitments in a (stopped) hub's store: what a restored hub must
 *  never broadcast. */
async function hubCommitmentTxids (dataDir: string): Promise<Map<string, StaleCommitment>> {
  const store = await LevelStore.open(path.join(dataDir, STORE_DIR))
  try {
    const out = new Map<string, StaleCommitment>()
    for (const r of await loadChannelRecords(store)) {
      const s = r.state
      const c = s.localCommit!
      const built = buildLocal(s.setup, monitorKeys(channelKeys(hexToBytes(r.seed))), {
        number: c.index, perCommitmentPoint: lazySigner(r.seed).perCommitmentPoint(c.index), spec: c.spec, signature: c.signature,
        htlcSignatures: c.htlcSignatures,
      })
      out.set(s.channelId, { txid: txidOf(built.signedTx), localMsat: c.spec.toLocalMsat, fundingVout: s.setup.funding!.outputIndex })
    }
    return out
  } finally { await store.close() }
}

/** Every txid seen in btcd's mempool while it runs (polled). */
function watchMempool (btc: Btcd): { seen: Set<string>; stop: () => Promise<void> } {
  const seen = new Set<string>()
  let running = true
  const loop = (async () => {
    while (running) {
      const r = await btc.chain.rpc.request('getrawmempool', [], z.array(z.string()), { idempotent: true })
      if (r.ok) for (const txid of r.value) seen.add(txid)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  })()
  return { seen, stop: async () => { running = false; await loop } }
}

/** A socket whose first channel_reestablish is replaced by an `error` for the same channel: the hub
 *  hears the peer fail the channel before it hears where the peer is. */
function errorBeforeReestablish (): SocketFactory {
  let done = false
  return async url => {
    const ws = await wsSocketFactory(url)
    return {
      get readyState () { return ws.readyState },
      get bufferedAmount () { return ws.bufferedAmount },
      send (data: string) {
        const msg = JSON.parse(data) as { type?: string; channel_id?: string }
        if (!done && msg.type === 'channel_reestablish') {
          done = true
          ws.send(JSON.stringify({ type: 'error', channel_id: msg.channel_id, data: 'test: failing the channel before reestablish' }))
          return
        }
        ws.send(data)
      },
      close: (code?: number, reason?: string) => ws.close(code, reason),
      addEventListener: ws.addEventListener.bind(ws),
    } as SocketLike
  }
}

interface Setup {
  dir: string; hubDir: string; hub: HubProcess; platform: HubClient; creator: HubClient; pKey: Uint8Array; cKey: Uint8Array
}

async function setup (t: Test, btc: Btcd, name: string): Promise<Setup> {
  const dir = tempDir(name)
  const hubDir = path.join(dir, 'hub')
  const hub = await startHub({
    dataDir: hubDir, btcd: btc.node.rpc, config: { channels: { finalityDepth: 3, toSelfDelay: TO_SELF_DELAY } },
  }, t)
  await fundHub(btc, hub, 2_000_000)
  const pKey = randomKey()
  const cKey = randomKey()
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', nodeKey: pKey }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator', nodeKey: cKey }, t)
  await openFundedChannel(btc, platform, 400_000)
  await requestHubChannel(btc, creator)
  return { dir, hubDir, hub, platform, creator, pKey, cKey }
}

function payer (t: Test, s: { platform: HubClient; creator: HubClient }): (amountMsat: number) => Promise<void> {
  return async amountMsat => {
    const r = await s.platform.pay((await s.creator.createInvoice({ amountMsat })).invoice)
    t.ok(r.ok, `paid ${amountMsat} msat`)
  }
}

const settled = (s: { platform: HubClient; creator: HubClient }): Promise<void> => waitFor(
  () => s.platform.channels()[0]!.settled && s.creator.channels()[0]!.settled, 'both channels settled',
)

t.test('restored from a backup taken mid-traffic: the hub broadcasts nothing of its own, the clients close, the hub recovers its ' +
  'latest balances exactly', async t => {
  const btc = await useBtcd(t)
  const s = await setup(t, btc, 'chaos-hub-restore-behind')
  const { hub, hubDir } = s
  const pay = payer(t, s)
  await pay(5_000_000)
  // The backup while payments are in flight.
  const burst = [1, 2, 3, 4, 5].map(i => pay(1_000_000 + i * 1_000))
  // Kept away from the hub's data directory, which is lost below: downloaded (hubctl backup --out).
  const res = await hub.adminFetch('/backup', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ download: true }),
  })
  t.equal(res.status, 200, 'POST /backup answers while payments flow')
  const backup = path.join(s.dir, 'hub-backup.jsonl')
  fs.writeFileSync(backup, await res.text(), { mode: 0o600 })
  await Promise.all(burst)
  t.match(JSON.parse(res.headers.get('x-backup-manifest') ?? '{}'), { hub_id: hub.hubId, channels: 2 },
    'the manifest names the hub and its two channels')
  t.ok(hub.lines.some(l => l.event === 'backup_taken'), 'the hub logs the backup')
  await pay(7_000_000)
  await pay(3_000_000)
  await settled(s)
  const latest = { platform: s.platform.channels()[0]!, creator: s.creator.channels()[0]! }
  const feerate = {
    platform: commitFeerate(s.platform, latest.platform.channelId), creator: commitFeerate(s.creator, latest.creator.channelId),
  }
  await s.platform.stop()
  await s.creator.stop()

  // The hub dies; its data directory is lost; the backup comes back into a fresh one.
  await hub.kill()
  fs.renameSync(hubDir, `${hubDir}-lost`)
  const restored = restore(backup, hubDir)
  t.match(restored, { event: 'restored', hub_id: hub.hubId, channels_held: 2 }, 'npm run restore: the data directory, two channels held')
  const stale = await hubCommitmentTxids(hubDir)
  for (const [name, ch] of Object.entries(latest)) {
    t.ok(stale.get(ch.channelId)!.localMsat !== ch.remoteMsat, `${name}: the restored state is older than the channel's latest`)
  }
  const mempool = watchMempool(btc)
  t.teardown(() => mempool.stop())
  const from = await tipHeight(btc) + 1

  await hub.restart()
  t.match(hub.lines.find(l => l.event === 'restored_from_backup'), { channels_unverified: 2 }, 'the hub knows it was restored')
  await waitFor(() => hub.lines.some(l => l.event === 'startup' && l.stage === 'chain_synced'), 'the restored hub synced with the chain')
  for (const ch of Object.values(latest)) {
    const r = await admin(hub, '/channels/force-close', { channel_id: ch.channelId })
    t.equal(r.status, 409, 'the operator\'s force close of a restored channel is refused')
    t.match(r.body.error, /^restored_unverified: /, 'saying why')
  }
  const info = (await admin(hub, '/info')).body as { restored: { channels_held: string[] } | null }
  t.same(info.restored?.channels_held, Object.values(latest).map(c => c.channelId).sort(), 'GET /info lists the held channels')
  const printed: string[] = []
  const code = await runHubctl(['--data-dir', hubDir, 'status'], { stdout: x => printed.push(x), stderr: x => printed.push(x) }, {})
  t.equal(code, 0, 'hubctl status with the restored admin token')
  t.match(printed.join('\n'), /restored:\s+from the backup of .*; 2 channel\(s\) held until their peers reconnect/, 'says the hub is held')
  await btc.mine(1)
  const hubBefore = await hubWalletTotal(hub)

  // The clients come back: the platform as usual, the creator with an `error` before its reestablish.
  const platform = await startClient({ hub, btc, dataDir: path.join(s.dir, 'platform'), role: 'platform', nodeKey: s.pKey }, t)
  const creator = await startClient({
    hub, btc, dataDir: path.join(s.dir, 'creator'), role: 'creator', nodeKey: s.cKey, socketFactory: errorBeforeReestablish(),
  }, t)
  const isHeld = (
    l: Record<string, unknown>,
  ): boolean => l.event === 'restored_commitment_held' && l.channel_id === latest.creator.channelId
  await waitFor(() => hub.lines.some(isHeld), 'the creator channel\'s commitment held')
  const held = hub.lines.find(isHeld)!
  t.equal(held.txid, stale.get(latest.creator.channelId)!.txid, 'the failed channel\'s monitor wants the restored commitment: held')
  await waitFor(async () => {
    const rows = (await admin(hub, '/channels')).body as Array<{ channel_id: string; phase: string }>
    const phase = (id: string): string | undefined => rows.find(r => r.channel_id === id)?.phase
    return phase(latest.platform.channelId) === 'awaiting_remote_close' && phase(latest.creator.channelId) === 'failed'
  }, 'the hub: the platform proved it behind, the creator failed its channel')

  // Each client closes with its latest commitment; the hub sweeps its output from it.
  let expected = 0
  const clientOutputs: Array<{ name: string; client: HubClient; txid: string; vout: number; height: number; sat: number }> = []
  const clients = { platform, creator }
  for (const [name, ch] of Object.entries(latest) as Array<['platform' | 'creator', typeof latest.platform]>) {
    const fee = Math.floor(COMMIT_WEIGHT * feerate[name] / 1000)
    // The hub's output on the client's commitment: its latest balance, less the fee when the hub funded the channel.
    const hubSat = Math.floor(ch.remoteMsat / 1000) - (name === 'creator' ? fee : 0)
    const clientSat = Math.floor(ch.localMsat / 1000) - (name === 'platform' ? fee : 0)
    const commit = await mineUntilSpent(btc, ch.fundingTxid!, stale.get(ch.channelId)!.fundingVout, from)
    t.not(commit.tx.txid, stale.get(ch.channelId)!.txid, `${name}: not the hub's restored commitment`)
    t.same(commit.tx.outputs.map(o => o.value as number).sort((a, b) => a - b), [clientSat, hubSat].sort((a, b) => a - b),
      `${name}: the client's latest commitment, each side's latest balance`)
    const hubVout = commit.tx.outputs.findIndex(o => o.value === hubSat && o.scriptPubKey.startsWith('0014'))
    t.ok(hubVout >= 0, `${name}: the hub's output pays its payment basepoint directly (static_remotekey)`)
    const sweep = await mineUntilSpent(btc, commit.tx.txid, hubVout, commit.height)
    t.equal(sweep.tx.outputs.length, 1, `${name}: the hub sweeps its output`)
    const sweepFee = hubSat - (sweep.tx.outputs[0]!.value as number)
    t.ok(sweepFee > 0 && sweepFee < 2_000, `${name}: sweep fee ${sweepFee} sat`)
    expected += hubSat - sweepFee
    const clientVout = commit.tx.outputs.findIndex(o => o.value === clientSat && o.scriptPubKey.startsWith('0020'))
    clientOutputs.push({ name, client: clients[name], txid: commit.tx.txid, vout: clientVout, height: commit.height, sat: clientSat })
  }
  await btc.mine(1)
  await waitFor(async () => (await hubWalletTotal(hub)) >= hubBefore + expected, 'the hub wallet holding both sweeps')
  t.equal(await hubWalletTotal(hub), hubBefore + expected, 'the hub recovers its latest balance in each channel, less the sweep fees')
  // The clients lose nothing either: each sweeps its to_local once the hub's to_self_delay has passed.
  const clientBefore = clientOutputs.map(c => c.client.balances().onchain.totalSat)
  await btc.mine(TO_SELF_DELAY - 2)
  for (const [i, c] of clientOutputs.entries()) {
    const sweep = await mineUntilSpent(btc, c.txid, c.vout, c.height, 10)
    t.ok(sweep.height - c.height >= TO_SELF_DELAY - 1, `${c.name}: its to_local swept after the delay`)
    const fee = c.sat - (sweep.tx.outputs[0]!.value as number)
    await btc.mine(1)
    await waitFor(() => c.client.balances().onchain.totalSat >= clientBefore[i]! + c.sat - fee, `the ${c.name} wallet holding its sweep`)
    t.equal(c.client.balances().onchain.totalSat, clientBefore[i]! + c.sat - fee, `${c.name}: its latest balance, less its sweep fee`)
  }
  await mempool.stop()
  for (const [id, c] of stale) t.notOk(mempool.seen.has(c.txid), `${id.slice(0, 8)}: the hub's stale commitment never reached the mempool`)
  t.equal(platform.channels()[0]!.channelId, latest.platform.channelId)
  t.equal(creator.channels()[0]!.channelId, latest.creator.channelId)
})

t.test('restored from a current backup: every channel proven current by its peer, released, payments go on', async t => {
  const btc = await useBtcd(t)
  const s = await setup(t, btc, 'chaos-hub-restore-current')
  const pay = payer(t, s)
  await pay(4_000_000)
  await pay(2_000_000)
  await settled(s)
  const before = { platform: s.platform.channels()[0]!, creator: s.creator.channels()[0]! }
  await s.platform.stop()
  await s.creator.stop()
  const taken = await admin(s.hub, '/backup', {})
  t.equal(taken.status, 200, 'backup taken')
  const port = Number(new URL(s.hub.url).port)
  await s.hub.kill()
  const fresh = path.join(s.dir, 'hub-restored')
  restore(String(taken.body.path), fresh)
  const hub = await startHub({ dataDir: fresh, btcd: btc.node.rpc, config: { channels: { finalityDepth: 3 }, transport: { port } } }, t)
  t.equal(hub.hubId, s.hub.hubId, 'the same node key')
  const platform = await startClient({ hub, btc, dataDir: path.join(s.dir, 'platform'), role: 'platform', nodeKey: s.pKey }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(s.dir, 'creator'), role: 'creator', nodeKey: s.cKey }, t)
  await platform.untilReestablished()
  await creator.untilReestablished()
  for (const ch of Object.values(before)) {
    await waitFor(() => hub.lines.some(l => l.event === 'restored_channel_verified' && l.channel_id === ch.channelId),
      'proven current by its peer: released')
    t.pass(`${ch.channelId.slice(0, 8)}: proven current by its peer's channel_reestablish, released`)
  }
  t.same(((await admin(hub, '/info')).body as { restored: { channels_held: string[] } }).restored.channels_held, [],
    'GET /info: no channel held any more')
  const p2 = payer(t, { platform, creator })
  await p2(3_000_000)
  await settled({ platform, creator })
  t.equal(creator.channels()[0]!.localMsat, before.creator.localMsat + 3_000_000, 'the creator received the payment')
  const rows = (await admin(hub, '/channels')).body as Array<{ channel_id: string; phase: string; local_msat: number }>
  t.same(rows.map(r => r.phase), ['normal', 'normal'], 'both channels run')
  t.equal(rows.find(r => r.channel_id === before.creator.channelId)!.local_msat, creator.channels()[0]!.remoteMsat,
    'the hub and the creator agree on the balance')
})
