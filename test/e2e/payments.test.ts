// End to end, real everything: a btcd regtest node, the hub as a child process, a platform and a
// creator as SDK clients over WebSockets. The platform funds its channel from its own wallet, the hub
// opens one to the creator with its funds, 1,000 payments go platform → hub → creator, the three
// stores agree on every balance, and a cooperative close pays each side on-chain exactly its final
// balance minus the agreed fee.
import t from 'tap'
import { useBtcd } from '../helpers/btcd.ts'
import { hubChannelStates, waitFor, startHubPlatformCreator } from '../helpers/hub.ts'
import { forwardingFee } from '../../protocol/forwarding.ts'

const PAYMENTS = Number(process.env.E2E_PAYMENTS ?? 1_000)
/** Payments in flight at once: enough to exercise batching and group commit, below the HTLC caps. */
const CONCURRENCY = 20
const CAPACITY_SAT = 2_000_000

t.test('e2e: 1,000 payments platform → hub → creator; stores agree; cooperative close pays exact balances', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(
    btc, t, { name: 'e2e-payments', hubSat: 5_000_000, platformCapacitySat: CAPACITY_SAT },
  )
  const policy = platform.hubPolicyInfo!
  t.ok(policy, 'the hub sent its policy')

  let received = 0
  let receivedMsat = 0
  creator.on('payment_received', e => { received++; receivedMsat += e.amountMsat })

  // Amounts vary (1..97 sat and msat remainders) so rounding and fees are exercised.
  const amountOf = (i: number): number => 1_000 + (i * 7_919) % 97_000
  let paidMsat = 0
  let feesMsat = 0
  let failed = 0
  let next = 0
  const outcomes = new Map<number, { invoice: string; result: Awaited<ReturnType<typeof platform.pay>> }>()
  const worker = async (): Promise<void> => {
    while (next < PAYMENTS) {
      const i = next++
      const inv = await creator.createInvoice({ amountMsat: amountOf(i), memo: `item ${i}` })
      const r = await platform.pay(inv.invoice, { idempotencyKey: `e2e-${i}` })
      outcomes.set(i, { invoice: inv.invoice, result: r })
      if (!r.ok) { failed++; t.fail(`payment ${i}: ${r.reason} ${r.detail}`); continue }
      paidMsat += r.amountMsat
      feesMsat += r.feeMsat
      t.equal(r.feeMsat, forwardingFee(amountOf(i), policy), `payment ${i}: the fee is the hub's policy`)
    }
  }
  const started = Date.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  t.comment(`${PAYMENTS} payments in ${Date.now() - started} ms (${CONCURRENCY} in flight)`)
  t.equal(failed, 0, 'no payment failed')
  const expectedMsat = Array.from({ length: PAYMENTS }, (_, i) => amountOf(i)).reduce((a, b) => a + b, 0)
  t.equal(paidMsat, expectedMsat, 'the platform paid every amount')
  t.equal(received, PAYMENTS, 'the creator saw every payment once')
  t.equal(receivedMsat, expectedMsat, 'the creator received every amount')

  // A used idempotency key: with its invoice, the first outcome; with another invoice, refused. Neither pays.
  const first = outcomes.get(0)!
  const platformBefore = platform.channels()[0]!.localMsat
  t.same(
    await platform.pay(first.invoice, { idempotencyKey: 'e2e-0' }), first.result,
    'a repeated idempotency key returns the first outcome (same preimage, amount and fee)',
  )
  const reused = await platform.pay((await creator.createInvoice({ amountMsat: 5_000 })).invoice, { idempotencyKey: 'e2e-0' })
  t.match(reused, { ok: false, reason: 'idempotency_key_reused' }, 'a used key with another invoice is refused')
  t.equal(received, PAYMENTS, '... and nothing more is paid: no payment_received')
  t.equal(platform.channels()[0]!.localMsat, platformBefore, '... nothing left the platform\'s channel')

  // Balances: the platform lost paid + fees, the creator gained paid (once every dance has finished).
  await waitFor(() => platform.channels()[0]!.settled && creator.channels()[0]!.settled, 'both channels settled')
  const pc = platform.channels()[0]!
  const cc = creator.channels()[0]!
  t.equal(pc.localMsat, CAPACITY_SAT * 1000 - paidMsat - feesMsat, 'platform balance = capacity − paid − hub fees')
  t.equal(pc.inFlightMsat, 0, 'nothing in flight on the platform channel')
  t.equal(cc.localMsat, paidMsat, 'creator balance = paid')

  // The hub's store agrees (read after a clean stop: LevelDB allows one process).
  await hub.stop()
  const states = await hubChannelStates(hub)
  const hp = states.get(pc.channelId)
  const hc = states.get(cc.channelId)
  t.ok(hp !== undefined && hc !== undefined, 'the hub stored both channels')
  t.same([hp!.localCommit!.spec.toRemoteMsat, hp!.localCommit!.spec.toLocalMsat], [pc.localMsat, pc.remoteMsat], 'hub and platform agree')
  t.same([hc!.localCommit!.spec.toRemoteMsat, hc!.localCommit!.spec.toLocalMsat], [cc.localMsat, cc.remoteMsat], 'hub and creator agree')
  t.equal(hp!.localCommit!.spec.htlcs.length + hc!.localCommit!.spec.htlcs.length, 0, 'no HTLC left at the hub')
  await hub.restart()
  await platform.untilReestablished()
  await creator.untilReestablished()

  // Cooperative close: exact on-chain amounts.
  const walletsBefore = { platform: platform.balances().onchain.totalSat, creator: creator.balances().onchain.totalSat }
  const pOutcome = await platform.close()
  const cOutcome = await creator.close()
  const pClose = pOutcome.ok ? pOutcome.closed[0] : undefined
  const cClose = cOutcome.ok ? cOutcome.closed[0] : undefined
  t.ok(pClose !== undefined && cClose !== undefined, 'both channels closed cooperatively')
  await btc.mine(1)
  for (const [who, close, ch] of [['platform', pClose!, pc], ['creator', cClose!, cc]] as const) {
    const tx = await btc.chain.getRawTransaction(close.closingTxid)
    t.ok(tx.ok && tx.value !== null && tx.value.confirmations >= 1, `${who}: the closing tx confirmed`)
    const outs = tx.ok && tx.value !== null ? tx.value.tx.outputs.map(o => o.value as number) : []
    const mine = Math.floor(ch.localMsat / 1000) - (ch.funder ? close.agreedFeeSat : 0)
    const theirs = Math.floor(ch.remoteMsat / 1000) - (ch.funder ? 0 : close.agreedFeeSat)
    t.equal(close.localSat, mine, `${who}: our output = final balance${ch.funder ? ' − closing fee' : ''}`)
    t.equal(close.remoteSat, theirs, `${who}: the hub's output = its final balance${ch.funder ? '' : ' − closing fee'}`)
    t.same(
      outs.slice().sort((a, b) => a - b), [mine, theirs].filter(v => v > 0).sort((a, b) => a - b),
      `${who}: the chain holds exactly those outputs`,
    )
  }
  // Each wallet gained exactly its closing output.
  for (const [who, c, close] of [['platform', platform, pClose!], ['creator', creator, cClose!]] as const) {
    const expected = walletsBefore[who] + close.localSat
    await waitFor(() => c.balances().onchain.totalSat === expected, `${who}: the wallet holds its closing output`).catch(() => {})
    t.equal(c.balances().onchain.totalSat, expected, `${who}: the wallet gained exactly its closing output (${close.localSat} sat)`)
  }
})
