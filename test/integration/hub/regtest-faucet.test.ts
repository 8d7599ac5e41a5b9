// The regtest faucet and mining of the admin API, on real hub processes and btcd: the faucet pays any
// regtest address exactly, mining coins to the hub's wallet first when it has none spendable (an
// external regtest node: the hub starts with an empty wallet), and confirms the payment unless asked
// not to; bad requests are refused naming the field; `hub faucet` does the same from the command line.
// /regtest/mine on the managed node pays the hub's wallet, as its documentation says.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { address as baddress, networks } from 'bitcoinjs-lib'
import { BtcdChainBackend } from '../../../host/chain/btcd/backend.ts'
import { regtestSubsidy } from '../../../host/chain/btcd/block-builder.ts'
import { minerFromKey } from '../../../host/chain/btcd/node.ts'
import type { RpcConfig } from '../../../host/chain/btcd/rpc.ts'
import { MAX_FAUCET_SAT } from '../../../protocol/limits.ts'
import { bytesToHex } from '../../../protocol/types.ts'
import { useBtcd } from '../../helpers/btcd.ts'
import { startHub, tempDir, waitFor, type HubProcess } from '../../helpers/hub.ts'

const VERBOSE = process.env.HUB_VERBOSE === '1'
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

async function post (hub: HubProcess, route: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await hub.adminFetch(route, { method: 'POST', body: JSON.stringify(body) })
  return { status: r.status, body: await r.json() as Record<string, unknown> }
}

const someAddress = (): string => minerFromKey(randomBytes(32)).address

t.test('faucet: pays exactly, mining coins to an empty hub wallet first; confirms unless asked not to; refuses bad requests naming the field', async t => {
  const btc = await useBtcd(t)
  const hub = await startHub({ dataDir: path.join(tempDir('faucet'), 'hub'), btcd: btc.node.rpc, verbose: VERBOSE }, t)

  const bad: Array<[unknown, number, RegExp]> = [
    [{ address: someAddress(), amount_sat: 0 }, 400, /^amount_sat: must be at least 1 sat$/],
    [{ address: someAddress(), amount_sat: MAX_FAUCET_SAT + 1 }, 400, /^amount_sat: must be at most 1000000000 sat/],
    [{ address: someAddress(), amount_sat: 1.5 }, 400, /^amount_sat: must be an integer/],
    [{ address: someAddress(), amount_sat: 100 }, 400, /^amount_sat: must be an integer ≥ 294 sat \(dust\)/],
    [{ address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', amount_sat: 10_000 }, 400, /^address: must be a regtest address/],
    [{ address: someAddress() }, 400, /^amount_sat: /],
    [{ address: someAddress(), amount_sat: 10_000, to: 'me' }, 400, /Unrecognized key/],
  ]
  for (const [body, status, error] of bad) {
    const r = await post(hub, '/regtest/faucet', body)
    t.equal(r.status, status, `${JSON.stringify(body)}: ${status}`)
    t.match(String(r.body.error), error, `… ${String(r.body.error)}`)
  }

  const to = someAddress()
  const first = await post(hub, '/regtest/faucet', { address: to, amount_sat: 250_000 })
  t.equal(first.status, 200, `paid (${JSON.stringify(first.body)})`)
  t.equal(first.body.confirmed, true, 'confirmed')
  // One coinbase (50 BTC at this height) and 99 blocks to make it spendable, then the confirming block.
  t.equal(first.body.blocks_mined, 101, 'the empty wallet made the faucet mine: a coinbase, 99 blocks to mature it, one to confirm')
  const tx = await btc.chain.getRawTransaction(String(first.body.txid))
  t.ok(tx.ok && tx.value !== null && tx.value.confirmations >= 1, 'the payment is in a block')
  const out = tx.ok && tx.value !== null ? tx.value.tx.outputs[Number(first.body.vout)] : undefined
  t.same(
    out, { value: 250_000, scriptPubKey: bytesToHex(baddress.toOutputScript(to, networks.regtest)) },
    'it pays exactly amount_sat to the address',
  )

  const second = await post(hub, '/regtest/faucet', { address: to, amount_sat: 40_000 })
  t.equal(second.body.blocks_mined, 1, 'with coins in the wallet, only the confirming block is mined')
  const unconfirmed = await post(hub, '/regtest/faucet', { address: to, amount_sat: 40_000, confirm: false })
  t.same([unconfirmed.status, unconfirmed.body.confirmed, unconfirmed.body.blocks_mined], [200, false, 0], 'confirm: false mines nothing')
  const waiting = await btc.chain.getRawTransaction(String(unconfirmed.body.txid))
  t.equal(waiting.ok && waiting.value?.confirmations, 0, '… and the payment waits in the mempool')

  const mine = await post(hub, '/regtest/mine', { blocks: 1 })
  t.equal(mine.status, 409, 'mining by the admin API is for the managed node only')

  // The command line: `hub faucet --admin URL --token-file F ADDRESS SAT`, the answer's JSON on stdout.
  const cli = (args: string[]): { status: number | null; stdout: string; stderr: string } =>
    spawnSync(
      process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'hub/main.ts'), ...args],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 },
    )
  const viaCli = cli(['faucet', '--admin', String(hub.info.rpc), '--token-file', String(hub.info.admin_token_file), to, '30000'])
  t.equal(viaCli.status, 0, `hub faucet exits 0 (${viaCli.stderr})`)
  const answer = JSON.parse(viaCli.stdout) as { txid: string; amount_sat: number; confirmed: boolean }
  t.same([answer.amount_sat, answer.confirmed], [30_000, true], 'and prints the payment')
  const viaCliTx = await btc.chain.getRawTransaction(answer.txid)
  t.ok(viaCliTx.ok && viaCliTx.value !== null && viaCliTx.value.confirmations >= 1, '… which is in a block')
  const refused = cli([
    'faucet', '--admin', String(hub.info.rpc), '--token-file', String(hub.info.admin_token_file),
    'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', '30000',
  ])
  t.equal(refused.status, 1, 'a refusal exits 1')
  t.match(refused.stderr, /^hub faucet: address: must be a regtest address/, "and prints the hub's error")
})

t.test('/regtest/mine on the managed node: the coinbases pay the hub wallet', async t => {
  const hub = await startHub({ dataDir: path.join(tempDir('mine'), 'hub'), verbose: VERBOSE }, t)
  const info = async (): Promise<{ height: number; wallet: { total: number; immature: number } }> =>
    await (await hub.adminFetch('/info')).json() as { height: number; wallet: { total: number; immature: number } }
  const before = await info()
  const mined = await post(hub, '/regtest/mine', { blocks: 3 })
  t.equal(mined.body.blocks, 3, 'three blocks mined')
  const expected = [1, 2, 3].reduce((s, i) => s + regtestSubsidy(before.height + i), 0)
  await waitFor(async () => (await info()).height === before.height + 3, 'the hub at the new tip', 30_000)
  const after = await info()
  t.equal(after.wallet.total - before.wallet.total, expected, "the hub's wallet gained the three coinbases' subsidy")
  const rpc = JSON.parse(fs.readFileSync(String(hub.info.btcd_rpc_file), 'utf8')) as RpcConfig
  const chain = new BtcdChainBackend({ ...rpc, notifications: false, pollMs: 0 })
  t.teardown(() => chain.close())
  const block = await chain.getBlock(String(mined.body.tip))
  const paid = block.ok && block.value !== null ? block.value.txs[0]!.outputs[0]!.scriptPubKey : ''
  t.equal(
    paid, bytesToHex(baddress.toOutputScript(String(mined.body.coinbase_address), networks.regtest)),
    'the coinbase pays the coinbase_address the route reports',
  )
})
