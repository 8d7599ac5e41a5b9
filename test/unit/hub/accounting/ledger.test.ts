// The hub's ledger of account splices and closes (hub/accounting/ledger.ts): an entry is checked as it
// will be read back, so one the reader would refuse is never stored and the hub's start never stops on
// it; the entries stored before it still read.
import t from 'tap'
import { MemoryStore } from '../../../../host/store/index.ts'
import { Ledger, type ChainEntry } from '../../../../hub/accounting/ledger.ts'

const NODE = '02' + 'ab'.repeat(32)
const entry = (txid: string, onchainSat: number, feeMsat: number): ChainEntry => ({
  at: 1_000, node: NODE, channel_id: 'cd'.repeat(32), kind: 'splice_out', txid: txid.repeat(64),
  amount_msat: -155_000_000, onchain_sat: onchainSat, fee_msat: feeMsat,
})

t.test('an entry the reader refuses is refused at the write, naming the rule; the others still read', async t => {
  const ledger = new Ledger(new MemoryStore())
  await ledger.recordChain(entry('1', 154_000, 1_000_000))
  await t.rejects(ledger.recordChain(entry('2', -1_000, 156_000_000)), /negative only in a splice_dropped entry/,
    'a splice_out paying a negative amount on chain is refused')
  const rows = await ledger.accountChain(NODE, 0, Number.MAX_SAFE_INTEGER)
  t.same(rows.map(r => r.txid), ['1'.repeat(64)], 'only the valid entry is stored, and the account reads')
})
