// Helpers of the monitor e2e tests (not a test file: no `.test.ts`).
import type { Test } from 'tap'
import type { Btcd } from '../../helpers/btcd.ts'
import type { ChainTx } from '../../../host/chain/backend.ts'
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
export async function findSpend (
  btc: Btcd, txid: string, vout: number | undefined, fromHeight: number,
): Promise<{ tx: ChainTx; height: number } | undefined> {
  const tip = await btc.chain.tip()
  if (!tip.ok) throw new Error(tip.error.detail)
  for (let h = fromHeight; h <= tip.value.height; h++) {
    const b = await btc.chain.getBlock(h)
    if (!b.ok || b.value === null) continue
    for (
      const tx of b.value.txs
    ) if (tx.inputs.some(i => i.txid === txid && (vout === undefined || i.vout === vout))) return { tx, height: h }
  }
  return undefined
}

/** The hub's admin API (GET or POST with a JSON body). */
export async function admin (hub: HubProcess, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await hub.adminFetch(
    route,
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
  )
  return { status: res.status, body: await res.json() }
}

/** The hub wallet's confirmed total (sat), from its admin API. */
export async function hubWalletTotal (hub: HubProcess): Promise<number> {
  const r = await admin(hub, '/info')
  return Number(r.body.wallet.total)
}

/** Mines one block at a time until `txid:vout` is spent on-chain (the spender is someone's monitor,
 *  which broadcasts on its own); at most `maxBlocks`. */
export async function mineUntilSpent (
  btc: Btcd, txid: string, vout: number, fromHeight: number, maxBlocks = 30,
): Promise<{ tx: ChainTx; height: number }> {
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
export async function checkHubSweep (
  t: Test, btc: Btcd, hub: HubProcess, sweep: ChainTx, hubSat: number, hubBefore: number, what: string,
): Promise<void> {
  t.equal(sweep.outputs.length, 1, 'the hub sweep has one output')
  const hubSweepFee = hubSat - (sweep.outputs[0]!.value as number)
  t.ok(hubSweepFee > 0 && hubSweepFee < 2_000, `hub sweep fee ${hubSweepFee} sat`)
  await btc.mine(1)
  await waitFor(async () => (await hubWalletTotal(hub)) >= hubBefore + hubSat - hubSweepFee, 'the hub wallet holds the sweep')
  t.equal(await hubWalletTotal(hub), hubBefore + hubSat - hubSweepFee, what)
}

/** client-sdk/channels.ts TO_SELF_DELAY: what a client makes the hub wait on the hub's commitment. */
export const CLIENT_TO_SELF_DELAY = 144

/**
 * After a force close between a client and the hub (no HTLC in the commitment): the closer's monitor
 * broadcasts its commitment, and the peer, failing the channel on the closer's error, broadcasts its
 * own; the first mined wins and the amounts are the same. Whichever confirmed, each side's output
 * reaches its wallet exactly: the commitment's owner sweeps its to_local once the other side's
 * to_self_delay has passed, the other side its to_remote (static_remotekey: P2WPKH, no delay) at once.
 * Returns whose commitment it was.
 */
export async function checkForceCloseSweeps (t: Test, btc: Btcd, hub: HubProcess, client: HubClient, commit: {
  tx: ChainTx; height: number
}, o: {
  clientSat: number; hubSat: number; clientBefore: number; hubBefore: number
  /** The hub's channels.toSelfDelay: how long the client's to_local waits on the client's commitment. */
  clientToLocalDelay: number
}): Promise<'client' | 'hub'> {
  const outs = commit.tx.outputs
  const clientVout = outs.findIndex(x => x.value === o.clientSat)
  const hubVout = outs.findIndex(x => x.value === o.hubSat)
  const whose = outs[clientVout]!.scriptPubKey.startsWith('0020') ? 'client' : 'hub'
  t.comment(`the ${whose}'s commitment confirmed`)
  const sweepClient = async (maxBlocks: number): Promise<void> => {
    const s = await mineUntilSpent(btc, commit.tx.txid, clientVout, commit.height, maxBlocks)
    if (whose === 'client') t.ok(
      s.height - commit.height >= o.clientToLocalDelay - 1,
      `the client's to_local swept only after its delay (${s.height - commit.height} blocks)`,
    )
    t.equal(s.tx.outputs.length, 1, 'the client sweep has one output')
    const fee = o.clientSat - (s.tx.outputs[0]!.value as number)
    t.ok(fee > 0 && fee < 2_000, `client sweep fee ${fee} sat`)
    await btc.mine(1)
    await waitFor(() => client.balances().onchain.totalSat >= o.clientBefore + o.clientSat - fee, 'the client wallet holding the sweep')
    t.equal(client.balances().onchain.totalSat, o.clientBefore + o.clientSat - fee, 'client wallet gained its balance − its sweep fee')
  }
  if (whose === 'client') {
    const hubSweep = await mineUntilSpent(btc, commit.tx.txid, hubVout, commit.height)
    await checkHubSweep(t, btc, hub, hubSweep.tx, o.hubSat, o.hubBefore, 'hub wallet gained its balance − its sweep fee')
    await sweepClient(o.clientToLocalDelay + 10)
  } else {
    await sweepClient(30)
    const tip = await btc.chain.tip()
    const buried = tip.ok ? tip.value.height - commit.height : 0
    await btc.mine(Math.max(0, CLIENT_TO_SELF_DELAY - buried - 2))
    const hubSweep = await mineUntilSpent(btc, commit.tx.txid, hubVout, commit.height, 10)
    t.ok(
      hubSweep.height - commit.height >= CLIENT_TO_SELF_DELAY - 1,
      `the hub's to_local swept only after the client's to_self_delay (${hubSweep.height - commit.height} blocks)`,
    )
    await checkHubSweep(t, btc, hub, hubSweep.tx, o.hubSat, o.hubBefore, 'hub wallet gained its balance − its sweep fee')
  }
  return whose
}
