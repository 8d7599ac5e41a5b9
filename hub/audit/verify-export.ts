// Verifying an exported audit log (hub/audit/export.ts) against its anchors on the chain, with only a
// chain backend: nothing here asks the hub. Checked, in entry order:
//   - the hash chain: every entry's number, link and hash (hub/audit/verify.ts);
//   - every anchor whose range the export holds: the Merkle root of those entries, recomputed here
//     (the anchor's own root field is the hub's claim and is not used), chained to the commitment the
//     anchor names, must be the commitment in an OP_RETURN of one of its carrier transactions at
//     `minDepth` confirmations or more;
//   - each verified anchor builds on the genesis commitment (from 0) or on another verified anchor
//     ending where it starts, so the anchored entries are one run from entry 0.
// The answer names the first bad entry. An entry changed without fixing its hash, or dropped or
// inserted without renumbering the rest, is named exactly by the hash chain; a log rewritten from some
// entry on with every later hash recomputed is consistent in itself and is caught by the first anchor
// over the changed entries, named by the first entry of that anchor's range (the on-chain root says a
// leaf changed, not which one: a receipt's proof names its own entry, client-sdk/receipts.ts).
// An anchor the chain does not hold at depth is pending, unless the export calls it final.
import { z } from 'zod'
import { commitmentOfScript, anchorCommitment, GENESIS_COMMITMENT } from '../../protocol/audit/anchor.ts'
import { EMPTY_ROOT, GENESIS_HASH, type AuditEntry } from '../../protocol/audit/entry.ts'
import { merkleRoot } from '../../protocol/audit/merkle.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { anchorRecordSchema } from './anchoring.ts'
import { verifyAuditLog, type AuditVerifyReason } from './verify.ts'

const exportedAnchorSchema = anchorRecordSchema.omit({ tx_hex: true })
type ExportedAnchor = z.infer<typeof exportedAnchorSchema>

export type ExportVerifyReason =
  | AuditVerifyReason
  /** The entries under an anchor do not give the commitment its transaction carries. */
  | 'anchor_mismatch'
  /** The export says an anchor is final, and none of its transactions carries it at depth. */
  | 'anchor_missing'
  /** A verified anchor builds on a commitment no verified anchor ending at its start has. */
  | 'anchor_unlinked'
  /** The chain backend did not answer: nothing is decided. */
  | 'chain_unavailable'

export interface VerifiedAnchor { seq: number; txid: string; from: number; to: number; confirmations: number }

export type ExportVerifyResult =
  | {
    readonly ok: true
    /** Entries checked: from ≤ n < to. */
    readonly from: number
    readonly to: number
    /** Entries [0, anchored_to) are anchored at depth. */
    readonly anchored_to: number
    readonly anchors: VerifiedAnchor[]
    /** Anchors the chain does not hold at depth (yet), by seq. */
    readonly pending: number[]
  }
  | { readonly ok: false; readonly entry: number; readonly reason: ExportVerifyReason; readonly detail: string }

type Fail = Extract<ExportVerifyResult, { ok: false }>

/** Parses the JSON lines of an export: entries and anchors, or the first line that is neither. */
export function parseExport (text: string): { entries: unknown[]; anchors: ExportedAnchor[] } | Fail {
  const entries: unknown[] = []
  const anchors: ExportedAnchor[] = []
  const lines = text.split('\n')
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue
    let v: unknown
    try { v = JSON.parse(line) } catch {
      return { ok: false, entry: -1, reason: 'malformed', detail: `line ${i + 1}: not JSON` }
    }
    if (typeof v === 'object' && v !== null && 'anchor' in v) {
      const a = exportedAnchorSchema.safeParse((v as { anchor: unknown }).anchor)
      if (!a.success) {
        return {
          ok: false, entry: -1, reason: 'malformed',
          detail: `line ${i + 1}: anchor.${a.error.issues[0]?.path.join('.')}: ${a.error.issues[0]?.message}`,
        }
      }
      anchors.push(a.data)
    } else entries.push(v)
  }
  return { entries, anchors }
}

export async function verifyExport (text: string, chain: ChainBackend, o: { minDepth: number }): Promise<ExportVerifyResult> {
  const parsed = parseExport(text)
  if ('ok' in parsed) return parsed
  const { entries, anchors } = parsed
  const first = entries[0] as { n?: unknown; prev?: unknown } | undefined
  const startN = typeof first?.n === 'number' && Number.isSafeInteger(first.n) && first.n >= 0 ? first.n : 0
  const start = startN === 0 ? EMPTY_ROOT : { hash: typeof first?.prev === 'string' ? first.prev : GENESIS_HASH, count: startN }
  const chained = verifyAuditLog(entries, undefined, start)
  const checkedTo = chained.ok ? chained.root.count : chained.index
  const byN = new Map<number, AuditEntry>()
  for (let n = startN; n < checkedTo; n++) byN.set(n, entries[n - startN] as AuditEntry)

  const verified: VerifiedAnchor[] = []
  const verifiedCommitments = new Map<string, ExportedAnchor>()
  const pending: number[] = []
  let anchorFail: Fail | undefined
  for (const a of [...anchors].sort((x, y) => x.from - y.from || x.seq - y.seq)) {
    if (a.from < startN || a.to > checkedTo || a.to <= a.from) continue // not all of its entries are here and sound
    if (anchorFail !== undefined && a.from >= anchorFail.entry) break
    const root = merkleRoot(Array.from({ length: a.to - a.from }, (_, i) => byN.get(a.from + i)!.hash))
    const expected = anchorCommitment({ prev_commitment: a.prev_commitment, root, from: a.from, to: a.to })
    const range = `entries ${a.from}..${a.to - 1}`
    let found: VerifiedAnchor | undefined
    let mismatch: string | undefined
    for (const txid of a.txids) {
      const r = await chain.getRawTransaction(txid)
      if (!r.ok) return { ok: false, entry: a.from, reason: 'chain_unavailable', detail: `anchor ${a.seq}: ${txid}: ${r.error.detail}` }
      if (r.value === null || r.value.confirmations < o.minDepth) continue
      const carried = r.value.tx.outputs.map(x => commitmentOfScript(x.scriptPubKey)).filter(c => c !== null)
      if (carried.includes(expected)) { found = { seq: a.seq, txid, from: a.from, to: a.to, confirmations: r.value.confirmations }; break }
      mismatch = `${range} do not give the commitment anchored in ${txid} (${r.value.confirmations} confirmations; it carries ` +
        `${carried.length === 0 ? 'no anchor' : carried.join(', ')}, these entries give ${expected}): an entry among them was ` +
        'rewritten, dropped or inserted after anchoring'
    }
    if (mismatch !== undefined && found === undefined) {
      anchorFail = { ok: false, entry: a.from, reason: 'anchor_mismatch', detail: mismatch }
      continue
    }
    if (found === undefined) {
      if (a.status === 'final') {
        anchorFail = {
          ok: false, entry: a.from, reason: 'anchor_missing',
          detail: `anchor ${a.seq} over ${range} is final in the export, and none of its transactions (${a.txids.join(', ')}) is ` +
            `${o.minDepth} deep in the chain`,
        }
      } else pending.push(a.seq)
      continue
    }
    const linked = a.from === 0
      ? a.prev_commitment === GENESIS_COMMITMENT
      : [...verifiedCommitments.values()].some(b => b.commitment === a.prev_commitment && b.to === a.from)
    if (!linked) {
      anchorFail = {
        ok: false, entry: a.from, reason: 'anchor_unlinked',
        detail: `anchor ${a.seq} over ${range} builds on ${a.prev_commitment}, which no verified anchor ending at entry ${a.from} has`,
      }
      continue
    }
    verified.push(found)
    verifiedCommitments.set(expected, a)
  }
  if (!chained.ok && (anchorFail === undefined || chained.index <= anchorFail.entry)) {
    return { ok: false, entry: chained.index, reason: chained.reason, detail: `entry ${chained.index}: ${chained.detail}` }
  }
  if (anchorFail !== undefined) return anchorFail
  return {
    ok: true, from: startN, to: checkedTo,
    anchored_to: verified.reduce((m, a) => Math.max(m, a.to), startN === 0 ? 0 : startN),
    anchors: verified, pending,
  }
}
