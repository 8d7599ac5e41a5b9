// Operator subcommands of the hub's command line that ask a running hub through its admin API
// (hub/admin/server.ts); the `listening` line's `rpc` field is that API's URL:
//
//   tsx hub/main.ts faucet --admin URL ADDRESS SAT [--no-confirm]   regtest: pay SAT sat to ADDRESS
//   tsx hub/main.ts mine --admin URL BLOCKS                          managed regtest node: mine BLOCKS
//
// Both send the admin token (hub/admin/tokens.ts): read from --token-file FILE (<data-dir>/admin.token),
// or the environment variable HUB_ADMIN_TOKEN. The operator's full command line is hubctl.
// The answer's JSON is printed on stdout (exit 0); a refusal prints the hub's error on stderr (exit 1).
// The hub checks every field itself; these checks only spare a round trip.
import fs from 'node:fs'

export type AdminCommand =
  | { kind: 'faucet'; admin: string; address: string; amountSat: number; confirm: boolean; tokenFile?: string }
  | { kind: 'mine'; admin: string; blocks: number; tokenFile?: string }

export const ADMIN_USAGE = `  tsx hub/main.ts faucet --admin URL [--token-file F] ADDRESS SAT [--no-confirm]
                        regtest only: the hub pays SAT sat to ADDRESS from its wallet, mining coins
                        first if it has none spendable, and confirms the payment in a block (not with
                        --no-confirm). URL: the admin API, the \`rpc\` of the listening line.
  tsx hub/main.ts mine --admin URL [--token-file F] BLOCKS
                        the managed regtest node mines BLOCKS blocks (the mempool's transactions in
                        them); their coinbases pay the hub's wallet.
                        Both send the admin token of --token-file F (<data-dir>/admin.token) or of the
                        environment variable HUB_ADMIN_TOKEN.`

export function isAdminCommand (argv: readonly string[]): boolean {
  return argv[0] === 'faucet' || argv[0] === 'mine'
}

/** Throws an Error naming the argument that is wrong. */
export function parseAdminCommand (argv: readonly string[]): AdminCommand {
  const [name, ...rest] = argv
  let admin: string | undefined
  let tokenFile: string | undefined
  let confirm = true
  const positional: string[] = []
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!
    if (a === '--admin') {
      admin = rest[++i]; if (admin === undefined) throw new Error('--admin: needs the admin API URL')
    } else if (a.startsWith('--admin=')) admin = a.slice('--admin='.length)
    else if (a === '--token-file') {
      tokenFile = rest[++i]; if (tokenFile === undefined) throw new Error('--token-file: needs a file (<data-dir>/admin.token)')
    } else if (a.startsWith('--token-file=')) tokenFile = a.slice('--token-file='.length)
    else if (a === '--no-confirm' && name === 'faucet') confirm = false
    else if (a.startsWith('--')) throw new Error(`${name}: unknown flag ${a}`)
    else positional.push(a)
  }
  if (admin === undefined) throw new Error(`${name}: --admin URL is required (the \`rpc\` field of the hub's listening line)`)
  let url: URL
  try { url = new URL(admin) } catch { throw new Error(`--admin: not a URL: ${JSON.stringify(admin)}`) }
  if (url.protocol !== 'http:') throw new Error('--admin: must be an http:// URL (the admin API listens on loopback)')
  const base = url.href.replace(/\/$/, '')
  const whole = (what: string, v: string | undefined): number => {
    if (v === undefined || !/^[1-9][0-9]*$/.test(v) || !Number.isSafeInteger(Number(v))) throw new Error(
      `${what}: must be a whole number above 0 (got ${JSON.stringify(v ?? '')})`
    )
    return Number(v)
  }
  if (name === 'faucet') {
    if (positional.length !== 2) throw new Error('faucet: expects ADDRESS SAT')
    return {
      kind: 'faucet', admin: base, address: positional[0]!.trim(), amountSat: whole('SAT', positional[1]), confirm,
      ...(tokenFile !== undefined ? { tokenFile } : {}),
    }
  }
  if (positional.length !== 1) throw new Error('mine: expects BLOCKS')
  return { kind: 'mine', admin: base, blocks: whole('BLOCKS', positional[0]), ...(tokenFile !== undefined ? { tokenFile } : {}) }
}

/** Sends the command; resolves with the exit code, having printed the answer. */
export async function runAdminCommand (c: AdminCommand, out: (s: string) => void, fail: (s: string) => void): Promise<number> {
  const [route, body] = c.kind === 'faucet'
    ? ['/regtest/faucet', { address: c.address, amount_sat: c.amountSat, ...(c.confirm ? {} : { confirm: false }) }]
    : ['/regtest/mine', { blocks: c.blocks }]
  let token: string | undefined
  try {
    token = c.tokenFile !== undefined ? fs.readFileSync(c.tokenFile, 'utf8').trim() : process.env.HUB_ADMIN_TOKEN
  } catch (e) {
    fail(`hub ${c.kind}: --token-file: ${(e as Error).message}`)
    return 1
  }
  if (token === undefined || token === '') {
    fail(`hub ${c.kind}: needs the admin token: --token-file <data-dir>/admin.token, or HUB_ADMIN_TOKEN`)
    return 1
  }
  let res: Response
  try {
    res = await fetch(c.admin + route, {
      method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    })
  } catch (e) {
    fail(`hub ${c.kind}: cannot reach the admin API at ${c.admin} (${(e as Error).message}); is the hub running?`)
    return 1
  }
  const text = await res.text()
  if (res.ok) { out(text); return 0 }
  let why = text
  try { why = String((JSON.parse(text) as { error?: unknown }).error ?? text) } catch { /* not JSON: print as is */ }
  fail(`hub ${c.kind}: ${why}`)
  return 1
}
