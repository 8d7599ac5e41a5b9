// SIGKILL of the hub around an anchor's durable writes (hub/audit/anchoring.ts, crash point
// anchor:carrier): killed after the wallet stored the anchoring transaction but before the anchor
// recorded it as its carrier, the restarted hub finds the transaction in the wallet, records it and
// broadcasts it; killed after recording it but before broadcasting, the restarted hub broadcasts it.
// Both anchors then reach depth and the export verifies against the chain.
import t from 'tap'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, startHubPlatformCreator, waitFor, type HubProcess } from '../helpers/hub.ts'
import { admin } from '../e2e/monitor/helpers.ts'
import { anchorScript } from '../../protocol/audit/anchor.ts'
import { DEFAULT_FINALITY_DEPTH } from '../../protocol/limits.ts'
import { verifyExport } from '../../hub/audit/verify-export.ts'

interface AnchorRow { seq: number; from: number; to: number; commitment: string; status: string; txids: string[] }
const anchors = async (hub: HubProcess): Promise<{ anchored_to: number; entries: number; anchors: AnchorRow[] }> =>
  (await admin(hub, '/audit/anchors')).body

/** POST /audit/anchor on a hub armed to die at `point`: the request fails and the process exits. */
async function anchorAndDie (hub: HubProcess, point: string): Promise<void> {
  await hub.stop()
  await hub.restart({ HUB_CRASH_AT: point })
  await admin(hub, '/audit/anchor', {}).then(() => { throw new Error('the hub answered: the crash point did not fire') }, () => {})
  await hub.exited()
}

t.test('chaos: SIGKILL between building, recording and broadcasting an anchor: the restarted hub broadcasts it, it reaches depth',
  async t => {
    const btc = await useBtcd(t)
    const { hub } = await startHubPlatformCreator(btc, t, { name: 'chaos-anchor', hubSat: 3_000_000, platformCapacitySat: 1_000_000 })
    await fundHub(btc, hub, 500_000) // a second coin: the two anchoring transactions are unconfirmed together
    t.ok((await anchors(hub)).entries > 0, 'the channels wrote audit entries')

    // Killed before the carrier is recorded: the anchor is prepared, the wallet holds its transaction.
    await anchorAndDie(hub, 'before:anchor:carrier:1')
    await hub.restart()
    await waitFor(
      async () => (await anchors(hub)).anchors[0]?.status === 'carried', 'the restarted hub adopts the transaction', 60_000, 200,
    )
    const first = (await anchors(hub)).anchors[0]!
    t.equal(first.txids.length, 1, 'one carrier recorded')
    await waitFor(async () => {
      const r = await btc.chain.getRawTransaction(first.txids[0]!)
      return r.ok && r.value !== null
    }, 'the adopted transaction is broadcast', 60_000, 200)

    // Killed after the carrier is recorded, before the broadcast: a second anchor (the first is not
    // final, so it covers the same entries).
    await anchorAndDie(hub, 'after:anchor:carrier:1')
    const unsent = await btc.chain.getRawTransaction(first.txids[0]!)
    t.ok(unsent.ok && unsent.value !== null, 'the first anchor\'s transaction is still in the mempool')
    await hub.restart()
    await waitFor(async () => (await anchors(hub)).anchors.length === 2, 'the second anchor is listed', 60_000, 200)
    const second = (await anchors(hub)).anchors[1]!
    t.equal(second.status, 'carried', 'recorded as carried before the kill')
    t.equal(second.from, first.from, 'it covers the same entries')
    await waitFor(async () => {
      const r = await btc.chain.getRawTransaction(second.txids[0]!)
      return r.ok && r.value !== null
    }, 'the restarted hub broadcasts the recorded transaction', 60_000, 200)

    await btc.mine(DEFAULT_FINALITY_DEPTH)
    await waitFor(async () => (await anchors(hub)).anchors.every(a => a.status === 'final'), 'both anchors final', 60_000, 200)
    for (const a of (await anchors(hub)).anchors) {
      const tx = await btc.chain.getRawTransaction(a.txids[0]!)
      t.ok(tx.ok && tx.value !== null && tx.value.tx.outputs.some(o => o.scriptPubKey === anchorScript(a.commitment)),
        `anchor ${a.seq}: its OP_RETURN is on the chain`)
    }
    const text = await (await hub.adminFetch(`/audit/export`)).text()
    t.match(await verifyExport(text, btc.chain, { minDepth: DEFAULT_FINALITY_DEPTH }), {
      ok: true, anchored_to: Math.max(first.to, second.to),
    },
      'the export verifies against both anchors')
  })
