// The audit verify command (scripts/audit-verify.ts; `hubctl audit verify` runs the same): checks an
// exported log (GET /audit/export) against the chain through a btcd RPC login, never the hub.
//   --file <log.jsonl | ->     the export (- reads standard input)
//   --rpc-file <btcd-rpc.json> the node's login as the managed node writes it, or
//   --rpc <host:port> --user <u> --pass <p>
//   --min-depth <n>            confirmations an anchor needs (default DEFAULT_FINALITY_DEPTH)
//   --json                     print the result as one JSON object
// Exit status: 0 the log verifies, 1 it does not (the first bad entry is named), 2 a usage error.
import fs from 'node:fs'
import { DEFAULT_FINALITY_DEPTH } from '../../protocol/limits.ts'
import { BtcdChainBackend } from '../../host/chain/btcd/backend.ts'
import { readRpcCredentials, rpcCredentialsSchema, type RpcCredentials } from '../../host/chain/btcd/rpc-credentials.ts'
import { verifyExport, type ExportVerifyResult } from './verify-export.ts'

export const AUDIT_VERIFY_USAGE =
  'usage: audit-verify --file <log.jsonl|-> (--rpc-file <btcd-rpc.json> | --rpc <host:port> --user <u> --pass <p>) ' +
  '[--min-depth <n>] [--json]'

interface Parsed { file: string; rpc: RpcCredentials; minDepth: number; json: boolean }

export function parseVerifyArgs (argv: readonly string[]): { ok: true; value: Parsed } | { ok: false; error: string } {
  const flags = new Map<string, string>()
  let json = false
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--json') { json = true; continue }
    if (!['--file', '--rpc-file', '--rpc', '--user', '--pass', '--min-depth'].includes(a)) return {
      ok: false, error: `unknown argument ${a}`,
    }
    const v = argv[++i]
    if (v === undefined) return { ok: false, error: `${a} needs a value` }
    flags.set(a, v)
  }
  const file = flags.get('--file')
  if (file === undefined) return { ok: false, error: '--file is required' }
  let rpc: RpcCredentials
  const rpcFile = flags.get('--rpc-file')
  if (rpcFile !== undefined) {
    const r = readRpcCredentials(rpcFile)
    if (!r.ok) return { ok: false, error: `--rpc-file: ${r.detail}` }
    if (r.value === null) return { ok: false, error: `--rpc-file: ${rpcFile} does not exist` }
    rpc = r.value
  } else {
    const [host, port] = (flags.get('--rpc') ?? '').split(':')
    const c = rpcCredentialsSchema.safeParse({ host, port: Number(port), user: flags.get('--user'), pass: flags.get('--pass') })
    if (!c.success) return {
      ok: false, error: `--rpc/--user/--pass: ${c.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    }
    rpc = c.data
  }
  const minDepth = Number(flags.get('--min-depth') ?? DEFAULT_FINALITY_DEPTH)
  if (!Number.isSafeInteger(minDepth) || minDepth < 1 || minDepth > 1_000) return {
    ok: false, error: '--min-depth: must be an integer 1..1000',
  }
  return { ok: true, value: { file, rpc, minDepth, json } }
}

export function describeResult (r: ExportVerifyResult): string {
  if (!r.ok) return `audit log does NOT verify: entry ${r.entry} (${r.reason}): ${r.detail}`
  const pending = r.pending.length > 0 ? `; anchors not at depth yet: ${r.pending.join(', ')}` : ''
  return `audit log verifies: entries ${r.from}..${r.to - 1}; entries 0..${r.anchored_to - 1} anchored by ${r.anchors.length} ` +
    `anchor(s) (${r.anchors.map(a => `${a.txid} ${a.from}..${a.to - 1}, ${a.confirmations} conf`).join('; ')})${pending}`
}

/** Runs the command; returns its exit status. */
export async function runAuditVerify (argv: readonly string[], out: (line: string) => void): Promise<number> {
  const p = parseVerifyArgs(argv)
  if (!p.ok) { out(`${p.error}\n${AUDIT_VERIFY_USAGE}`); return 2 }
  let text: string
  try { text = fs.readFileSync(p.value.file === '-' ? 0 : p.value.file, 'utf8') } catch (e) {
    out(`--file: ${(e as Error).message}`); return 2
  }
  const chain = new BtcdChainBackend({ ...p.value.rpc, notifications: false, pollMs: 0 })
  try {
    const r = await verifyExport(text, chain, { minDepth: p.value.minDepth })
    out(p.value.json ? JSON.stringify(r) : describeResult(r))
    return r.ok ? 0 : 1
  } finally {
    await chain.close()
  }
}
