// The accounting rows both exporters write (protocol/accounting/rows.ts): CSV with a header and RFC 4180
// quoting of free text, and JSON lines that parse back to the same rows.
import t from 'tap'
import { ACCOUNTING_FIELDS, accountingCsv, accountingJsonLines, type AccountingRow } from '../../../../protocol/accounting/rows.ts'

const rows: AccountingRow[] = [
  {
    at: 1_700_000_000_000, kind: 'payment_out', amount_msat: -1_001, fee_msat: 1, payment_hash: 'aa'.repeat(32),
    counterparty: '02' + 'bb'.repeat(32), ref: 'plain', onchain_sat: 0,
  },
  {
    at: 1_700_000_001_000, kind: 'payment_in', amount_msat: 500, fee_msat: 0, payment_hash: 'cc'.repeat(32), counterparty: '',
    ref: 'a, "quoted"\r\nmemo', onchain_sat: 0,
  },
  {
    at: 1_700_000_002_000, kind: 'splice_out', amount_msat: -50_250_000, fee_msat: 250_000, payment_hash: '', counterparty: '',
    ref: 'dd'.repeat(32), onchain_sat: 50_000,
  },
]

t.test('CSV: the header names every field in order; free text with commas, quotes and line breaks is quoted', async t => {
  const lines = accountingCsv(rows).split('\r\n')
  t.equal(lines[0], ACCOUNTING_FIELDS.join(','))
  t.equal(lines[1], `1700000000000,payment_out,-1001,1,${'aa'.repeat(32)},02${'bb'.repeat(32)},plain,0`)
  t.equal(lines[2], `1700000001000,payment_in,500,0,${'cc'.repeat(32)},,"a, ""quoted""`)
  t.equal(lines[3], 'memo",0', 'the quoted field keeps its line break')
  t.equal(
    lines[4], `1700000002000,splice_out,-50250000,250000,,,${'dd'.repeat(32)},50000`, 'a splice-out: its txid and what it paid on-chain',
  )
  t.equal(accountingCsv([]), ACCOUNTING_FIELDS.join(',') + '\r\n', 'no rows: the header alone')
})

t.test('JSON lines: one row a line, parsed back unchanged', async t => {
  const text = accountingJsonLines(rows)
  t.ok(text.endsWith('\n'))
  t.same(text.trim().split('\n').map(l => JSON.parse(l)), rows)
  t.equal(accountingJsonLines([]), '')
})
