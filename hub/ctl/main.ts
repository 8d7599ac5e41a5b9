// hubctl: the operator's command line for a running hub, through its admin API only (never its store).
// `hubctl --help` lists the commands, `hubctl <command> --help` their flags; exit codes: EXIT in
// hub/ctl/client.ts (the README's "Operating the hub" lists them).
import { Command, CommanderError, Option } from 'commander'
import path from 'node:path'
import { AdminClient, CtlError, DEFAULT_DATA_DIR, EXIT, resolveTarget, type TargetOptions } from './client.ts'
import * as cmd from './commands.ts'

export interface Io { stdout (s: string): void; stderr (s: string): void }

const whole = (name: string) => (v: string): number => {
  if (!/^[1-9][0-9]*$/.test(v) || !Number.isSafeInteger(Number(v))) throw new CtlError(
    EXIT.usage, `${name}: must be a whole number above 0 (got ${JSON.stringify(v)})`,
  )
  return Number(v)
}
const hex64 = (name: string) => (v: string): string => {
  if (!/^[0-9a-f]{64}$/.test(v)) throw new CtlError(EXIT.usage, `${name}: must be 32 bytes of lowercase hex (got ${JSON.stringify(v)})`)
  return v
}

/** Runs hubctl with `argv` (without node and the script); resolves with the exit code. */
export async function runHubctl (argv: readonly string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const program = new Command('hubctl')
  program
    .description('Operate a running hub through its admin API (tables by default, --json for scripts).')
    .option('--admin <url>', 'the admin API (the listening line\'s "rpc"; default: HUBCTL_URL, or <data-dir>/admin.url)')
    .option('--data-dir <dir>', 'the hub\'s data directory: its admin.url and token files (default: HUB_DATA_DIR or .data/hub)')
    .option('--token-file <file>', 'the token to send (default: HUBCTL_TOKEN, or <data-dir>/admin.token, else read.token)')
    .option('--json', 'print the API\'s JSON instead of tables', false)
    .exitOverride()
    .configureOutput({ writeOut: s => io.stdout(s.replace(/\n$/, '')), writeErr: s => io.stderr(s.replace(/\n$/, '')) })
    .addHelpText('after', `
Exit codes: 0 ok, 1 the hub refused (its error is printed), 2 bad command line, 3 hub unreachable or no
URL/token, 4 token refused (401) or read-only token for a change (403), 5 route not on this hub / not
supported yet, 6 audit verify: the log does not verify.`)

  const client = (): AdminClient => new AdminClient(resolveTarget(program.opts<TargetOptions>(), env))
  const out = (): cmd.Out => ({
    json: program.opts<{ json: boolean }>().json,
    print: s => io.stdout(s),
    progress: s => io.stderr(s),
  })

  program.command('status').description('the hub, its wallet, channels and payment figures (GET /info, /stats, /channels)')
    .action(async () => cmd.status(client(), out()))
  program.command('peers').description('nodes with channels, connected or not (GET /peers)').action(async () => cmd.peers(client(), out()))
  program.command('channels').description('channels with balances and phase (GET /channels)')
    .option('--status <status>', 'only this status: opening | open | closing | force_closing | closed | abandoned')
    .option('--phase <phase>', 'only this phase of the channel machine (e.g. normal, quiescent, shutting_down)')
    .option('--peer <node_id>', 'only this peer (a prefix of its node id)')
    .action(async (o: cmd.ChannelFilter) => cmd.channels(client(), out(), o))
  program.command('payments').description('the latest payments, newest first; --failed with their reasons (GET /payments)')
    .option('--failed', 'failures only', false)
    .option('--limit <n>', 'at most this many (1..200)', whole('--limit'), 50)
    .action(async (o: { failed: boolean; limit: number }) => cmd.payments(client(), out(), o))
  program.command('fees').description('fees earned in all (GET /stats) and by period (GET /fees)')
    .option('--period <period>', 'day | week | month (the fee ledger\'s periods)')
    .action(async (o: { period?: string }) => cmd.fees(client(), out(), o.period))

  const settle = program.command('settle').description('settlement of payouts to the chain')
  settle.command('now').description('start a settlement batch now and follow it until it confirms (POST /settlement/run, GET /settlement)')
    .option('--no-wait', 'return once the batch is started')
    .action(async (o: { wait: boolean }) => cmd.settleNow(client(), out(), o.wait))
  program.command('settlement').description('settlement schedule, batch in progress and last batches (GET /settlement)')
    .argument('[what]', 'status', 'status')
    .action(async (what: string) => {
      if (what !== 'status') throw new CtlError(EXIT.usage, `settlement: unknown subcommand ${JSON.stringify(what)} (settlement status)`)
      await cmd.settlementStatus(client(), out())
    })

  program.command('close').description('cooperative close of a channel (POST /channels/close)')
    .argument('<channel_id>', 'the channel (64 hex)', hex64('channel_id'))
    .option('--allow-dust-trim', 'close even if an output is left out as dust', false)
    .action(async (id: string, o: { allowDustTrim: boolean }) => cmd.close(client(), out(), id, o.allowDustTrim))
  program.command('force-close').description('fail a channel and broadcast the hub\'s commitment (POST /channels/force-close)')
    .argument('<channel_id>', 'the channel (64 hex)', hex64('channel_id'))
    .addOption(new Option('--yes', 'confirm: a force close locks the hub\'s funds for to_self_delay blocks').default(false))
    .action(async (id: string, o: { yes: boolean }) => {
      if (!o.yes) throw new CtlError(EXIT.usage, 'force-close: add --yes (the hub\'s side stays locked for to_self_delay blocks)')
      await cmd.forceClose(client(), out(), id)
    })

  const policy = program.command('policy').description('accounts\' payout policies')
  policy.command('list').description('every policy (GET /policies)').action(async () => cmd.policyList(client(), out()))
  policy.command('show').description('an account\'s policy (GET /accounts/:node_id/policy)').argument('<node_id>')
    .action(async (id: string) => cmd.policyShow(client(), out(), id))
  policy.command('set').description('set an account\'s policy (POST /accounts/:node_id/policy; the hub checks it)')
    .argument('<node_id>').argument('<policy_json>', 'the policy as JSON')
    .action(async (id: string, json: string) => cmd.policySet(client(), out(), id, json))

  const audit = program.command('audit').description('the hub\'s hash-chained audit log')
  audit.command('export').description('the log as JSON lines (GET /audit/export)')
    .option('--from <n>').option('--to <n>').option('--out <file>', 'write to a file instead of stdout')
    .action(async (o: { from?: string; to?: string; out?: string }) => cmd.auditExport(client(), out(), o))
  audit.command('anchors').description(
    'the log\'s anchors on the chain (GET /audit/anchors)'
  ).action(async () => cmd.auditAnchors(client(), out()))
  audit.command('anchor').description('anchor the log now (POST /audit/anchor)').action(async () => cmd.auditAnchor(client(), out()))
  audit.command('verify').description('check an exported log and its anchors against a btcd, without the hub')
    .argument('<file>', 'an export (hubctl audit export --out FILE)')
    .option('--btcd-rpc-file <file>', 'the btcd login, {host, port, user, pass} (default: <data-dir>/btcd-rpc.json)')
    .option('--min-depth <n>', 'confirmations an anchor needs', whole('--min-depth'), 6)
    .action(async (file: string, o: { btcdRpcFile?: string; minDepth: number }) => {
      const dataDir = program.opts<TargetOptions>().dataDir ?? env.HUB_DATA_DIR ?? DEFAULT_DATA_DIR
      const { auditVerify } = await import('./audit-verify.ts')
      await auditVerify(out(), file, o.btcdRpcFile ?? path.join(dataDir, 'btcd-rpc.json'), o.minDepth)
    })

  program.command('backup').description(
    'an online, consistent backup of the hub: store, node key, wallet, tokens, config (POST /backup; restore: npm run restore)',
  ).option('--out <file>', 'write the backup here (mode 0600) instead of the hub\'s <data-dir>/backups/')
    .action(async (o: { out?: string }) => {
      const { backup } = await import('./backup.ts')
      await backup(client(), out(), o.out)
    })
  program.command('rotate-key').description(
    'rotate the hub\'s node key, staged and reversible: a new key, the old one served too until the grace ends (POST /node-key/rotate); '
    + '`status` (GET /node-key); `rollback` within the grace (POST /node-key/rollback)',
  ).argument('[action]', 'start | status | rollback', 'start')
    .option('--grace-blocks <n>', 'blocks the old key is still served (default: the hub\'s, a week of blocks)', whole('--grace-blocks'))
    .action(async (action: string, o: { graceBlocks?: number }) => {
      const { rotateKey, rotateKeyRollback, rotateKeyStatus } = await import('./rotate-key.ts')
      if (action === 'start') return await rotateKey(client(), out(), o.graceBlocks)
      if (action === 'status') return await rotateKeyStatus(client(), out())
      if (action === 'rollback') return await rotateKeyRollback(client(), out())
      throw new CtlError(EXIT.usage, `rotate-key: unknown action ${JSON.stringify(action)} (start, status or rollback)`)
    })
  program.command('rotate-cert').description(
    'read the TLS certificate files now and serve their pair to new connections, if good (POST /tls/rotate)',
  ).action(async () => cmd.rotateCert(client(), out()))

  program.command('mine').description('regtest, managed node: mine blocks (POST /regtest/mine)')
    .argument('<blocks>', 'how many', whole('blocks')).action(async (n: number) => cmd.mine(client(), out(), n))
  program.command('faucet').description('regtest: the hub pays an address (POST /regtest/faucet)')
    .argument('<address>').argument('<sat>', 'amount', whole('sat')).option('--no-confirm', 'leave it in the mempool')
    .action(async (address: string, amount: number, o: { confirm: boolean }) => cmd.faucet(client(), out(), address, amount, o.confirm))

  try {
    await program.parseAsync([...argv], { from: 'user' })
    return EXIT.ok
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here too, with code 0.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    if (e instanceof CtlError) { io.stderr(`hubctl: ${e.message}`); return e.exitCode }
    io.stderr(`hubctl: ${(e as Error).stack ?? String(e)}`)
    return EXIT.refused
  }
}
