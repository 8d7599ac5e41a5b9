// The one-command demo (`npm run demo`, `npm start`): on the embedded defaults — a managed regtest btcd
// and LevelDB stores in a data directory under .data/ — start the hub as a child process, one platform,
// three creators and one co-op treasury as SDK clients; fund channels; pay for a while with live
// progress (every third sale a co-op sale, split atomically between its creator and the treasury); stream line items with a receipt
// each; pay a creator while its client is stopped (the hub holds the payments until it returns); a creator takes an on-chain payout by
// splicing out of its channel and is paid again on the same channel; close everything cooperatively and print each party's on-chain result.
//
//   npm run demo                      # about 20 s of payments
//   npm run demo -- --seconds 5       # shorter
//   npm run demo -- --json            # last line: the JSON summary, which adds up (payments, channels, splices,
//                                     # splits, stream, receipt_verified, offline_paid)
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { useBtcd } from './lib/btcd.ts'
import { Cleanups } from './lib/cleanups.ts'
import { openFundedChannel, randomKey, requestHubChannel, startClient } from './lib/client.ts'
import { fundHub, startHub } from './lib/hub.ts'
import type { HubClient, CloseResult, ChannelInfo } from '../client-sdk/index.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../protocol/limits.ts'
import type { Role } from '../client-sdk/options.ts'
import { demoReceipt } from './demo/receipt.ts'
import { demoStream } from './demo/stream.ts'
import { demoOffline } from './demo/offline.ts'
import { demoSettlement } from './demo/settlement.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const JSON_OUT = args.includes('--json')
const secondsArg = args.indexOf('--seconds')
const SECONDS = secondsArg >= 0 ? Number(args[secondsArg + 1]) : 20
if (!Number.isFinite(SECONDS) || SECONDS <= 0 || SECONDS > 3_600) {
  console.error('--seconds: must be a number of seconds in (0, 3600]'); process.exit(2)
}

const PLATFORM_CAPACITY_SAT = 5_000_000
/** Payments in flight at once from the platform. */
const CONCURRENCY = 8
/** The treasury's share of every third sale, in percent of the sale: a co-op revenue share, paid in
 *  one atomic split with the creator's commission (paySplit: both legs or neither). */
const TREASURY_SHARE_PERCENT = 10
/** Payments to the creator after its splice-out is locked: the channel keeps receiving. */
const PAYMENTS_AFTER_SPLICE = 20

const say = (s: string): void => { if (JSON_OUT) process.stderr.write(s + '\n'); else process.stdout.write(s + '\n') }
const cleanups = new Cleanups()

async function main (): Promise<void> {
  const dataDir = path.join(REPO_ROOT, '.data', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`)
  fs.mkdirSync(dataDir, { recursive: true })
  say(`data directory: ${path.relative(REPO_ROOT, dataDir)}`)

  say('starting btcd (regtest, loopback) …')
  const btc = await useBtcd(cleanups, { dataDir: path.join(dataDir, 'btcd') })
  say('starting the hub (child process) …')
  const hub = await startHub({ dataDir: path.join(dataDir, 'hub'), btcd: btc.node.rpc }, cleanups)
  say(`hub ${hub.hubId} listening on ${hub.url}`)
  await fundHub(btc, hub, 10_000_000)

  const parties: Array<{ name: string; role: Role; client: HubClient; initialMsat: number; nodeKey: Uint8Array; dir: string }> = []
  const add = async (name: string, role: Role): Promise<HubClient> => {
    const nodeKey = randomKey()
    const dir = path.join(dataDir, name)
    const client = await startClient({ hub, btc, dataDir: dir, role, nodeKey }, cleanups)
    parties.push({ name, role, client, initialMsat: 0, nodeKey, dir })
    return client
  }
  const platform = await add('platform', 'platform')
  const creators = [await add('creator-1', 'creator'), await add('creator-2', 'creator'), await add('creator-3', 'creator')]
  const treasury = await add('treasury', 'treasury')

  say(`opening the platform's channel (${PLATFORM_CAPACITY_SAT} sat from its own wallet) …`)
  await openFundedChannel(btc, platform, PLATFORM_CAPACITY_SAT)
  parties[0]!.initialMsat = PLATFORM_CAPACITY_SAT * 1000
  for (const c of [...creators, treasury]) {
    await requestHubChannel(btc, c)
    say(`hub opened ${c.channels()[0]!.capacitySat} sat to ${parties.find(p => p.client === c)!.name}`)
  }

  // ── Pay for a while ──
  let count = 0
  let failed = 0
  const failures = new Map<string, number>()   // reason → count, printed after the run
  let totalMsat = 0
  let feesMsat = 0
  const started = Date.now()
  const until = started + SECONDS * 1000
  let seq = 0
  const progress = setInterval(() => {
    const s = (Date.now() - started) / 1000
    const line = `payments ${count} (failed ${failed})  moved ${(totalMsat / 1000).toFixed(0)} sat  hub fees ` +
      `${(feesMsat / 1000).toFixed(1)} sat  ${(count / s).toFixed(1)} payments/s`
    if (JSON_OUT) process.stderr.write(`\r${line}`); else process.stdout.write(`\r${line}`)
  }, 250)
  const payOne = async (payee: HubClient, amountMsat: number, memo: string): Promise<void> => {
    const inv = await payee.createInvoice({ amountMsat, memo })
    const key = `demo-${seq++}`
    let r = await platform.pay(inv.invoice, { idempotencyKey: key })
    // A timeout is not an outcome (the payment is still in flight): ask again with the same key.
    while (!r.ok && r.reason === 'timeout') r = await platform.pay(inv.invoice, { idempotencyKey: key })
    if (r.ok) { count++; totalMsat += r.amountMsat; feesMsat += r.feeMsat } else {
      failed++
      const why = `${r.reason}: ${r.detail}`.slice(0, 160)
      failures.set(why, (failures.get(why) ?? 0) + 1)
    }
  }
  // Co-op sales: one atomic split of the sale between the creator and the treasury.
  const splits = { count: 0, recipients: 0, rolled_back: 0 }
  const splitOne = async (creator: HubClient, sale: number, i: number): Promise<void> => {
    const share = Math.floor(sale * TREASURY_SHARE_PERCENT / 100)
    const r = await platform.paySplit({
      total: sale + share, reference: `co-op sale ${i}`,
      shares: [{ to: creator.nodeId, msat: sale }, { to: treasury.nodeId, msat: share }],
    })
    if (r.ok) { splits.count++; splits.recipients += r.legs.length; count++; totalMsat += r.totalMsat; feesMsat += r.feeMsat; return }
    // An aborted split moved nothing (every leg failed back); anything else is counted as a failure.
    if (r.reason === 'aborted') splits.rolled_back++
    failed++
    const why = `split ${r.reason}: ${r.detail}`.slice(0, 160)
    failures.set(why, (failures.get(why) ?? 0) + 1)
  }
  const worker = async (w: number): Promise<void> => {
    for (let i = w; Date.now() < until; i += CONCURRENCY) {
      // A sale: the creator gets its commission (20 to 2,020 sat); every third sale is a co-op sale,
      // whose commission and the treasury's revenue share are paid in one atomic split.
      const sale = 20_000 + (i * 7_919_123) % 2_000_000
      const creator = creators[i % creators.length]!
      if (i % 3 === 0) await splitOne(creator, sale, i)
      else await payOne(creator, sale, `commission, sale ${i}`)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)))
  clearInterval(progress)
  say('')
  say(`paid ${count} payments (${failed} failed), ${(totalMsat / 1000).toFixed(3)} sat to payees, ` +
    `${(feesMsat / 1000).toFixed(3)} sat in hub fees; ${splits.count} of them co-op splits to ${splits.recipients} recipients ` +
    `(${splits.rolled_back} rolled back)`)
  for (const [why, n] of failures) say(`  failed ×${n}: ${why}`)

  // ── A stream of line items with a receipt each (scripts/demo/stream.ts) ──
  const streamed = await demoStream(platform, creators[1]!, say)
  totalMsat += streamed.paidMsat
  feesMsat += streamed.feesMsat

  // ── A creator paid while offline: the hub holds its payments until it returns (scripts/demo/offline.ts) ──
  const away = parties.find(p => p.client === creators[2])!
  const offline = await demoOffline({
    btc, hub, platform, creator: away.client, nodeKey: away.nodeKey, dataDir: away.dir, cleanups, say,
  })
  away.client = offline.client
  count += offline.paid; totalMsat += offline.paidMsat; feesMsat += offline.feesMsat

  // ── A creator's on-chain payout without closing: splice out half its balance, then keep receiving ──
  const payee = creators[0]!
  const payeeName = parties.find(p => p.client === payee)!.name
  await payOne(payee, 1_000_000, 'a sale before the payout')
  const balanceSat = Math.floor(payee.channels()[0]!.localMsat / 1000)
  const payoutSat = Math.floor(balanceSat / 2)
  say(`${payeeName} splices out ${payoutSat} sat of its ${balanceSat} sat to its wallet …`)
  const splice = await payee.spliceOut({ amountSat: payoutSat, address: payee.newAddress() })
  say(`splice ${splice.txid} signed (fee ${splice.feeSat} sat); mining ${DEFAULT_SPLICE_MINIMUM_DEPTH} blocks to lock it`)
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  await payee.untilSpliceLocked({ txid: splice.txid })
  const splicedTx = await btc.chain.getRawTransaction(splice.txid)
  const spliceConfirmed = splicedTx.ok && splicedTx.value !== null && splicedTx.value.confirmations >= DEFAULT_SPLICE_MINIMUM_DEPTH
  const countBefore = count
  for (let i = 0; i < PAYMENTS_AFTER_SPLICE; i++) await payOne(payee, 50_000 + i * 1_000, `commission after the payout, ${i}`)
  const paymentsAfter = count - countBefore
  say(`${payeeName}: ${paymentsAfter} payments received on the spliced channel (capacity now ${payee.channels()[0]!.capacitySat} sat)`)
  const splices = [{
    counterparty: payee.nodeId, kind: splice.kind, amount_sat: splice.amountSat, fee_sat: splice.feeSat, txid: splice.txid,
    confirmed: spliceConfirmed, payments_after: paymentsAfter,
  }]
  /** What splice-outs took out of each party's channel balance (the payout and its fee), msat. */
  const splicedOutMsat = (c: HubClient): number => c === payee ? -splice.contributionSat * 1000 : 0

  // ── The creators' payouts in one batched settlement (scripts/demo/settlement.ts) ──
  const settled = await demoSettlement({ btc, hub, creators: parties.filter(p => p.role === 'creator'), say })
  // ── A receipt verified against the chain after an anchor of the audit log ──
  const receipt = await demoReceipt({ btc, hub, payer: platform, payee: creators[1]!, say })
  count++; totalMsat += receipt.amountMsat; feesMsat += receipt.feeMsat
  // ── Close everything cooperatively ──
  say('closing every channel cooperatively …')
  const finals = new Map<HubClient, ChannelInfo>()
  for (const p of parties) finals.set(p.client, p.client.channels()[0]!)
  const closes = new Map<HubClient, CloseResult>()
  await Promise.all(parties.map(async p => {
    const r = await p.client.close()
    if (!r.ok) throw new Error(`${p.name}: the channel was not closed: ${r.detail}`)
    const [c] = r.closed
    if (c === undefined) throw new Error(`${p.name}: the channel did not close cooperatively`)
    closes.set(p.client, c)
  }))
  await btc.mine(1)

  const channels = []
  for (const p of parties) {
    const ch = finals.get(p.client)!
    const close = closes.get(p.client)!
    const tx = await btc.chain.getRawTransaction(close.closingTxid)
    const confirmed = tx.ok && tx.value !== null && tx.value.confirmations > 0
    say(`${p.name.padEnd(10)} ${p.role.padEnd(9)} closing ${close.closingTxid} ${confirmed ? 'confirmed' : 'NOT CONFIRMED'}: ${p.name} ` +
      `gets ${close.localSat} sat, hub gets ${close.remoteSat} sat (fee ${close.feeSat} sat, paid by ${ch.funder ? p.name : 'the hub'})`)
    channels.push({
      counterparty: p.client.nodeId,
      role: p.role,
      capacity_sat: ch.capacitySat,
      funding_txid: ch.fundingTxid,
      closing_txid: close.closingTxid,
      initial_counterparty_msat: p.initialMsat,
      final_counterparty_msat: ch.localMsat,
      final_hub_msat: ch.remoteMsat,
      spliced_out_msat: splicedOutMsat(p.client) + (settled.takenMsat.get(p.client) ?? 0),
      counterparty_onchain_sat: close.localSat,
      hub_onchain_sat: close.remoteSat,
    })
  }
  const summary = {
    payments: { count, failed, total_msat: totalMsat, hub_fees_msat: feesMsat }, channels, splices, splits,
    receipt_verified: receipt.verified, offline_paid: offline.paid, settlements: [settled.settlement],
    stream: { items: streamed.items, ticks: streamed.ticks, receipts_verified: streamed.receipts_verified },
  }
  const lost = channels.filter(c => c.role === 'platform').reduce((t, c) => t + c.initial_counterparty_msat - c.final_counterparty_msat, 0)
  // A payee's splice-out took the payout and its fee out of its channel balance: received = what is left
  // in the channel + what was spliced out.
  const gained = channels.filter(c => c.role !== 'platform').reduce(
    (t, c) => t + c.final_counterparty_msat + c.spliced_out_msat - c.initial_counterparty_msat, 0,
  )
  const payoutOnChain = splicedTx.ok && splicedTx.value !== null
    ? splicedTx.value.tx.outputs.filter(o => o.value === splice.amountSat).length
    : 0
  say(`check: payers lost ${lost} msat = payments ${totalMsat} + hub fees ${feesMsat}: ${lost === totalMsat + feesMsat ? 'yes' : 'NO'}; ` +
    `payees gained ${gained} msat (splice-outs counted) = payments: ${gained === totalMsat ? 'yes' : 'NO'}; ` +
    `the splice pays ${splice.amountSat} sat on-chain: ${payoutOnChain === 1 ? 'yes' : 'NO'}`)
  if (JSON_OUT) process.stdout.write(JSON.stringify(summary) + '\n')
  if (
    lost !== totalMsat + feesMsat || gained !== totalMsat || payoutOnChain !== 1 || !spliceConfirmed || paymentsAfter === 0 ||
    !receipt.verified || offline.paid === 0 || !settled.settlement.confirmed || !settled.paidOnChain
  ) {
    throw new Error('the summary does not add up')
  }
}

/**
 * Runs the whole demo; resolves with the process exit code (0: it ran to the end and added up).
 * SIGINT (Ctrl-C) or SIGTERM stops it: the clients, the hub and btcd are stopped (nothing it started
 * outlives it), and the code is 128 + the signal's number. A second signal exits at once (btcd is
 * killed on exit, the hub by its watchdog: scripts/lib/hub.ts).
 */
export async function runDemo (): Promise<number> {
  let signalled = (_s: NodeJS.Signals): void => {}
  const signal = new Promise<NodeJS.Signals>(resolve => { signalled = resolve })
  let received: NodeJS.Signals | undefined
  const onSignal = (s: NodeJS.Signals): void => {
    if (received !== undefined) process.exit(128 + os.constants.signals[s])
    received = s
    signalled(s)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const outcome = await Promise.race([main().then(() => undefined, (e: unknown) => ({ failed: e })), signal])
  if (typeof outcome === 'string') {
    say(`\n${outcome}: stopping the clients, the hub and btcd …`)
    await cleanups.run()
    return 128 + os.constants.signals[outcome]
  }
  await cleanups.run()
  if (outcome === undefined) return 0
  const e = outcome.failed
  process.stderr.write(`\ndemo failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  return 1
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(await runDemo())
