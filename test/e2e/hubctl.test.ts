// hubctl against a real hub process (hub/ctl/): found through the hub's data directory (admin.url and
// the token files), tables by default and the API's JSON with --json, filters, a close, and each exit
// code: 0 ok, 1 refused by the hub, 2 bad command line, 3 unreachable, 4 token refused, 5 no such route.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { verifyBackupFile } from '../../hub/backup/format.ts'
import { runHubctl } from '../../hub/ctl/main.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../helpers/hub.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

async function hubctl (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await runHubctl(args, { stdout: s => out.push(s), stderr: s => err.push(s) }, env)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

t.test('hubctl: status, channels, payments, peers, close; --json; every exit code', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'hubctl', hubSat: 2_000_000, platformCapacitySat: 500_000, hubConfig: { channels: { fundingSat: 100_000 } },
  })
  const d = ['--data-dir', hub.dataDir]
  t.ok((await platform.pay((await creator.createInvoice({ amountMsat: 12_345_000 })).invoice)).ok, 'a payment')
  t.notOk((await platform.pay((await creator.createInvoice({ amountMsat: 150_000_000 })).invoice)).ok, 'a failed one')

  // The bin entry, as `npx hubctl` runs it.
  const bin = spawnSync(
    process.execPath, [path.join(ROOT, 'hub/ctl/hubctl.mjs'), ...d, 'status'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 },
  )
  t.equal(bin.status, 0, `hubctl.mjs status exits 0 (${bin.stderr})`)
  t.match(bin.stdout, new RegExp(`hub id:\\s+${hub.hubId}`), 'and shows the hub id')
  t.match(bin.stdout, /channels:\s+2 open/, 'its channels')

  const status = await hubctl([...d, '--json', 'status'])
  t.match(JSON.parse(status.out), { info: { hub_id: hub.hubId }, channels_by_status: { open: 2 } }, 'status --json')

  const channels = await hubctl([...d, 'channels'])
  t.equal(channels.code, 0)
  t.match(
    channels.out, /^channel id\s+peer\s+status\s+phase\s+capacity sat\s+hub sat\s+peer sat\s+htlcs\s+link\n-+/, 'a table with a header',
  )
  t.equal(channels.out.split('\n').length, 4, 'two channels under it')
  const creatorRows = JSON.parse((await hubctl([...d, '--json', 'channels', '--peer', creator.nodeId.slice(0, 10)])).out) as
    Array<{ channel_id: string; peer: string; is_funder: boolean }>
  t.match(creatorRows, [{ peer: creator.nodeId, is_funder: true }], '--peer filters (by prefix)')
  t.same(JSON.parse((await hubctl([...d, '--json', 'channels', '--status', 'closed'])).out), [], '--status filters')

  await waitFor(async () => (await hubctl([...d, '--json', 'payments'])).out.includes('temporary_channel_failure'), 'both payments listed')
  const failed = await hubctl([...d, 'payments', '--failed'])
  t.match(failed.out, /^at\s+status\s+amount sat\s+fee msat\s+payee\s+latency ms\s+reason\n/, 'payments --failed: a table')
  t.match(failed.out, /failed\s+150,016\s+.*temporary_channel_failure/, 'the failure with its amount and reason')
  t.notMatch(failed.out, /fulfilled/, 'failures only')
  const peers = JSON.parse((await hubctl([...d, '--json', 'peers'])).out) as Array<{ node_id: string; connected: boolean }>
  t.match(peers.find(p => p.node_id === creator.nodeId), { connected: true, channels: 1 }, 'peers --json')

  // ── Exit codes ──
  const readOnly = ['--admin', String(hub.info.rpc), '--token-file', String(hub.info.read_token_file)]
  const forbidden = await hubctl([...readOnly, 'close', creatorRows[0]!.channel_id])
  t.equal(forbidden.code, 4, 'the read-only token cannot close: exit 4')
  t.match(forbidden.err, /403: authorization: the read-only token cannot POST/)
  t.equal((await hubctl([...readOnly, 'channels'])).code, 0, 'but it reads')
  const wrong = await hubctl(['--admin', String(hub.info.rpc), 'status'], { HUBCTL_TOKEN: 'f'.repeat(64) })
  t.equal(wrong.code, 4, 'an unknown token: exit 4')
  t.equal((await hubctl([...d, 'close', 'abc'])).code, 2, 'a malformed channel id: exit 2')
  t.equal((await hubctl([...d, 'bogus'])).code, 2, 'an unknown command: exit 2')
  t.equal((await hubctl([...d, 'force-close', creatorRows[0]!.channel_id])).code, 2, 'force-close without --yes: exit 2')
  const unknown = await hubctl([...d, 'close', 'ab'.repeat(32)])
  t.equal(unknown.code, 1, `an unknown channel: the hub refuses, exit 1 (${unknown.err})`)
  const down = await hubctl(['--admin', 'http://127.0.0.1:1', '--token-file', String(hub.info.admin_token_file), 'status'])
  t.equal(down.code, 3, 'nothing listening: exit 3')
  t.match(down.err, /cannot reach the hub's admin API at http:\/\/127\.0\.0\.1:1 .*is the hub running\?/)
  // ── Backups (hub/ctl/backup.ts) ──
  const kept = await hubctl([...d, '--json', 'backup'])
  t.equal(kept.code, 0, `backup exits 0 (${kept.err})`)
  const keptAt = (JSON.parse(kept.out) as { path: string; manifest: { hub_id: string; channels: number } })
  t.match(keptAt, { path: new RegExp(`^${hub.dataDir}/backups/hub-backup-`), manifest: { hub_id: hub.hubId, channels: 2 } },
    'backup: kept in the hub\'s data directory, its manifest printed')
  const outFile = path.join(hub.dataDir, '..', 'hubctl-backup.jsonl')
  const sent = await hubctl([...d, 'backup', '--out', outFile])
  t.equal(sent.code, 0, `backup --out exits 0 (${sent.err})`)
  t.match(sent.out, new RegExp(`^backup:\\s+\\S*hubctl-backup\\.jsonl\\nhub id:\\s+${hub.hubId}`), 'backup --out: where, and the manifest')
  t.equal(fs.statSync(outFile).mode & 0o777, 0o600, 'the file has mode 0600')
  t.ok((await verifyBackupFile(outFile)).ok, 'and verifies')
  const again = await hubctl([...d, 'backup', '--out', outFile])
  t.equal(again.code, 2, 'backup --out over an existing file: exit 2, nothing written over')
  const readOnlyBackup = await hubctl([...readOnly, 'backup'])
  t.equal(readOnlyBackup.code, 4, 'the read-only token cannot take a backup (it holds the keys): exit 4')
  const noTls = await hubctl([...d, 'rotate-cert'])
  t.equal(noTls.code, 1, 'rotate-cert on a hub without TLS: refused, exit 1')
  t.match(noTls.err, /does not serve TLS/)
  const settlement = await hubctl([...d, 'settlement', 'status'])
  if (settlement.code !== 0) {
    t.equal(settlement.code, 5, 'a hub without GET /settlement: exit 5')
    t.match(settlement.err, /GET \/settlement: 404: this hub has no such route/, 'saying so')
  } else t.match(settlement.out, /last batches:/, 'settlement status shows the last batches')

  // ── A close ──
  const closing = await hubctl([...d, 'close', creatorRows[0]!.channel_id, '--allow-dust-trim'])
  t.equal(closing.code, 0, `close exits 0 (${closing.err})`)
  t.match(closing.out, new RegExp(`^closing ${creatorRows[0]!.channel_id}: `), 'and says so')
  await waitFor(async () => (JSON.parse((await hubctl([...d, '--json', 'channels', '--status', 'closing'])).out) as unknown[]).length === 1,
    'the channel is closing')
})
