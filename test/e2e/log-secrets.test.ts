// No secret in the hub's log (hub/log.ts), at its most verbose level, over a run with payments (one
// failing), an operator's admin calls, a splice-out and a cooperative close. The secrets are collected
// from where they live (the hub's files and store, the clients' keys) and every log line is searched
// for each: node keys, the wallet seed, channel key seeds, every per-commitment or other secret in the
// stored channel states, every preimage, the admin tokens.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { loadChannelRecords, loadPreimages } from '../../host/channel/record.ts'
import { LevelStore } from '../../host/store/node/level-store.ts'
import { SEED_FILE } from '../../host/wallet/node/file-storage.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../protocol/limits.ts'
import { useBtcd } from '../helpers/btcd.ts'
import {
  HUB_STORE_DIR, HUB_WALLET_DIR, fundHub, openFundedChannel, randomKey, requestHubChannel, startClient, startHub, tempDir, waitFor,
} from '../helpers/hub.ts'

/** Every string value under a field whose name says it is secret, anywhere in `v`. */
function secretFields (v: unknown, out: string[] = [], name = ''): string[] {
  if (typeof v === 'string') { if (/secret|seed|preimage|priv/i.test(name) && v.length >= 32) out.push(v) } else if (Array.isArray(v)) {
    for (const x of v) secretFields(x, out, name)
  } else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) secretFields(x, out, k)
  return out
}

t.test('the hub\'s log holds no private key, seed, preimage, secret or token, at level trace', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('log-secrets')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { logging: { level: 'trace' } } }, t)
  await fundHub(btc, hub, 3_000_000)
  const keys = { platform: randomKey(), creator: randomKey() }
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', nodeKey: keys.platform }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator', nodeKey: keys.creator }, t)
  await openFundedChannel(btc, platform, 1_000_000)
  await requestHubChannel(btc, creator)

  for (let i = 0; i < 5; i++) t.ok(
    (await platform.pay((await creator.createInvoice({ amountMsat: 40_000_000 })).invoice)).ok, `payment ${i}`,
  )
  t.notOk((await platform.pay((await creator.createInvoice({ amountMsat: 5_000_000_000 })).invoice)).ok, 'one too big fails')
  for (const route of ['/info', '/channels', '/stats', '/payments', '/metrics']) t.equal((await hub.adminFetch(route)).status, 200, route)
  await waitFor(() => creator.channels()[0]!.settled, 'settled')
  const out = await creator.spliceOut({ amountSat: 100_000, address: creator.newAddress() })
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  await creator.untilSpliceLocked({ txid: out.txid, timeoutMs: 60_000 })
  await waitFor(() => creator.channels()[0]!.settled, 'settled after the splice')
  t.ok((await creator.close()).ok, 'the creator closes')
  await btc.mine(1)
  await platform.stop()
  await creator.stop()
  await hub.stop()

  // ── The secrets, from where they live ──
  const secrets = new Map<string, string>()
  const add = (what: string, s: string): void => { secrets.set(s.trim().toLowerCase(), what) }
  add('hub node key', fs.readFileSync(path.join(hub.dataDir, 'node-key.hex'), 'utf8'))
  add('hub wallet seed', fs.readFileSync(path.join(HUB_WALLET_DIR(hub), SEED_FILE), 'utf8'))
  add('admin token', hub.adminToken)
  add('read-only token', hub.readToken)
  add('platform node key', Buffer.from(keys.platform).toString('hex'))
  add('creator node key', Buffer.from(keys.creator).toString('hex'))
  const store = await LevelStore.open(HUB_STORE_DIR(hub))
  try {
    for (const r of await loadChannelRecords(store)) {
      add(`channel ${r.state.channelId.slice(0, 8)} key seed`, r.seed)
      for (const s of secretFields(r.state)) add(`channel ${r.state.channelId.slice(0, 8)} state secret`, s)
    }
    for (const [hash, preimage] of await loadPreimages(store)) add(`preimage of ${hash.slice(0, 8)}`, preimage)
  } finally { await store.close() }
  const preimages = [...secrets.values()].filter(w => w.startsWith('preimage')).length
  t.ok(preimages >= 5, `the preimages of the payments (${preimages})`)
  t.ok([...secrets.values()].some(w => w.endsWith('state secret')), 'per-commitment secrets from the channel states')

  // ── Every line of the log ──
  const lines = hub.lines.map(l => JSON.stringify(l).toLowerCase())
  t.ok(lines.length > 20, `the log has ${lines.length} lines`)
  t.ok(lines.some(l => l.includes(hub.hubId)), 'the search finds what is there (the hub id)')
  t.ok(hub.lines.every(l => typeof l.level === 'string' && typeof l.time === 'string' && typeof l.event === 'string'),
    'every line is one event with its level and time')
  const found = [...secrets].filter(([s]) => lines.some(l => l.includes(s))).map(([, what]) => what)
  t.same(found, [], `none of the ${secrets.size} secrets appears in the log`)
})
