// The hub's command line (hub/cli.ts): flags over a config file into one configuration that
// hub/config.ts checks, `--help`, and the exit codes of a bad command line. One check runs the real
// entry point (tsx hub/main.ts): on a loaded 2-core machine each spawn costs seconds.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, USAGE } from '../../../hub/cli.ts'
import { DEFAULT_HUB_PORT, parseHubConfig } from '../../../hub/config.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const noFile = (f: string): string => { throw new Error(`unexpected read of ${f}`) }

t.test('--help (or -h) asks for the usage, wherever it is', async t => {
  t.same(parseArgs(['--help'], noFile), { kind: 'help' })
  t.same(parseArgs(['-h'], noFile), { kind: 'help' })
  t.same(parseArgs(['--data-dir', 'D', '--help'], noFile), { kind: 'help' }, 'after other flags too')
  t.same(parseArgs(['--data-dir', '--help'], noFile), { kind: 'help' }, 'where a flag\'s value would be')
  t.same(parseArgs(['faucet', '--help'], noFile), { kind: 'help' }, 'after a command')
  t.same(parseArgs(['mine', '-h'], noFile), { kind: 'help' })
  const flags = [
    '--data-dir', '--config', '--btcd-rpc', '--port', '--admin-port', '--fee-base-msat', '--fee-ppm', '--channel-sat', '--min-depth',
    '--hold-ms',
  ]
  for (const flag of flags) {
    t.ok(USAGE.includes(flag), `the usage names ${flag}`)
  }
})

t.test('flags become config fields, over the config file\'s', async t => {
  const file = JSON.stringify({ dataDir: '/from-file', fees: { baseMsat: 5 }, channels: { zeroConf: true } })
  const c = parseArgs(['--config', 'hub.json', '--data-dir', '/d', '--port=9735', '--admin-port', '0', '--fee-ppm', '7',
    '--channel-sat', '500000', '--min-depth', '3', '--hold-ms', '100', '--btcd-rpc', 'http://u:p%40ss@127.0.0.1:18334'],
  f => { t.equal(f, 'hub.json'); return file })
  t.same(c, {
    kind: 'run',
    config: {
      dataDir: '/d', transport: { port: 9735 }, adminPort: 0, fees: { baseMsat: 5, ppm: 7 },
      channels: { zeroConf: true, fundingSat: 500_000, minimumDepth: 3 }, router: { holdMs: 100 },
      btcd: { mode: 'external', host: '127.0.0.1', port: 18334, user: 'u', pass: 'p@ss' },
    },
  })
  t.ok(c.kind === 'run' && parseHubConfig(c.config).ok, 'and hub/config.ts accepts the result')
  const creds = parseArgs(['--btcd-rpc', 'http://127.0.0.1:1', '--btcd-user', 'U', '--btcd-pass', 'P'], noFile)
  t.match(creds, { config: { btcd: { user: 'U', pass: 'P' } } }, 'credentials from --btcd-user/--btcd-pass when the URL has none')
})

t.test('the WebSocket port is 9735 unless configured (0: a free port), and the usage says so', async t => {
  const port = (input: unknown): number | undefined => {
    const r = parseHubConfig(input); return r.ok ? r.config.transport.port : undefined
  }
  t.equal(DEFAULT_HUB_PORT, 9735)
  t.equal(port({ dataDir: '/d' }), 9735, 'no transport settings')
  t.equal(port({ dataDir: '/d', transport: { maxConnections: 10 } }), 9735, 'transport settings without a port')
  t.equal(port({ dataDir: '/d', transport: { port: 0 } }), 0, 'port 0: a free port')
  const c = parseArgs(['--data-dir', '/d', '--port', '19735'], noFile)
  t.equal(c.kind === 'run' ? port(c.config) : undefined, 19_735, '--port')
  t.match(USAGE, /--port N +WebSocket port \(default 9735; 0: any free port\)/)
})

t.test('a malformed command line is refused naming the flag', async t => {
  t.throws(() => parseArgs(['--port'], noFile), /^--port: needs a value$/)
  t.throws(() => parseArgs(['--port', 'many'], noFile), /^--port: must be a number$/)
  t.throws(() => parseArgs(['data'], noFile), /^unexpected argument "data"$/)
})

t.test('the entry point: --help prints the usage and exits 0; a bad flag exits 2 naming it', async t => {
  const run = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'hub/main.ts'), ...args],
      { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 })
  const help = run(['--help'])
  t.equal(help.status, 0, 'exit 0')
  t.equal(help.stdout, USAGE, 'the usage on stdout')
  const bad = run(['--data-dir', '/nonexistent', '--port'])
  t.equal(bad.status, 2, 'exit 2')
  t.match(bad.stderr, /--port: needs a value/, 'stderr names the flag')
})
