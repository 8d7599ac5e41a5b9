// `npm start`: the main job on embedded defaults — the whole demo (scripts/demo.ts). With
// `--btcd-only`: just a managed regtest btcd with its data under .data/btcd, funded with 101 blocks,
// printing where it listens, running until Ctrl-C. (`prestart` builds btcd first if it is missing.)
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startBtcd } from '../host/chain/btcd/node.ts'
import { bytesToHex, hexToBytes } from '../protocol/types.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

// `npm start` runs the demo (scripts/demo.ts: btcd, the hub, five SDK clients, payments, closes) now
// that the hub exists; `npm start -- --btcd-only` starts just the regtest node as below.
if (!process.argv.includes('--btcd-only') && fs.existsSync(path.join(root, 'hub/main.ts'))) {
  const { runDemo } = await import('./demo.ts')
  process.exit(await runDemo())
}
const dataDir = path.join(root, '.data', 'btcd')
fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })

// A stable mining key, so the coinbase address is the same on every start (the chain is not:
// regtest btcd starts empty every time).
const keyFile = path.join(dataDir, 'miner.key')
if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, bytesToHex(randomBytes(32)) + '\n', { mode: 0o600 })
const miningKey = hexToBytes(fs.readFileSync(keyFile, 'utf8').trim())

const node = await startBtcd({ dataDir, miningKey })
const chain = node.backend()
const mined = await chain.generate(101)
if (!mined.ok) throw new Error(`could not mine the first blocks: ${mined.error.detail}`)

const { host, port, user, pass } = node.rpc
console.log(`btcd (regtest) pid ${node.pid ?? '?'}, data in ${path.relative(root, dataDir)}/`)
console.log(`  RPC       http://${host}:${port}  user ${user}  password ${pass}`)
console.log(`  websocket ${node.wsUrl}`)
console.log(`  mining to ${node.miner.address} (101 blocks mined; coinbases of heights 1-2 spendable)`)
console.log(
  `  try: .tools/bin/btcctl -C /dev/null --regtest --notls --rpcserver=${host}:${port} --rpcuser=${user} --rpcpass=${pass} getblockcount`
)
console.log('Ctrl-C stops it.')

let stopping = false
async function shutdown (): Promise<void> {
  if (stopping) return
  stopping = true
  await chain.close()
  await node.stop()
  console.log('stopped')
  process.exit(0)
}
process.on('SIGINT', () => { void shutdown() })
process.on('SIGTERM', () => { void shutdown() })
setInterval(() => {}, 1 << 30)
