// The accounting reversal of a splice dropped as double-spent survives a crash of the hub between the
// write that drops the candidate and the write of the reversal row (hub/accounting/chain-moves.ts):
// the hub is SIGKILLed right after storing the drop (HUB_CRASH_AT after:persist:splice_dropped), and
// when it starts again its export of the platform has the splice_in row and one splice_dropped row
// reversing it, summing to the platform's balance change to the msat; another start writes no second
// reversal. The platform's own export (SDK) sums to the same change once it dropped the splice too.
// Real btcd, the hub process, SDK clients.
import t from 'tap'
import type { AccountingRow } from '../../protocol/accounting/rows.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../helpers/hub.ts'
import { admin } from '../e2e/monitor/helpers.ts'
import { hubAccountingRows, sdkAccountingRows, sumMsat } from '../helpers/accounting.ts'

const HUB_FINALITY = 3
const COIN_SAT = 3_000_000
const SPLICE_IN_SAT = 1_500_000
const PLATFORM_CAPACITY_SAT = 600_000

t.test('adversarial: the hub SIGKILLed right after dropping a double-spent splice writes the reversal row at its next start, once',
  async t => {
    const btc = await useBtcd(t)
    const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
      name: 'adv-splice-dropped-accounting-crash', hubSat: 5_000_000, platformCapacitySat: PLATFORM_CAPACITY_SAT,
      hubConfig: { channels: { fundingSat: 3_000_000, finalityDepth: HUB_FINALITY } },
    })
    const hubRows = async (): Promise<AccountingRow[]> => await hubAccountingRows(hub, platform.nodeId)
    const sdkRows = async (): Promise<AccountingRow[]> => await sdkAccountingRows(platform, 1_000)
    const sum = sumMsat
    const spliceRows = (rows: AccountingRow[]): Array<[string, number, string]> => rows
      .filter(r => r.kind.startsWith('splice_')).map(r => [r.kind, r.amount_msat, r.ref])

    const coin = await btc.faucet(platform.newAddress(), COIN_SAT)
    await btc.mine(1)
    await waitFor(() => platform.wallet.freeCoins().some(u => u.txid === coin.txid), 'the coin in the platform\'s wallet')
    const p0 = platform.channels()[0]!
    const splice = await platform.spliceIn({ amountSat: SPLICE_IN_SAT, feerateSatPerKw: 1_000 })
    await waitFor(async () => (await admin(hub, '/splices')).body.some((s: any) => s.txid === splice.txid), 'the hub saw the splice')
    await waitFor(async () => (await hubRows()).some(r => r.kind === 'splice_in'), 'the hub\'s splice_in row')

    await hub.restart({ HUB_CRASH_AT: 'after:persist:splice_dropped:1' })
    await waitFor(() => platform.channels()[0]!.link === 'up', 'the platform reconnected', 60_000)

    // The double-spend, mined, then the hub's finality depth: the hub drops the splice and dies.
    platform.wallet.release(splice.txid)
    const built = platform.wallet.buildTx([{ address: platform.newAddress(), value: COIN_SAT - 50_000 }])
    if (!built.ok) throw new Error(`buildTx: ${JSON.stringify(built.error)}`)
    const mined = await btc.chain.submitBlock([built.value.hex])
    t.ok(mined.ok, 'a block with the double-spend')
    const sync = await btc.chain.syncFollowers()
    if (!sync.ok) throw new Error(sync.error.detail)
    await btc.mine(HUB_FINALITY - 1)
    await hub.exited()
    t.pass('the hub died right after storing the drop, before its accounting row')

    await hub.restart()
    const expected: Array<[string, number, string]> = [
      ['splice_in', SPLICE_IN_SAT * 1000, splice.txid],
      ['splice_dropped', -SPLICE_IN_SAT * 1000, `${splice.txid}/${built.value.txid}`],
    ]
    t.same(spliceRows(await hubRows()), expected, 'after the start: the splice_in row and its reversal, naming the spender')

    // A payment: the hub's commitment_signed without the candidate makes the platform drop it too.
    await waitFor(() => platform.channels()[0]!.link === 'up', 'the platform reconnected', 60_000)
    const r = await platform.pay((await creator.createInvoice({ amountMsat: 5_000_000 })).invoice)
    t.ok(r.ok, `a payment after the drop: ${r.ok ? 'paid' : r.detail}`)
    await waitFor(() => platform.channels()[0]!.settled, 'settled', 60_000)
    await waitFor(async () => (await sdkRows()).some(x => x.kind === 'splice_dropped'), 'the platform\'s reversal row', 60_000)
    const change = platform.channels()[0]!.localMsat - p0.localMsat
    t.equal(change, -(r.ok ? r.amountMsat + r.feeMsat : 0), 'the platform\'s balance moved by the payment alone')
    t.same(spliceRows(await sdkRows()), expected, 'the SDK export: the same two rows')
    t.equal(sum(await sdkRows()), change, `the SDK export sums to the balance change (${change} msat)`)
    t.equal(sum(await hubRows()), change, 'the hub\'s export of the platform sums to it too')

    await hub.restart()
    t.same(spliceRows(await hubRows()), expected, 'another start writes no second reversal')
  })
