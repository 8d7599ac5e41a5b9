// The hub's command line: flags and an optional config file become one configuration (checked by
// hub/config.ts), and the process's lifecycle around a running hub: one `listening` line when it
// serves, JSON log lines on stdout (hub/log.ts), a clean stop on SIGTERM/SIGINT, exit 70 when it must stop loudly.
import fs from 'node:fs'
import { ADMIN_USAGE, isAdminCommand, parseAdminCommand, runAdminCommand, type AdminCommand } from './cli-admin.ts'
import { DEFAULT_HUB_PORT, parseHubConfig, type HubConfig, type HubConfigInput } from './config.ts'
import { createHubLogger } from './log.ts'

export const USAGE = `usage: tsx hub/main.ts --data-dir D [options]

  --data-dir D          everything durable: LevelDB store, wallet, node key (required, here or in --config)
  --config FILE         JSON settings (hub/config.ts); flags below override its fields
  --btcd-rpc URL        an external btcd, http://user:pass@host:port (default: a managed regtest btcd)
  --btcd-user U         RPC user, if not in the URL
  --btcd-pass P         RPC password, if not in the URL
  --port N              WebSocket port (default ${DEFAULT_HUB_PORT}; 0: any free port)
  --admin-port N        admin API port, loopback only (0: any free port)
  --fee-base-msat N     fee per forwarded payment (BOLT #7 fee_base_msat)
  --fee-ppm N           proportional fee (BOLT #7 fee_proportional_millionths)
  --channel-sat N       size of the channels the hub funds
  --min-depth N         confirmations the hub asks for before a channel is used
  --hold-ms N           how long a payment for an offline payee is held
  --auto-mine S         managed regtest node: mine a block every S seconds while transactions wait
  --help                print this and exit

When it serves it prints one line:
  {"event":"listening","ws":"ws://127.0.0.1:PORT","hub_id":"02..","rpc":"http://127.0.0.1:PORT",
   "btcd_rpc":{"host":..,"port":..,"user":..,"pass":..},"btcd_rpc_file":"D/btcd-rpc.json","btcd_pid":N}
(rpc is the admin API, hub/admin/server.ts: GET / lists its routes; btcd_* only with the managed node: btcd_rpc, also in the
file (mode 0600), is the client SDK's btcdRpc option); later lines are JSON log events. SIGTERM or
SIGINT stops it cleanly (exit 0). A failed durable write or a wiped chain prints {"event":"fatal",...}
and exits 70. A bad flag or configuration exits 2, naming it.

Commands to a running hub:
${ADMIN_USAGE}
`

/** What the command line asks for. */
export type Command = { kind: 'help' } | { kind: 'run'; config: HubConfigInput } | AdminCommand

/** Flags (`--name value` or `--name=value`) merged over the config file's fields. Throws an Error
 *  naming the flag when one is malformed; the merged result is checked by hub/config.ts. */
export function parseArgs (argv: readonly string[], readFile: (file: string) => string = f => fs.readFileSync(f, 'utf8')): Command {
  // Asked for help anywhere (after a flag that takes a value, after a command): the usage, nothing else.
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' }
  if (isAdminCommand(argv)) return parseAdminCommand(argv)
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(a)}`)
    const eq = a.indexOf('=')
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1))
    else { const v = argv[++i]; if (v === undefined) throw new Error(`${a}: needs a value`); flags.set(a.slice(2), v) }
  }
  const file = flags.get('config')
  const base = file !== undefined ? JSON.parse(readFile(file)) as Record<string, unknown> : {}
  const config: Record<string, unknown> = { ...base }
  const num = (name: string): number | undefined => {
    const v = flags.get(name)
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isFinite(n)) throw new Error(`--${name}: must be a number`)
    return n
  }
  const dataDir = flags.get('data-dir'); if (dataDir !== undefined) config.dataDir = dataDir
  const rpc = flags.get('btcd-rpc')
  if (rpc !== undefined) {
    const u = new URL(rpc)
    config.btcd = {
      mode: 'external', host: u.hostname, port: Number(u.port),
      user: decodeURIComponent(u.username || flags.get('btcd-user') || ''),
      pass: decodeURIComponent(u.password || flags.get('btcd-pass') || ''),
    }
  }
  const transport = { ...(config.transport as object ?? {}) } as Record<string, unknown>
  if (num('port') !== undefined) transport.port = num('port')
  config.transport = transport
  if (num('admin-port') !== undefined) config.adminPort = num('admin-port')
  const fees = { ...(config.fees as object ?? {}) } as Record<string, unknown>
  if (num('fee-base-msat') !== undefined) fees.baseMsat = num('fee-base-msat')
  if (num('fee-ppm') !== undefined) fees.ppm = num('fee-ppm')
  if (Object.keys(fees).length > 0) config.fees = fees
  const channels = { ...(config.channels as object ?? {}) } as Record<string, unknown>
  if (num('channel-sat') !== undefined) channels.fundingSat = num('channel-sat')
  if (num('min-depth') !== undefined) channels.minimumDepth = num('min-depth')
  if (Object.keys(channels).length > 0) config.channels = channels
  if (num('hold-ms') !== undefined) config.router = { holdMs: num('hold-ms') }
  if (num('auto-mine') !== undefined) config.btcd = { ...(config.btcd as object ?? { mode: 'managed' }), autoMineSeconds: num('auto-mine') }
  return { kind: 'run', config: config as HubConfigInput }
}

/** What the command line runs: a hub that serves until stop(). */
export interface Serving {
  wsUrl: string; hubId: string; adminUrl: string
  /** More fields of the `listening` line (the managed node's RPC login). */
  listening?: Record<string, unknown>
  stop (): Promise<void>
}
export type Log = (event: Record<string, unknown>) => void
/** `fatal` is called (once) when the hub must stop loudly. */
export type StartHub = (config: HubConfig, log: Log, fatal: (why: string, detail: unknown) => void) => Promise<Serving>

/** Runs the process: parse, start, print `listening`, stop on a signal. */
export async function runFromCommandLine (argv: readonly string[], start: StartHub): Promise<void> {
  // Until the configuration names the log level: info.
  let logger = createHubLogger()
  const line: Log = o => { logger.log(o) }
  const fatal = (why: string, detail: unknown): void => {
    line({ event: 'fatal', reason: why, detail: String(detail) })
    process.stderr.write(`HUB STOPPED: ${why}: ${String(detail)}\n`)
    process.exit(70)
  }
  let command: Command
  try {
    command = parseArgs(argv)
  } catch (e) {
    process.stderr.write(`hub: ${(e as Error).message}\n(--help lists the flags)\n`)
    process.exit(2)
  }
  if (command.kind === 'help') { process.stdout.write(USAGE); return }
  if (command.kind === 'faucet' || command.kind === 'mine') {
    process.exit(await runAdminCommand(command, s => process.stdout.write(s + '\n'), s => process.stderr.write(s + '\n')))
  }
  const parsed = parseHubConfig(command.config)
  if (!parsed.ok) { process.stderr.write(`hub: config: ${parsed.error}\n`); process.exit(2) }
  logger = createHubLogger(parsed.config.logging.level)
  // The signals are ours from before the start: one that comes while the hub starts stops it as soon
  // as it serves, cleanly, its managed node with it (without a listener, the signal would end the
  // process at once, leaving the node to its watchdog).
  let hub: Serving | undefined
  let signalled = false
  let stopping = false
  const stop = (): void => {
    if (hub === undefined || stopping) return
    stopping = true
    void hub.stop().then(
      () => { line({ event: 'stopped' }); process.exit(0) },
      e => { process.stderr.write(`hub: stop: ${String(e)}\n`); process.exit(1) },
    )
  }
  const onSignal = (): void => { signalled = true; stop() }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  hub = await start(parsed.config, line, fatal)
  line({ event: 'listening', ws: hub.wsUrl, hub_id: hub.hubId, rpc: hub.adminUrl, ...hub.listening })
  if (signalled) stop()
}
