// client-sdk/README.md "From zero: a platform pays two creators on regtest", step by step as written:
// the hub as its own process on its managed regtest node (the README's command, on a free port), its
// wallet funded by mining, a platform funded by the regtest faucet, its channel opened, two creators
// with hub-funded channels, a payment to each, a split of a sale between them (paid again under its
// key: nothing paid twice), the hub and its node restarted (the same command),
// a payment to each again, every channel closed cooperatively and confirmed by the auto-miner.
//
// The code that plays the user imports the SDK and Node's built-ins only: nothing of hub/ or test/.
// It learns what it needs as the README says: the `listening` line, <data-dir>/btcd-rpc.json and the
// admin API.
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { BtcdChainBackend, createNodeClient, type HubClient } from '../../client-sdk/node.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

interface Listening { ws: string; hub_id: string; rpc: string; btcd_rpc_file: string; btcd_pid: number }

/** `node --import tsx hub/main.ts --data-dir D --auto-mine 1`, on a free port P (`--port P`) rather
 *  than the default 9735 another process may hold: resolves with its `listening` line. */
async function startHub (dataDir: string, port: number): Promise<{ child: ChildProcess; listening: Listening }> {
  const child = spawn(process.execPath, [
    '--import', 'tsx', 'hub/main.ts', '--data-dir', dataDir, '--port', String(port), '--auto-mine', '1',
  ], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8_000) })
  const listening = await new Promise<Listening>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 120 s:\n${stderr}`)), 120_000)
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`the hub exited (${code}) before listening:\n${stderr}`)) })
    createInterface({ input: child.stdout! }).on('line', line => {
      let l: { event?: string } & Partial<Listening>
      try { l = JSON.parse(line) as typeof l } catch { return }
      if (l.event === 'listening') { clearTimeout(timer); resolve(l as Listening) }
    })
  })
  return { child, listening }
}

/** Ctrl-C: SIGINT, and the hub (and its node) stop cleanly. */
async function stopHub (child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  child.kill('SIGINT')
  return await exited
}

/** A POST to the admin API with the token the README reads from <data-dir>/admin.token. */
async function admin (url: string, route: string, body: unknown, hubDir: string): Promise<Record<string, unknown>> {
  const authorization = `Bearer ${fs.readFileSync(path.join(hubDir, 'admin.token'), 'utf8').trim()}`
  const r = await fetch(`${url}${route}`, { method: 'POST', headers: { authorization }, body: JSON.stringify(body) })
  const reply = await r.json() as Record<string, unknown>
  if (!r.ok) throw new Error(`${route}: ${r.status} ${JSON.stringify(reply)}`)
  return reply
}

const newKey = (): string => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

t.test('client-sdk/README.md from zero: a platform funded by the faucet pays two creators, across a restart of the hub and its node, then closes', async t => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-readme-'))
  const hubDir = path.join(home, 'hub')
  const port = await freePort()
  const clients: HubClient[] = []
  let hub = await startHub(hubDir, port)
  t.teardown(async () => {
    for (const c of clients) await c.stop().catch(() => {})
    await stopHub(hub.child)
    fs.rmSync(home, { recursive: true, force: true })
  })

  // ── 1. The listening line and the credentials file ──
  const { ws: hubUrl, hub_id: hubId, rpc: adminUrl } = hub.listening
  t.equal(hubUrl, `ws://127.0.0.1:${port}`, 'the hub listens where it was told')
  t.equal(
    path.resolve(ROOT, hub.listening.btcd_rpc_file), path.join(hubDir, 'btcd-rpc.json'), 'the node\'s login is in <data-dir>/btcd-rpc.json',
  )
  t.equal(fs.statSync(path.join(hubDir, 'btcd-rpc.json')).mode & 0o777, 0o600, 'readable by its owner only')
  const btcdRpc = JSON.parse(fs.readFileSync(path.join(hubDir, 'btcd-rpc.json'), 'utf8')) as {
    host: string; port: number; user: string; pass: string
  }

  // ── 2. Coins for the hub ──
  await admin(adminUrl, '/regtest/mine', { blocks: 101 }, hubDir)

  // ── 3. The app ──
  const platform = await createNodeClient({
    nodeKey: newKey(), hubUrl, hubId, dataDir: path.join(home, 'platform'), btcdRpc, role: 'platform',
  })
  clients.push(platform)
  await platform.connect()
  const faucet = await admin(adminUrl, '/regtest/faucet', { address: platform.newAddress(), amount_sat: 600_000 }, hubDir)
  t.match(faucet, { confirmed: true, amount_sat: 600_000 }, 'the faucet paid the platform, confirmed')
  while (platform.balances().onchain.spendableSat < 600_000) await sleep(200)
  const opened = await platform.openChannel({ capacitySat: 500_000 })
  t.match(opened, { phase: 'normal', capacitySat: 500_000, funder: true }, 'the platform\'s channel is open')

  const creators: HubClient[] = []
  const received = new Map<HubClient, number[]>()
  for (const name of ['alice', 'bob']) {
    const creator = await createNodeClient({ nodeKey: newKey(), hubUrl, hubId, dataDir: path.join(home, name), btcdRpc, role: 'creator' })
    clients.push(creator)
    received.set(creator, [])
    creator.on('payment_received', e => { received.get(creator)!.push(e.amountMsat) })
    await creator.connect()
    const ch = await creator.requestChannel()
    t.match(ch, { phase: 'normal', funder: false }, `${name}'s hub-funded channel is open`)
    creators.push(creator)
  }

  let feesMsat = 0
  const payEach = async (round: number): Promise<void> => {
    for (const [i, creator] of creators.entries()) {
      const { invoice } = await creator.createInvoice({ amountMsat: 1_000_000, memo: `commission #${i}` })
      const r = await platform.pay(invoice, { idempotencyKey: `order-${round}-${i}` })
      if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`)
      feesMsat += r.feeMsat
    }
  }
  await payEach(1)
  t.pass('the platform paid each creator')
  const sale = {
    total: 1_000_000, reference: 'sale 1', idempotencyKey: 'sale-1',
    shares: [{ to: creators[0]!.nodeId, ppm: 700_000 }, { to: creators[1]!.nodeId, ppm: 300_000 }],
  }
  const split = await platform.paySplit(sale)
  if (!split.ok) throw new Error(`${split.reason}: ${split.detail}`)
  feesMsat += split.feeMsat
  t.same(split.legs.map(l => l.amountMsat), [700_000, 300_000], 'the sale was split 70/30')
  t.same(await platform.paySplit(sale), split, 'the same key again: the same split, nothing paid twice')

  // ── 4. Restart the hub and its node ──
  const fundingTxid = opened.fundingTxid!
  const before = { pid: hub.listening.btcd_pid }
  t.equal(await stopHub(hub.child), 0, 'Ctrl-C stops the hub cleanly')
  hub = await startHub(hubDir, port)
  t.equal(hub.listening.hub_id, hubId, 'the same hub')
  t.not(hub.listening.btcd_pid, before.pid, 'its node is a new process')
  t.same(JSON.parse(fs.readFileSync(path.join(hubDir, 'btcd-rpc.json'), 'utf8')), btcdRpc, 'the node\'s login and port are the same')
  const chain = new BtcdChainBackend({ ...btcdRpc, notifications: false, pollMs: 0 })
  const funding = await chain.getRawTransaction(fundingTxid)
  await chain.close()
  t.ok(
    funding.ok && funding.value !== null && funding.value.confirmations > 0, 'the same chain: the platform\'s funding is still confirmed',
  )

  await platform.untilReestablished()
  for (const creator of creators) await creator.untilReestablished()
  await payEach(2)
  t.pass('the platform paid each creator again')

  // ── Close every channel ──
  const onchainBefore = platform.balances().onchain.totalSat
  for (const creator of creators) {
    while (!creator.channels()[0]!.settled) await sleep(50)
    const share = creator === creators[0] ? 700_000 : 300_000
    t.same(received.get(creator), [1_000_000, share, 1_000_000], 'each creator received both payments and its share of the sale')
    t.equal(creator.channels()[0]!.localMsat, 2_000_000 + share, 'and holds them in its channel')
  }
  while (!platform.channels()[0]!.settled) await sleep(50)
  t.equal(
    platform.channels()[0]!.localMsat, 500_000_000 - 4_000_000 - 1_000_000 - feesMsat, 'the platform paid the amounts and the hub\'s fees',
  )
  let platformSat = 0
  for (const client of [platform, ...creators]) {
    const c = await client.close()
    if (!c.ok) throw new Error(c.detail)
    t.match(c.closed[0], { closingTxid: /^[0-9a-f]{64}$/ }, `${client.role}: closed cooperatively`)
    if (client === platform) platformSat = c.closed[0]!.localSat
  }
  while (platform.balances().onchain.totalSat < onchainBefore + platformSat) await sleep(200)
  t.equal(
    platform.balances().onchain.totalSat, onchainBefore + platformSat,
    'the auto-miner confirmed the close: the platform\'s wallet holds its balance',
  )
})
