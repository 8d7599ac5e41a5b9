// `hubctl audit verify FILE`: checks an exported audit log and its anchors against a btcd, without the
// hub (the audit module's export verifier, when this build has it).
import fs from 'node:fs'
import { BtcdChainBackend } from '../../host/chain/btcd/backend.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { CtlError, EXIT } from './client.ts'
import type { Out } from './commands.ts'

type Verify = (text: string, chain: ChainBackend, o: { minDepth: number }) => Promise<{ ok: boolean } & Record<string, unknown>>

export async function auditVerify (o: Out, file: string, rpcFile: string, minDepth: number): Promise<void> {
  // Resolved at run time: a build without the audit export verifier says so instead of failing to load.
  const module = ['..', 'audit', 'verify-export.ts'].join('/')
  let verify: Verify
  try {
    verify = (await import(module) as { verifyExport: Verify }).verifyExport
    if (typeof verify !== 'function') throw new Error('no verifyExport')
  } catch {
    throw new CtlError(EXIT.unsupported, 'audit verify: not supported yet by this build (it has no audit export verifier)')
  }
  let text: string
  let rpc: { host: string; port: number; user: string; pass: string }
  try { text = fs.readFileSync(file, 'utf8') } catch (e) { throw new CtlError(EXIT.usage, `audit verify: ${(e as Error).message}`) }
  try { rpc = JSON.parse(fs.readFileSync(rpcFile, 'utf8')) } catch (e) {
    throw new CtlError(EXIT.usage, `audit verify: the btcd login (--btcd-rpc-file): ${(e as Error).message}`)
  }
  const chain = new BtcdChainBackend({ host: rpc.host, port: rpc.port, user: rpc.user, pass: rpc.pass, notifications: false, pollMs: 0 })
  try {
    const r = await verify(text, chain, { minDepth })
    o.print(o.json ? JSON.stringify(r, null, 2) : r.ok
      ? `verified: entries ${String(r.from)}..${Number(r.to) - 1}, anchored up to ${String(r.anchored_to)}; pending anchors: ` +
        `${JSON.stringify(r.pending)}`
      : `NOT verified at entry ${String(r.entry)}: ${String(r.reason)}: ${String(r.detail)}`)
    if (!r.ok) throw new CtlError(EXIT.verifyFailed, `audit verify: ${file} does not verify`)
  } finally { await chain.close() }
}
