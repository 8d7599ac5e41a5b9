// Helpers of the monitor e2e tests (not a test file: no `.test.ts`).
import type { Test } from 'tap'
import type { Btcd } from '../../helpers/btcd.ts'
import type { ChainTx } from '../../../hub/chain/backend.ts'
import { waitFor, type HubProcess } from '../../helpers/hub.ts'
import type { HubClient } from '../../../client-sdk/index.ts'
import type { ChannelState } from '../../../protocol/channel/index.ts'

/** The feerate of the latest commitment the client holds (read from its channel driver). */
export function commitFeerate (client: HubClient, channelId: string): number {
  const set = (client as unknown as { channelSet: { get (id: string): { driver: { state: ChannelState } } | undefined } }).channelSet
  const spec = set.get(channelId)?.driver.state.localCommit?.spec
  if (spec === undefined) throw new Error(`no commitment for ${channelId}`)
  return spec.feeratePerKw
}

/** The first confirmed tx spending `txid:vout` (any output of `txid` without vout), scanning blocks
 *  from `fromHeight` to the tip. */
export async function findSpend (btc: Btcd, txid: string, vout: number | undefined, fromHeight: number): Promise<{ tx: ChainTx; height: number } | undefined> {
  const tip = await btc.chain.tip()
  if (!tip.ok) throw new Error(tip.error.detail)
  for (let h = fromHeight; h <= tip.value.height; h++) {
    const b = await btc.chain.getBlock(h)
    if (!b.ok || b.value === null) continue
    for (const tx of b.value.txs) if (tx.inputs.some(i => i.txid === txid && (vout === undefined || i.vout === vout))) return { tx, height: h }
  }
  return undefined
}

/** The hub's admin API (GET or POST with a JSON body). */
export async function admin (hub: HubProcess, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${String(hub.info.rpc)}${route}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return { status: res.status, body: await res.json() }
}

/** The hub wallet's confirmed total (sat), from its admin API. */
export async function hubWalletTotal (hub: HubProcess): Promise<number> {
  const r = await admin(hub, '/info')
  return Number(r.body.wallet.total)
}

/** Mines one block at a time until `txid:vout` is spent on-chain (the spender is someone's monitor,
 *  which broadcasts on its own); at most `maxBlocks`. */
export async function mineUntilSpent (btc: Btcd, txid: string, vout: number, fromHeight: number, maxBlocks = 30): Promise<{ tx: ChainTx; height: number }> {
  for (let i = 0; i <= maxBlocks; i++) {
    const found = await findSpend(btc, txid, vout, fromHeight)
    if (found !== undefined) return found
    // Give the spender's monitor (another process, or a client) a moment to see the last block.
    await new Promise(resolve => setTimeout(resolve, 300))
    await btc.mine(1)
  }
  throw new Error(`${txid}:${vout} not spent after ${maxBlocks} blocks`)
}

/** The hub's sweep of its commitment output (`hubSat`): one output, a sane fee, and once confirmed the
 *  hub wallet holds exactly its balance − the sweep fee. `what` names the wallet check. */
export async function checkHubSweep (t: Test, btc: Btcd, hub: HubProcess, sweep: ChainTx, hubSat: number, hubBefore: number, what: string): Promise<void> {
  t.equal(sweep.outputs.length, 1, 'the hub sweep has one output')
  const hubSweepFee = hubSat - (sweep.outputs[0]!.value as number)
  t.ok(hubSweepFee > 0 && hubSweepFee < 2_000, `hub sweep fee ${hubSweepFee} sat`)
  await btc.mine(1)
  await waitFor(async () => (await hubWalletTotal(hub)) >= hubBefore + hubSat - hubSweepFee, 'the hub wallet holds the sweep')
  t.equal(await hubWalletTotal(hub), hubBefore + hubSat - hubSweepFee, what)
}
