// The regtest commands around the managed node, without a node: `hub faucet` / `hub mine` command
// lines (hub/cli-admin.ts), the auto-miner's config field and its bounds (hub/config.ts, --auto-mine),
// and the faucet refused on a chain that is not regtest (hub/admin/wallet.ts).
import t from 'tap'
import { parseAdminCommand } from '../../../hub/cli-admin.ts'
import { parseArgs } from '../../../hub/cli.ts'
import { parseHubConfig } from '../../../hub/config.ts'
import { walletCommands } from '../../../hub/admin/wallet.ts'
import { REGTEST_CHAIN_HASH } from '../../../host/chain/chain-hash.ts'

const noFile = (f: string): string => { throw new Error(`unexpected read of ${f}`) }
const ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080'

t.test('hub faucet / hub mine: the command lines', async t => {
  t.same(parseArgs(['faucet', '--admin', 'http://127.0.0.1:4000/', ADDRESS, '150000'], noFile),
    { kind: 'faucet', admin: 'http://127.0.0.1:4000', address: ADDRESS, amountSat: 150_000, confirm: true })
  t.same(parseAdminCommand(['faucet', `${ADDRESS}\n`, '--admin=http://127.0.0.1:4000', '1', '--no-confirm']),
    { kind: 'faucet', admin: 'http://127.0.0.1:4000', address: ADDRESS, amountSat: 1, confirm: false },
    'flags anywhere; the address trimmed')
  t.same(parseAdminCommand(['mine', '--admin', 'http://127.0.0.1:4000', '6']), { kind: 'mine', admin: 'http://127.0.0.1:4000', blocks: 6 })
  const refused: Array<[string[], RegExp]> = [
    [['faucet', ADDRESS, '1000'], /^faucet: --admin URL is required/],
    [['faucet', '--admin', 'ws://127.0.0.1:1', ADDRESS, '1000'], /^--admin: must be an http:\/\/ URL/],
    [['faucet', '--admin', 'nope', ADDRESS, '1000'], /^--admin: not a URL/],
    [['faucet', '--admin', 'http://127.0.0.1:1', ADDRESS, '0'], /^SAT: must be a whole number above 0 \(got "0"\)/],
    [['faucet', '--admin', 'http://127.0.0.1:1', ADDRESS, '1.5'], /^SAT: must be a whole number above 0/],
    [['faucet', '--admin', 'http://127.0.0.1:1', ADDRESS], /^faucet: expects ADDRESS SAT$/],
    [['faucet', '--admin', 'http://127.0.0.1:1', ADDRESS, '5', '--fast'], /^faucet: unknown flag --fast$/],
    [['mine', '--admin', 'http://127.0.0.1:1', '--no-confirm', '1'], /^mine: unknown flag --no-confirm$/],
    [['mine', '--admin', 'http://127.0.0.1:1'], /^mine: expects BLOCKS$/],
    [['mine', '--admin'], /^--admin: needs the admin API URL$/],
  ]
  for (const [argv, error] of refused) t.throws(() => parseAdminCommand(argv), error, argv.join(' '))
})

t.test('btcd.autoMineSeconds: off by default, bounded, managed node only; --auto-mine sets it', async t => {
  const parsed = parseHubConfig({ dataDir: '/d' })
  t.same(parsed.ok && parsed.config.btcd, { mode: 'managed' }, 'off by default')
  const ok = parseHubConfig({ dataDir: '/d', btcd: { mode: 'managed', autoMineSeconds: 5 } })
  t.ok(ok.ok && ok.config.btcd.mode === 'managed' && ok.config.btcd.autoMineSeconds === 5, '5 s accepted')
  for (const [v, why] of [
    [0, /btcd\.autoMineSeconds: Too small/], [3_601, /btcd\.autoMineSeconds: Too big/], [1.5, /btcd\.autoMineSeconds: must be an integer/],
  ] as const) {
    const r = parseHubConfig({ dataDir: '/d', btcd: { mode: 'managed', autoMineSeconds: v } })
    t.match(r.ok ? '' : r.error, why, `${v} refused, naming the field`)
  }
  const external = parseHubConfig({
    dataDir: '/d', btcd: { mode: 'external', host: 'h', port: 1, user: 'u', pass: 'p', autoMineSeconds: 1 },
  })
  t.match(external.ok ? '' : external.error, /btcd: Unrecognized key: "autoMineSeconds"/, 'not with an external node')
  t.match(
    parseArgs(['--data-dir', '/d', '--auto-mine', '2'], noFile), { config: { btcd: { mode: 'managed', autoMineSeconds: 2 } } },
    '--auto-mine',
  )
})

t.test('the faucet is refused on a chain that is not regtest, naming it', async t => {
  const mainnet = '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000'
  const cmds = walletCommands({
    wallet: { newAddress: () => ({ address: ADDRESS, script: new Uint8Array() }) }, regtest: undefined, faucet: undefined,
    chainHash: mainnet,
  })
  const r = await cmds.faucet(ADDRESS, 1_000, true)
  t.equal(r.status, 409, '409')
  t.same(r.body, { error: `faucet: only on a regtest chain; this node's chain_hash is ${mainnet}` }, 'the error says why')
  t.equal(cmds.mine, undefined, 'and there is no mining')
  t.not(REGTEST_CHAIN_HASH, mainnet, '(the regtest chain hash is another)')
})
