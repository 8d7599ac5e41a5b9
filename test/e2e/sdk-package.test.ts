// The SDK is an installable package (client-sdk/package.json, `npm run build:sdk`): built to JavaScript
// with type declarations, packed with `npm pack`, installed from the tarball into a scratch project in
// the system's temp directory (outside the repository, so nothing resolves back into it), where a
// plain-JavaScript platform pays a creator through a real hub process on a real regtest btcd. The
// test's own helpers only start btcd and the hub, fund the hub, pay the faucet coin the app asks for
// and keep mining; the app itself knows the package and nothing else.
//
// The install runs `npm ci --offline` over a lockfile cut from the repository's (the same pinned
// versions the repository installed, so npm's cache has every tarball after `npm ci`); with a cache
// that lacks one, it falls back to `npm ci --prefer-offline` (network).
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, startHub, tempDir } from '../helpers/hub.ts'

const run = promisify(execFile)
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SDK_DIR = path.join(ROOT, 'client-sdk')
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

interface LockEntry {
  version: string; integrity?: string; dev?: boolean; dependencies?: Record<string, string>; optionalDependencies?: Record<string,
  string>; [k: string]: unknown,
}

/** The repository lockfile's entries the SDK's dependencies need, at the same paths (so each package
 *  resolves its dependencies as it does in the repository), for a project that depends on `tarball`. */
function scratchLock (
  sdk: { name: string; version: string; dependencies: Record<string, string> }, tarball: string, integrity: string,
): unknown {
  const root = (JSON.parse(fs.readFileSync(
    path.join(ROOT, 'package-lock.json'), 'utf8',
  )) as { packages: Record<string, LockEntry> }).packages
  const out: Record<string, LockEntry> = {}
  const resolve = (from: string, name: string): string => {
    for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf('/node_modules/')))) {
      const p = `${base === '' ? '' : `${base}/`}node_modules/${name}`
      if (root[p] !== undefined) return p
      if (base === '') throw new Error(`the repository's lockfile has no ${name} for ${from || 'the root'}`)
    }
  }
  const visit = (from: string, deps: Record<string, string> | undefined): void => {
    for (const name of Object.keys(deps ?? {})) {
      const p = resolve(from, name)
      const e = root[p]!
      if (e.dev === true) throw new Error(`${p} is a dev dependency of the repository, not installed for the SDK`)
      if (out[p] !== undefined) continue
      out[p] = { ...e, resolved: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${e.version}.tgz` }
      visit(p, { ...e.dependencies, ...e.optionalDependencies })
    }
  }
  visit('', sdk.dependencies)
  return {
    name: 'scratch-platform', lockfileVersion: 3, requires: true,
    packages: {
      '': { name: 'scratch-platform', dependencies: { [sdk.name]: `file:${tarball}` } },
      [`node_modules/${sdk.name}`]: { version: sdk.version, resolved: `file:${tarball}`, integrity, dependencies: sdk.dependencies },
      ...out,
    },
  }
}

/** The platform app, as a newcomer writes it from client-sdk/README.md: plain JavaScript, the package only. */
const APP = `// A platform pays a creator through the hub.
import crypto from 'node:crypto'
import { createNodeClient } from 'micropayout-client-sdk/node'

const { hubUrl, hubId, btcdRpc, dataDir } = JSON.parse(process.argv[2])
const say = o => process.stdout.write(JSON.stringify(o) + '\\n')
const nodeKey = () => crypto.randomBytes(32).toString('hex')

const creator = await createNodeClient({ nodeKey: nodeKey(), hubUrl, hubId, dataDir: dataDir + '/creator', btcdRpc, role: 'creator' })
const received = new Promise(resolve => creator.on('payment_received', e => resolve(e)))
await creator.connect()
await creator.requestChannel()

const platform = await createNodeClient({ nodeKey: nodeKey(), hubUrl, hubId, dataDir: dataDir + '/platform', btcdRpc, role: 'platform' })
await platform.connect()
say({ event: 'fund_me', address: platform.newAddress(), sat: 300000 })
while (platform.balances().onchain.spendableSat < 300000) await new Promise(resolve => setTimeout(resolve, 100))
await platform.openChannel({ capacitySat: 200000 })

const { invoice } = await creator.createInvoice({ amountMsat: 25000, memo: 'commission #42' })
const paid = await platform.pay(invoice + '\\n', { idempotencyKey: 'order-42' })
const e = await received
const settled = () => platform.channels()[0].settled && creator.channels()[0].settled
while (!settled()) await new Promise(resolve => setTimeout(resolve, 50))
say({
  event: 'done', paid, received: { id: e.id, amountMsat: e.amountMsat, memo: e.memo },
  platform: platform.channels()[0], creator: creator.channels()[0],
})
await platform.stop()
await creator.stop()
`

/** A TypeScript user of the package: checked against its declarations only. */
const TYPED = `import { createNodeClient, ClientError, type PayResult, type HubClient } from 'micropayout-client-sdk/node'
import { CLIENT_FAILURE_REASONS, type ChainBackend } from 'micropayout-client-sdk'
export async function pay (client: HubClient, invoice: string): Promise<PayResult> {
  return await client.pay(invoice, { idempotencyKey: 'k' })
}
export const reasons: readonly string[] = CLIENT_FAILURE_REASONS
export const isClientError = (e: unknown): boolean => e instanceof ClientError && e.reason === 'funding_not_confirmed'
export type Chain = ChainBackend
export const make = createNodeClient
`

t.test('the SDK builds, packs without tests or hub code, installs from its tarball outside the repository, and a plain-JavaScript platform pays a creator with it', async t => {
  // ── Build and pack ──
  let started = Date.now()
  await run(NPM, ['run', '--silent', 'build:sdk'], { cwd: ROOT })
  const buildMs = Date.now() - started
  for (const f of ['index.js', 'index.d.ts', 'node.js', 'node.d.ts']) t.ok(
    fs.existsSync(path.join(SDK_DIR, 'dist/client-sdk', f)), `built dist/client-sdk/${f}`,
  )
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-package-'))
  t.teardown(() => { fs.rmSync(scratch, { recursive: true, force: true }) })
  const rel = path.relative(ROOT, scratch)
  t.ok(rel.startsWith('..') || path.isAbsolute(rel), `the scratch project (${scratch}) is outside the repository`)
  const packed = JSON.parse((await run(NPM, ['pack', '--json', '--pack-destination', scratch], { cwd: SDK_DIR })).stdout) as Array<{
    filename: string; integrity: string; size: number; unpackedSize: number; files: Array<{ path: string }>
  }>
  const pack = packed[0]!
  const files = pack.files.map(f => f.path)
  t.same(
    files.filter(f => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md'), [],
    'nothing but the build, package.json and the README',
  )
  const notSdk = (f: string): boolean => /^dist\/(hub|test|scripts)\//.test(f) || /\.test\.|\/fixtures\/|\/helpers\//.test(f)
  t.same(files.filter(notSdk), [], 'no hub, test or script file')
  t.same(files.filter(f => !/\.(js|d\.ts)$/.test(f) && f.startsWith('dist/')), [], 'the build is JavaScript and declarations only')
  t.ok(files.includes('dist/client-sdk/node.d.ts') && files.includes('dist/client-sdk/index.js'), 'both entries with their declarations')
  t.comment(`build ${(buildMs / 1000).toFixed(1)} s; package ${pack.filename}: ${(pack.size / 1024).toFixed(0)} KiB packed, ` +
    `${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${files.length} files`)

  // ── Install into the scratch project ──
  const sdk = JSON.parse(fs.readFileSync(path.join(SDK_DIR, 'package.json'), 'utf8')) as {
    name: string; version: string; dependencies: Record<string, string>,
  }
  const app = path.join(scratch, 'app')
  fs.mkdirSync(app)
  fs.renameSync(path.join(scratch, pack.filename), path.join(app, pack.filename))
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: 'scratch-platform', private: true, type: 'module', dependencies: { [sdk.name]: `file:${pack.filename}` },
    // classic-level (LevelDB) ships prebuilt binaries; its install script only checks for them.
    allowScripts: { 'classic-level': true },
  }, null, 2))
  fs.writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify(scratchLock(sdk, pack.filename, pack.integrity), null, 2))
  started = Date.now()
  let how = 'npm ci --offline'
  try {
    await run(NPM, ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: app })
  } catch (e) {
    if (!/ENOTCACHED/.test(String((e as { stderr?: string }).stderr ?? e))) throw e
    how = 'npm ci --prefer-offline (a tarball was not in npm\'s cache)'
    await run(NPM, ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app })
  }
  t.comment(`install: ${how}, ${((Date.now() - started) / 1000).toFixed(1)} s, ${fs.readdirSync(path.join(app, 'node_modules')).length} ` +
    `entries in node_modules`)
  const installed = path.join(app, 'node_modules', sdk.name)
  t.ok(
    fs.existsSync(path.join(installed, 'dist/client-sdk/node.js')) && !fs.lstatSync(installed).isSymbolicLink(),
    'installed from the tarball (a copy, not a link to the repository)',
  )

  // ── Its declarations serve a TypeScript user ──
  fs.writeFileSync(path.join(app, 'typed.ts'), TYPED)
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: {
    strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: [],
  }, files: ['typed.ts'] }))
  const tsc = await run(
    process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app },
  ).then(() => '', (e: { stdout?: string }) => e.stdout ?? String(e))
  t.equal(tsc, '', 'a TypeScript file using the package type-checks against its declarations')

  // ── A platform pays a creator with it, against a real hub on a real btcd ──
  const btc = await useBtcd(t)
  const dir = tempDir('sdk-package-run')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await fundHub(btc, hub, 2_000_000)
  fs.writeFileSync(path.join(app, 'platform.mjs'), APP)
  const config = {
    hubUrl: hub.url, hubId: hub.hubId,
    btcdRpc: { host: btc.node.rpc.host, port: btc.node.rpc.port, user: btc.node.rpc.user, pass: btc.node.rpc.pass },
    dataDir: path.join(scratch, 'data'),
  }
  const child = spawn(process.execPath, ['platform.mjs', JSON.stringify(config)], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8_000) })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  // Blocks keep coming while the app runs, as an auto-miner would: its fundings confirm.
  let mining = true
  const miner = (async () => { while (mining) { await btc.mine(1); await new Promise(resolve => setTimeout(resolve, 500)) } })()
  let done: Record<string, unknown> | undefined
  for await (const line of createInterface({ input: child.stdout })) {
    const msg = JSON.parse(line) as Record<string, unknown>
    if (msg.event === 'fund_me') await btc.faucet(String(msg.address), Number(msg.sat))
    if (msg.event === 'done') done = msg
  }
  const code = await exited
  mining = false
  await miner
  t.equal(code, 0, `the app exited cleanly${code === 0 ? '' : `:\n${stderr}`}`)
  t.match(done, {
    paid: { ok: true, amountMsat: 25_000 },
    received: { id: /^payment_received:[0-9a-f]{64}$/, amountMsat: 25_000, memo: 'commission #42' },
    creator: { phase: 'normal', localMsat: 25_000 },
    platform: { phase: 'normal', capacitySat: 200_000 },
  }, 'the platform paid, the creator received 25 sat')
  const paid = done?.paid as { feeMsat: number } | undefined
  const platformMsat = (done?.platform as { localMsat: number } | undefined)?.localMsat
  t.equal(platformMsat, 200_000_000 - 25_000 - (paid?.feeMsat ?? NaN), 'the platform\'s balance moved by the amount and the hub fee')
})
