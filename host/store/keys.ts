// Key layout: every namespace of a store, the hub's and an SDK client's (each has its own store; the
// channel and monitor namespaces are the same in both). Namespaces are separated by '/', counters are
// zero-padded so key order is numeric order.
//
// Channels and their chain monitors (host/channel/record.ts, host/monitor), hub and SDK:
//   chan/<channel id>/state          the channel record: counterparty, key seed, channel machine state
//   chan/<channel id>/monitor/<n>    the n-th monitor update (append-only), in the record's batch
//   chan-index/<channel id>          every stored channel and its peer; a new channel's create-only claim
//   preimage/<payment hash>          every preimage a channel learned, in the batch that learned it
//   mon/<channel id>                 the chain monitor's checkpoint
//   mon-idx/<channel id>             the monitor's summary: funding outpoint, checkpoint seq, anything
//                                    at stake (host/monitor/checkpoint.ts; lets startup skip idle monitors)
//   mon-tip                          the monitors' recent blocks (where following resumes)
// Hub only:
//   fwd/<channel id>/<htlc id>       forwarding circuits (hub/router/circuits.ts, scenario 9)
//   hold/<channel id>/<htlc id>      payments held for an offline payee (hub/router/holds.ts)
//   payer-key/<node id>/<key>        a payer's idempotency key and its payment (hub/router/payer-keys.ts)
//   audit/entry/<n>, audit/head      the hash-chained audit log (hub/audit/log.ts)
//   payout-policy/<node id>          an account's payout policy (hub/settlement/policy.ts)
//   settle/batch/<id>                a payout batch: its plan, stage, round and transaction (hub/settlement/record.ts)
//   settle/idle-close/<channel id>   an idle channel the settlement window closes (hub/settlement/idle-closes.ts)
//   activity/<channel id>            the height of the channel's last activity (hub/settlement/activity.ts)
//   audit/anchor/<seq>               an anchor of the log on-chain and the transaction carrying it (hub/audit/anchoring.ts)
//   audit/receipt/<payment hash>     → the audit entry recording a settled payment (hub/audit/receipts.ts)
//   ops/stats                        the operator's payment figures and latest payments (hub/admin/payments.ts)
//   ledger/<at>/<channel>/<htlc>     a payment the hub settled, its amounts and fee (hub/accounting/ledger.ts)
//   ledger-acct/<node>/<at>/<channel>/<htlc>  → the same entry, for the payer's and the payee's exports
//   restore/info                     the backup this store was restored from (hub/backup/restore.ts)
//   restore/pending/<channel id>     a restored channel not yet proven current by its peer (hub/backup/restored.ts)
// SDK only (client-sdk/records.ts says what each record holds):
//   inv/<payment hash>               an invoice we issued, with its preimage
//   inv-at/<created>/<hash>          the same invoices by creation time (listInvoices)
//   pay/<payment hash>               a payment we make
//   pay-at/<created>/<hash>          the same payments by creation time (listPayments)
//   idem/<idempotency key>           → the payment hash a pay() with that key is about
//   evt/<event id>                   an event for the application not acknowledged yet (client-sdk/event-outbox.ts)
//   node-id                          the node id of the key the store belongs to (client-sdk/identity.ts)
//   hub-trust                        the hub keys we trust, after the hub's node-key rotations (client-sdk/hub-keys.ts)
//   receipt/<payment hash>           the hub's signed receipt of a payment, and its proof once anchored (client-sdk/receipts.ts)
//   split/<split id>                 a split we pay: x, the legs, every leg locked, the phase (client-sdk/split-records.ts)
//   split-leg/<payment hash>         a split leg we receive: r_i, and locked → released | aborted
//   stream-out/<payee>/<seq>         a stream tick we pay: its items, root and sealed secret (client-sdk/stream-records.ts)
//   stream-in/<payment hash>         a stream tick we were paid, with its items (the payee's dedupe) and our signature
//   payout-policy/<node id>          our own payout policy, the one the hub's proposals are checked against (client-sdk/payouts.ts)
// <created> is seconds since 1970 as a counter, so key order is time order.

/** 16 digits: 10^16 updates at 10^6/s lasts 300 years; fits a safe integer. */
const COUNTER_DIGITS = 16
export function counter (n: number): string {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 10 ** COUNTER_DIGITS) throw new RangeError(`key counter out of range: ${n}`)
  return String(n).padStart(COUNTER_DIGITS, '0')
}
const segment = (s: string): string => {
  if (!/^[0-9A-Za-z_.:-]{1,128}$/.test(s)) throw new TypeError(`key segment ${JSON.stringify(s)} must be [0-9A-Za-z_.:-]{1,128}`)
  return s
}

export const keys = {
  channelPrefix: (channelId: string) => `chan/${segment(channelId)}/`,
  channelState: (channelId: string) => `chan/${segment(channelId)}/state`,
  monitorPrefix: (channelId: string) => `chan/${segment(channelId)}/monitor/`,
  monitorUpdate: (channelId: string, n: number) => `chan/${segment(channelId)}/monitor/${counter(n)}`,
  channelIndex: (channelId: string) => `chan-index/${segment(channelId)}`,
  channelIndexPrefix: 'chan-index/',
  preimage: (paymentHash: string) => `preimage/${segment(paymentHash)}`,
  preimagePrefix: 'preimage/',
  monitorState: (channelId: string) => `mon/${segment(channelId)}`,
  monitorStatePrefix: 'mon/',
  monitorSummary: (channelId: string) => `mon-idx/${segment(channelId)}`,
  monitorSummaryPrefix: 'mon-idx/',
  monitorTip: 'mon-tip',
  forward: (...parts: string[]) => `fwd/${parts.map(segment).join('/')}`,
  forwardPrefix: 'fwd/',
  hold: (channelId: string, htlcId: number) => `hold/${segment(channelId)}/${segment(String(htlcId))}`,
  holdPrefix: 'hold/',
  payerKey: (payer: string, key: string) => `payer-key/${segment(payer)}/${segment(key)}`,
  payerKeyPrefix: 'payer-key/',
  payoutPolicy: (nodeId: string) => `payout-policy/${segment(nodeId)}`,
  payoutPolicyPrefix: 'payout-policy/',
  settlementBatch: (id: number) => `settle/batch/${counter(id)}`,
  settlementBatchPrefix: 'settle/batch/',
  idleClose: (channelId: string) => `settle/idle-close/${segment(channelId)}`,
  idleClosePrefix: 'settle/idle-close/',
  channelActivity: (channelId: string) => `activity/${segment(channelId)}`,
  channelActivityPrefix: 'activity/',
  auditEntry: (n: number) => `audit/entry/${counter(n)}`,
  auditEntryPrefix: 'audit/entry/',
  auditHead: 'audit/head',
  auditAnchor: (seq: number) => `audit/anchor/${counter(seq)}`,
  auditAnchorPrefix: 'audit/anchor/',
  auditReceipt: (paymentHash: string) => `audit/receipt/${segment(paymentHash)}`,
  receipt: (paymentHash: string) => `receipt/${segment(paymentHash)}`,
  receiptPrefix: 'receipt/',
  ledger: (at: number, channelId: string, htlcId: number) => `ledger/${counter(at)}/${segment(channelId)}/${segment(String(htlcId))}`,
  ledgerPrefix: 'ledger/',
  ledgerAccount: (node: string, at: number, channelId: string, htlcId: number) =>
    `ledger-acct/${segment(node)}/${counter(at)}/${segment(channelId)}/${segment(String(htlcId))}`,
  ledgerAccountPrefix: (node: string) => `ledger-acct/${segment(node)}/`,
  restoreInfo: 'restore/info',
  restorePending: (channelId: string) => `restore/pending/${segment(channelId)}`,
  restorePendingPrefix: 'restore/pending/',
  ledgerChain: (node: string, at: number, txid: string) => `ledger-chain/${segment(node)}/${counter(at)}/${segment(txid)}`,
  ledgerChainPrefix: (node: string) => `ledger-chain/${segment(node)}/`,
  invoice: (paymentHash: string) => `inv/${segment(paymentHash)}`,
  invoiceByTime: (createdAt: number, paymentHash: string) => `inv-at/${counter(createdAt)}/${segment(paymentHash)}`,
  invoiceByTimePrefix: 'inv-at/',
  payment: (paymentHash: string) => `pay/${segment(paymentHash)}`,
  paymentPrefix: 'pay/',
  paymentByTime: (createdAt: number, paymentHash: string) => `pay-at/${counter(createdAt)}/${segment(paymentHash)}`,
  paymentByTimePrefix: 'pay-at/',
  idempotency: (key: string) => `idem/${segment(key)}`,
  event: (id: string) => `evt/${segment(id)}`,
  eventPrefix: 'evt/',
  clientNodeId: 'node-id',
  hubTrust: 'hub-trust',
  split: (splitId: string) => `split/${segment(splitId)}`,
  splitPrefix: 'split/',
  splitLeg: (paymentHash: string) => `split-leg/${segment(paymentHash)}`,
  splitLegPrefix: 'split-leg/',
  streamOut: (payee: string, seq: number) => `stream-out/${segment(payee)}/${counter(seq)}`,
  streamOutPrefix: (payee: string) => `stream-out/${segment(payee)}/`,
  streamIn: (paymentHash: string) => `stream-in/${segment(paymentHash)}`,
  streamInPrefix: 'stream-in/',
  chainMove: (channelId: string, txid: string) => `chain-move/${segment(channelId)}/${segment(txid)}`,
  chainMoveByTime: (at: number, channelId: string, txid: string) => `chain-move-at/${counter(at)}/${segment(channelId)}/${segment(txid)}`,
  chainMoveByTimePrefix: 'chain-move-at/',
} as const
