// paySplit's arguments (client-sdk/split-options.ts, protocol/split/shares.ts): every bad argument is a
// TypeError naming the field, thrown before anything is stored or sent (the host's parts are never
// touched).
import t from 'tap'
import { MAX_SPLIT_RECIPIENTS } from '../../../protocol/limits.ts'
import type { NodeId } from '../../../protocol/types.ts'
import { SplitPayer, type SplitPayHost } from '../../../client-sdk/split-pay.ts'

const to = (i: number): string => `02${String(i).padStart(64, '0')}`
const untouched = (what: string) => () => { throw new Error(`${what} must not be called for a bad argument`) }
const host = {
  nodeId: to(99) as NodeId, nodeKey: new Uint8Array(32).fill(1), payTimeoutMs: 1_000,
  store: new Proxy({}, { get: (_, k) => untouched(`store.${String(k)}`) }),
  book: new Proxy({}, { get: (_, k) => untouched(`book.${String(k)}`) }),
  payingChannelSoon: untouched('payingChannelSoon'), hubPolicy: untouched('hubPolicy'), offer: untouched('offer'),
  inFlight: untouched('inFlight'), send: untouched('send'), warn: untouched('warn'),
} as unknown as SplitPayHost

t.test('bad arguments: a TypeError naming the field, nothing stored or sent', async t => {
  const payer = new SplitPayer(host)
  const ok = { total: 1_000, reference: 'sale', shares: [{ to: to(1), ppm: 600_000 }, { to: to(2), ppm: 400_000 }] }
  const cases: Array<[string, object, RegExp]> = [
    ['no total', { ...ok, total: undefined }, /^paySplit\.total: /],
    ['a fractional total', { ...ok, total: 1.5 }, /^paySplit\.total: must be an integer \(msat\)/],
    ['no reference', { ...ok, reference: '' }, /^paySplit\.reference: must not be empty/],
    ['a reference too long', { ...ok, reference: 'r'.repeat(129) }, /^paySplit\.reference: /],
    ['no shares', { ...ok, shares: [] }, /^paySplit\.shares: /],
    ['too many shares', { ...ok, shares: Array.from({ length: MAX_SPLIT_RECIPIENTS + 1 }, (_, i) => ({ to: to(i), msat: 1 })) },
      /^paySplit\.shares: must have at most 16 entries \(MAX_SPLIT_RECIPIENTS\)/],
    ['a bad node id', { ...ok, shares: [{ to: 'alice', ppm: 1_000_000 }] }, /^paySplit\.shares\.0/],
    ['a share with both kinds', { ...ok, shares: [{ to: to(1), ppm: 1_000_000, msat: 1_000 }] }, /^paySplit\.shares\.0/],
    ['ppm not summing to a million', { ...ok, shares: [{ to: to(1), ppm: 600_000 }, { to: to(2), ppm: 300_000 }] },
      /^paySplit\.shares: the ppm shares sum to 900000, not 1000000/],
    ['msat not summing to the total', { ...ok, shares: [{ to: to(1), msat: 600 }, { to: to(2), msat: 300 }] },
      /^paySplit\.shares: the msat shares sum to 900, not the total 1000/],
    ['a recipient twice', { ...ok, shares: [{ to: to(1), ppm: 500_000 }, { to: to(1), ppm: 500_000 }] },
      /^paySplit\.shares\.1\.to: names the recipient of shares\.0 again/],
    ['an unknown field', { ...ok, memo: 'x' }, /^paySplit: .*memo/],
    ['a lock timeout too long', { ...ok, lockTimeoutMs: 3_600_001 }, /^paySplit\.lockTimeoutMs: /],
  ]
  for (const [what, args, message] of cases) {
    await t.rejects(payer.pay(args), { name: 'TypeError', message }, what)
  }
})
