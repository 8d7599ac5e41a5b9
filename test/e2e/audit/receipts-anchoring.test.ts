// End to end on btcd regtest (the hub process, two SDK clients over WebSockets): payments give payer
// and payee a receipt signed by the hub; POST /audit/anchor puts the Merkle root of the audit log in an
// OP_RETURN; an anchor reorged out before its depth (invalidateblock) does not count; once at depth the
// proofs are fetched through the SDK and verifyReceipt checks them against the chain alone. The export
// verifies against the chain; an entry rewritten or dropped after anchoring fails, naming the entry,
// in the export's verification and in the proof a payer fetches.
import t from 'tap'
import { useBtcd } from '../../helpers/btcd.ts'
import { fundHub, HUB_STORE_DIR, startHubPlatformCreator, waitFor } from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'
import type { HubProcess } from '../../helpers/hub.ts'
import { verifyReceipt, type HubClient } from '../../../client-sdk/index.ts'
import { anchorScript, anchorCommitment, GENESIS_COMMITMENT } from '../../../protocol/audit/anchor.ts'
import { merkleRoot } from '../../../protocol/audit/merkle.ts'
import { entryHash, type AuditEntry } from '../../../protocol/audit/entry.ts'
import { receiptSignatureValid } from '../../../protocol/receipt/receipt.ts'
import { DEFAULT_FINALITY_DEPTH } from '../../../protocol/limits.ts'
import { verifyExport } from '../../../hub/audit/verify-export.ts'
import { runAuditVerify } from '../../../hub/audit/verify-command.ts'
import { LevelStore } from '../../../host/store/node/level-store.ts'
import { keys } from '../../../host/store/keys.ts'
import { parseJsonValue, putJsonText } from '../../../host/store/store.ts'
import fs from 'node:fs'
import path from 'node:path'

const DEPTH = DEFAULT_FINALITY_DEPTH

async function exportText (hub: Pick<HubProcess, 'adminFetch'>): Promise<string> {
  const res = await hub.adminFetch('/audit/export')
  return await res.text()
}
const entriesOf = (text: string): AuditEntry[] => text.trim().split('\n').map(l => JSON.parse(l)).filter(v => !('anchor' in v))
const withoutLine = (text: string, n: number): string => text.split('\n').filter(l => !l.startsWith(`{"n":${n},`)).join('\n')

t.test('e2e: receipts at payer and payee, anchored on demand, reorg before depth, proofs verified on the chain, tampering named',
  async t => {
    const btc = await useBtcd(t)
    const { hub, platform, creator, dir } = await startHubPlatformCreator(
      btc, t, { name: 'e2e-receipts', hubSat: 3_000_000, platformCapacitySat: 1_000_000 },
    )
    await fundHub(btc, hub, 500_000) // a second coin: two anchoring transactions may be unconfirmed at once
    const hashes: string[] = []
    for (let i = 0; i < 3; i++) {
      const inv = await creator.createInvoice({ amountMsat: 2_000_000 + i * 1_000 })
      const r = await platform.pay(inv.invoice, { reference: `order-${i}` })
      t.ok(r.ok, `payment ${i} succeeded`)
      hashes.push(inv.paymentHash)
    }
    const receiptOf = async (c: HubClient, h: string) => await c.receipt(h)
    await waitFor(async () => {
      for (const h of hashes) if (await receiptOf(platform, h) === undefined || await receiptOf(creator, h) === undefined) return false
      return true
    }, 'receipts at payer and payee')
    const first = (await platform.receipt(hashes[1]!))!
    t.same(
      { amount: first.receipt.amount_msat, reference: first.receipt.reference, payer: first.receipt.payer, payee: first.receipt.payee },
      { amount: 2_001_000, reference: 'order-1', payer: platform.nodeId, payee: creator.nodeId },
      'the receipt says what was paid, by whom, to whom, for what',
    )
    t.ok(first.receipt.fee_msat > 0, 'and the hub\'s fee')
    t.equal(first.receipt.hub_id, hub.hubId)
    t.ok(receiptSignatureValid(first.receipt, first.signature), 'signed by the hub\'s node key')
    t.same((await creator.receipt(hashes[1]!))!.receipt, first.receipt, 'the payee holds the same receipt')
    t.equal(
      (await platform.getReceiptProof({ paymentHash: hashes[1]!, timeoutMs: 30_000 })).status, 'not_anchored', 'no proof before an anchor',
    )

    // ── anchor on demand: the OP_RETURN carries the commitment to the Merkle root of the entries ──
    const anchored = await admin(hub, '/audit/anchor', {})
    t.equal(anchored.status, 200, `POST /audit/anchor: ${JSON.stringify(anchored.body).slice(0, 200)}`)
    const a = anchored.body as { seq: number; from: number; to: number; root: string; commitment: string; txid: string }
    t.equal(a.from, 0)
    t.ok(a.to > first.receipt.entry, 'the anchor covers the payments\' entries')
    const entries = entriesOf(await exportText(hub))
    const root = merkleRoot(entries.slice(a.from, a.to).map(e => e.hash))
    t.equal(a.root, root, 'the anchored root is the Merkle root of the exported entries')
    t.equal(a.commitment, anchorCommitment({ prev_commitment: GENESIS_COMMITMENT, root, from: a.from, to: a.to }))
    for (const e of entries) if (entryHash(e.prev, e) !== e.hash) t.fail(`entry ${e.n} hashes`)
    t.ok(entries.every(e => e.time_ms > 1_600_000_000_000 && e.height > 100), 'every entry has its time and block height')
    const [blockHash] = await btc.mine(1)
    const tx = await btc.chain.getRawTransaction(a.txid)
    t.ok(tx.ok && tx.value !== null && tx.value.confirmations === 1, 'the anchoring transaction confirmed')
    if (!tx.ok || tx.value === null) return
    t.ok(
      tx.value.tx.outputs.some(o => o.scriptPubKey === anchorScript(a.commitment) && o.value === 0), 'its OP_RETURN carries the commitment',
    )

    // ── reorged out before its depth: not counted ──
    const inv = await btc.chain.invalidateBlock(blockHash!)
    t.ok(inv.ok, 'invalidateblock')
    await btc.mine(DEPTH - 2) // a longer chain without the anchor's block (its transaction back in the mempool or rebroadcast)
    const anchors = async () => (await admin(hub, '/audit/anchors')).body as { anchored_to: number; anchors: Array<{ status: string }> }
    t.equal((await anchors()).anchored_to, 0, 'nothing counts as anchored after the reorg')
    t.equal((await platform.getReceiptProof({ paymentHash: hashes[1]!, timeoutMs: 30_000 })).status, 'not_anchored', 'no proof yet')
    // A later anchor covers the same entries (it builds on the last final anchor: none).
    const again = await admin(hub, '/audit/anchor', {})
    t.equal(again.status, 200)
    t.equal((again.body as { from: number }).from, 0, 'the next anchor covers the entries again')
    await btc.mine(DEPTH + 1)
    await waitFor(async () => (await anchors()).anchored_to >= a.to, 'the anchors at depth', 60_000, 200)
    t.ok((await anchors()).anchors.every(x => x.status === 'final'), 'both anchors final once at depth')

    // ── proofs through the SDK, verified against the chain only ──
    for (const [who, c] of [['payer', platform], ['payee', creator]] as const) {
      for (const h of hashes) {
        const p = await c.getReceiptProof({ paymentHash: h, timeoutMs: 30_000 })
        t.equal(p.status, 'anchored', `${who}: proof of ${h.slice(0, 8)}`)
        const v = await verifyReceipt(p.receipt!, btc.chain, { minDepth: DEPTH })
        t.ok(v.ok, `${who}: verifyReceipt against btcd: ${JSON.stringify(v)}`)
      }
    }
    t.ok((await creator.verifyReceipt({ paymentHash: hashes[0]! })).ok, 'HubClient.verifyReceipt (its own chain backend)')

    // ── the whole export against the chain, in-process and as the command ──
    const text = await exportText(hub)
    const verified = await verifyExport(text, btc.chain, { minDepth: DEPTH })
    t.match(verified, { ok: true, from: 0 }, 'the export verifies')
    t.ok(verified.ok && verified.anchored_to >= a.to)
    const file = path.join(dir, 'audit.jsonl')
    fs.writeFileSync(file, text)
    const rpc = btc.node.rpc
    const out: string[] = []
    const args = ['--file', file, '--rpc', `${rpc.host}:${rpc.port}`, '--user', rpc.user, '--pass', rpc.pass]
    t.equal(await runAuditVerify(args, l => out.push(l)), 0, `audit verify: ${out.join(' ')}`)

    const range = await hub.adminFetch(`/audit/export?from=2&to=5`)
    t.same(entriesOf(await range.text()).map(e => e.n), [2, 3, 4], 'an export of a range')
    const bad = await hub.adminFetch(`/audit/export?from=-1`)
    t.equal(bad.status, 400)
    t.match(await bad.json(), { error: /^from: / }, 'a bad query names the field')

    // ── tampering with the export: named ──
    const k = first.receipt.entry
    const rewritten = text.replace(`"amount_msat":${first.receipt.amount_msat}`, '"amount_msat":1')
    t.match(await verifyExport(rewritten, btc.chain, { minDepth: DEPTH }), { ok: false, entry: k, reason: 'bad_hash' }, 'a rewritten entry')
    t.match(await verifyExport(withoutLine(text, k), btc.chain, { minDepth: DEPTH }), { ok: false, entry: k, reason: 'bad_index' },
      'a dropped entry')
    fs.writeFileSync(file, rewritten)
    out.length = 0
    t.equal(await runAuditVerify(args, l => out.push(l)), 1)
    t.match(out.join(' '), new RegExp(`entry ${k} \\(bad_hash\\)`), 'the command names the entry')

    // ── the hub rewrites its log after anchoring, every later hash recomputed: the export's anchor and
    //    the payer's proof both fail, the proof naming the payment's entry ──
    await hub.stop()
    const store = await LevelStore.open(HUB_STORE_DIR(hub))
    const stored: AuditEntry[] = []
    for await (const [, v] of store.iterate(keys.auditEntryPrefix)) stored.push(parseJsonValue(v) as AuditEntry)
    let prev = stored[k]!.prev
    const ops = []
    for (const e of stored.slice(k)) {
      const record = e.n === k ? { ...(e.record as object), amount_msat: 1 } : e.record
      const hash = entryHash(prev, { time_ms: e.time_ms, height: e.height, record })
      ops.push(putJsonText(keys.auditEntry(e.n), JSON.stringify({ ...e, prev, hash, record })))
      prev = hash
    }
    ops.push(putJsonText(keys.auditHead, JSON.stringify({ hash: prev, count: stored.length })))
    await store.write(ops)
    await store.close()
    await hub.restart()
    const forged = await exportText(hub)
    const fv = await verifyExport(forged, btc.chain, { minDepth: DEPTH })
    t.match(fv, { ok: false, reason: 'anchor_mismatch' }, 'the rewritten log does not give the anchored commitment')
    t.ok(!fv.ok && fv.entry <= k, 'named from the first entry of the anchor over it')
    await platform.untilReestablished({ timeoutMs: 60_000 })
    const warnings: string[] = []
    platform.on('warning', w => { warnings.push(w) })
    const refetched = await platform.getReceiptProof({ paymentHash: hashes[1]!, timeoutMs: 30_000 })
    t.ok(warnings.some(w => w.includes(`payment_receipt for ${hashes[1]!} does not match our records`)),
      'the receipt the hub signs now (amount changed) is refused: it does not match the payer\'s payment')
    t.match(refetched.refused, { ok: false, entry: k, reason: 'entry_rewritten' }, 'the proof the hub serves now names the entry')
    t.ok((await verifyReceipt(refetched.receipt!, btc.chain, { minDepth: DEPTH })).ok, 'the payer\'s stored proof still verifies')
  })
