// The demo's batched settlement (docs/DESIGN.md "Batched settlement"): each creator sets a payout
// policy through the SDK, the operator settles now (POST /settlement/run), and one transaction pays
// every creator above its threshold, carrying the audit anchor. It is mined to the hub's finality
// depth, each creator's channel locks its new funding, and every payout is checked on chain.
import type { HubClient } from '../../client-sdk/index.ts'
import { addressScript } from '../../host/wallet/address.ts'
import { DEFAULT_FINALITY_DEPTH, DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../protocol/limits.ts'
import type { Btcd } from '../lib/btcd.ts'
import type { HubProcess } from '../lib/hub.ts'
import { waitFor } from '../lib/wait.ts'

/** The policy every demo creator sets: payouts above 10,000 sat kept in the channel. */
const KEEP_SAT = 10_000
const THRESHOLD_SAT = 10_000
const INTERVAL_BLOCKS = 6

export interface DemoSettlement {
  /** As `npm run demo -- --json` prints it. */
  settlement: { txid: string; channels: number; payouts_sat: number[]; vbytes: number; anchor_root: string | null; confirmed: boolean }
  /** What the batch took out of each creator's channel balance (payout and fee share), msat. */
  takenMsat: Map<HubClient, number>
  /** Every payout is on chain to its creator's address, exactly. */
  paidOnChain: boolean
}

async function admin (hub: HubProcess, route: string, post: boolean): Promise<{ status: number; body: any }> {
  const res = await hub.adminFetch(route, post ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' } : {})
  return { status: res.status, body: await res.json() }
}

export async function demoSettlement (o: {
  btc: Btcd; hub: HubProcess; creators: Array<{ name: string; client: HubClient }>; say: (s: string) => void
}): Promise<DemoSettlement> {
  const addresses = new Map<HubClient, string>()
  for (const c of o.creators) {
    const address = c.client.newAddress()
    addresses.set(c.client, address)
    await c.client.setPayoutPolicy({ address, thresholdSat: THRESHOLD_SAT, intervalBlocks: INTERVAL_BLOCKS, keepSat: KEEP_SAT })
  }
  o.say(`${o.creators.length} creators set payout policies (above ${THRESHOLD_SAT} sat, keeping ${KEEP_SAT} sat); settling now …`)
  const run = await admin(o.hub, '/settlement/run', true)
  // A window end may have started the batch first: follow that one.
  const id: number = run.body.started === true ? run.body.batch.id : (await admin(o.hub, '/settlement', false)).body.in_progress?.id
  if (id === undefined) throw new Error(`settle now: ${JSON.stringify(run.body)}`)
  const stageOf = async (): Promise<any> => {
    const s = (await admin(o.hub, '/settlement', false)).body
    return [s.in_progress, ...s.last_batches].find((b: any) => b?.id === id)
  }
  await waitFor(async () => ['broadcast', 'confirmed'].includes((await stageOf())?.stage), 'the batch broadcast', 120_000, 200)
  const broadcast = await stageOf()
  o.say(`batch ${broadcast.txid}: ${broadcast.channels.length} payouts in one transaction (${broadcast.vbytes} vB), ` +
    `round ${broadcast.round}; mining to its depth`)
  await o.btc.mine(Math.max(DEFAULT_FINALITY_DEPTH, DEFAULT_SPLICE_MINIMUM_DEPTH))
  await waitFor(async () => (await stageOf())?.stage === 'confirmed', 'the batch at its finality depth', 120_000, 200)
  const b = await stageOf()
  const tx = await o.btc.chain.getRawTransaction(b.txid)
  const outputs = tx.ok && tx.value !== null ? tx.value.tx.outputs : []
  const takenMsat = new Map<HubClient, number>()
  let paidOnChain = true
  for (const c of o.creators) {
    const p = b.payouts.find((x: any) => x.node_id === c.client.nodeId)
    if (p === undefined) continue
    await c.client.untilSpliceLocked({ txid: b.txid })
    takenMsat.set(c.client, (p.payout_sat + p.fee_sat) * 1000)
    const script = addressScript(addresses.get(c.client)!)
    const exact = script.ok && outputs.filter(x => x.scriptPubKey === script.value && x.value === p.payout_sat).length === 1
    if (!exact) paidOnChain = false
    o.say(`  ${c.name}: ${p.payout_sat} sat paid out (fee share ${p.fee_sat} sat) ${exact ? 'on chain' : 'NOT ON CHAIN'}`)
  }
  o.say(
    b.anchor_root === null ? 'batch confirmed (no audit entries to anchor)' : `batch confirmed; it anchors the audit root ${b.anchor_root}`
  )
  return {
    settlement: {
      txid: b.txid, channels: b.channels.length, payouts_sat: b.payouts.map((p: any) => p.payout_sat), vbytes: b.vbytes,
      anchor_root: b.anchor_root, confirmed: b.confirmed === true,
    },
    takenMsat, paidOnChain,
  }
}
