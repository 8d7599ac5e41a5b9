// The hub's receipts (hub/audit/receipts.ts): a settled payment's audit entry rides in the caller's
// batch; once that batch is durable the receipt is signed and sent to payer and payee after the
// current turn of the event loop, never inside it, and at most RECEIPTS_SIGNED_PER_TURN a turn.
import t from 'tap'
import { HubReceipts } from '../../../../hub/audit/receipts.ts'
import { Anchoring } from '../../../../hub/audit/anchoring.ts'
import { AuditLog } from '../../../../hub/audit/index.ts'
import { MemoryStore } from '../../../../host/store/index.ts'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import { RECEIPTS_SIGNED_PER_TURN } from '../../../../protocol/limits.ts'
import { receiptSignatureValid } from '../../../../protocol/receipt/receipt.ts'
import { bytesToHex } from '../../../../protocol/types.ts'
import type { NodeId } from '../../../../protocol/types.ts'
import type { PaymentReceipt, PeerMessage } from '../../../../protocol/wire/index.ts'
import { FakeChain } from '../../client-sdk/fixtures/fake-hub.ts'

const key = (b: number): Uint8Array => new Uint8Array(32).fill(b)
const nextTurn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

t.test('a settled payment\'s receipt is signed and sent after the turn that settles it, at most RECEIPTS_SIGNED_PER_TURN a turn',
  async t => {
    const store = new MemoryStore()
    const audit = await AuditLog.open(store)
    const anchoring = await Anchoring.open({ store, audit, chain: new FakeChain(), depth: 6, now: () => Date.now(), height: () => 0 })
    const hubKey = key(7)
    const hubId = nodeIdOf(hubKey)
    const payer = nodeIdOf(key(8))
    const payee = nodeIdOf(key(9))
    const sent: Array<{ peer: NodeId; msg: PeerMessage }> = []
    const receipts = new HubReceipts({
      store, audit, anchoring, hubId, nodeKey: hubKey, send: (peer, msg) => { sent.push({ peer, msg }); return true },
    })

    const n = RECEIPTS_SIGNED_PER_TURN + 6
    const settled = Array.from({ length: n }, (_, i) => receipts.prepare({
      paymentHash: bytesToHex(new Uint8Array(32).fill(i + 1)), amountMsat: 1_000 + i, feeMsat: 3, payer, payee, reference: `order-${i}`,
    }))
    await store.write(settled.flatMap(s => s.ops))
    for (const s of settled) s.deliver()
    t.equal(sent.length, 0, 'nothing is signed or sent in the turn that delivers (the settling fulfil goes first)')
    await nextTurn()
    t.equal(sent.length, 2 * RECEIPTS_SIGNED_PER_TURN, 'the next turn: the first RECEIPTS_SIGNED_PER_TURN receipts, to payer and payee')
    await nextTurn()
    t.equal(sent.length, 2 * n, 'the turn after: the rest')
    await nextTurn()
    t.equal(sent.length, 2 * n, 'each receipt once to each party')

    for (let i = 0; i < n; i++) {
      const [toPayer, toPayee] = [sent[2 * i]!, sent[2 * i + 1]!]
      t.same([toPayer.peer, toPayee.peer], [payer, payee], `receipt ${i}: to the payer and the payee`)
      const m = toPayer.msg as PaymentReceipt
      t.equal(m.type, 'payment_receipt')
      t.same(toPayee.msg, m, `receipt ${i}: the same signed receipt to both`)
      t.ok(receiptSignatureValid(m.receipt, m.signature), `receipt ${i}: signed by the hub's node key`)
      t.match(
        m.receipt, { entry: i, amount_msat: 1_000 + i, fee_msat: 3, reference: `order-${i}`, hub_id: hubId }, `receipt ${i}: in order`,
      )
      t.same(await receipts.receipt(m.receipt.payment_hash), m.receipt, `receipt ${i}: the hub answers a request with the same receipt`)
    }
  })
