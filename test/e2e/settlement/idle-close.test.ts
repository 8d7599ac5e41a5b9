// Idle closes (docs/DESIGN.md "Batched settlement", idle closes): an account whose policy asks to
// close its channel when idle for N blocks, and whose channel saw no payment for N blocks, is closed
// cooperatively at the window end, its whole balance paid to its policy's address by the mutual close;
// an active account in the same window is paid by the batch and not closed; an account offline at the
// window is not closed then (never force-closed for idleness) and is closed at a later window. The
// close is in GET /settlement's last_closes and in both accounting exports as close_mutual rows.
// Real btcd, the hub process, SDK clients.
import t, { type Test } from 'tap'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../protocol/limits.ts'
import { wsSocketFactory } from '../../../client-sdk/node/socket.ts'
import type { SocketFactory, SocketLike } from '../../../client-sdk/transport/socket.ts'
import { addressScript } from '../../../host/wallet/address.ts'
import { tipHeight, useBtcd, type Btcd } from '../../helpers/btcd.ts'
import { waitFor, type HubProcess } from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'
import { FINALITY_DEPTH, KEEP_SAT, setting, settlement, untilStage, type Creator } from './fixture.ts'
import { hubAccountingRows, sdkAccountingRows } from '../../helpers/accounting.ts'

const WINDOW = 10
const IDLE_BLOCKS = 3
/** Above any creator's balance: the idle accounts are never due a payout, only an idle close. */
const NEVER_DUE_SAT = 5_000_000

/** A client connection the test can take offline: it cuts the connection and refuses new ones. */
function offlineSwitch (): { factory: SocketFactory; offline (on: boolean): void } {
  let off = false
  const open: Array<SocketLike & { terminate?: () => void }> = []
  return {
    factory: async url => {
      if (off) throw new Error('this client is kept offline by the test')
      const ws = await wsSocketFactory(url) as SocketLike & { terminate?: () => void }
      open.push(ws)
      return ws
    },
    offline (on) {
      off = on
      if (on) for (const ws of open.splice(0)) { if (ws.terminate !== undefined) ws.terminate(); else ws.close(4000, 'offline') }
    },
  }
}

const scriptOf = (address: string): string => (addressScript(address) as { ok: true; value: string }).value

async function hubConnected (hub: HubProcess, nodeId: string): Promise<boolean> {
  const peers = (await admin(hub, '/peers')).body as Array<{ node_id: string; connected: boolean }>
  return peers.find(p => p.node_id === nodeId)?.connected === true
}

async function closeOf (hub: HubProcess, channelId: string): Promise<any> {
  return ((await settlement(hub)).last_closes as any[]).find(c => c.channel_id === channelId)
}

/** The closing transaction's output to `address`, and the whole output list. */
async function closingOutputs (t: Test, btc: Btcd, txid: string, address: string): Promise<number[]> {
  await waitFor(async () => { const r = await btc.chain.getRawTransaction(txid); return r.ok && r.value !== null }, 'the close on our node')
  const tx = (await btc.chain.getRawTransaction(txid)) as {
    ok: true; value: { tx: { outputs: Array<{ scriptPubKey: string; value: number }> } }
  }
  t.equal(tx.value.tx.outputs.length, 2, 'the closing transaction pays the hub and the account')
  return tx.value.tx.outputs.filter(o => o.scriptPubKey === scriptOf(address)).map(o => o.value)
}

const sdkRows = sdkAccountingRows
const hubRows = hubAccountingRows

/** Checks an agreed idle close of `c`: the account's whole balance (`balanceMsat`, the hub pays the
 *  closing fee as the funder) to its policy's address, to the sat, and the close_mutual rows. */
async function checkClosed (
  t: Test, btc: Btcd, hub: HubProcess, c: Creator, balanceMsat: number, name: string,
): Promise<void> {
  const rec = await closeOf(hub, c.channelId)
  t.equal(rec.stage, 'agreed', `${name}: the close is agreed`)
  t.equal(rec.account_script, scriptOf(c.address), `${name}: the account's shutdown named its policy's address`)
  const paid = await closingOutputs(t, btc, rec.closing_txid as string, c.address)
  t.same(paid, [Math.floor(balanceMsat / 1000)], `${name}: its whole balance lands at its policy's address, to the sat`)
  t.equal(rec.account_sat, paid[0], `${name}: last_closes says what it was paid`)
  await waitFor(async () => (await sdkRows(c.client)).some(r => r.kind === 'close_mutual'), `${name}: the SDK's close row`, 60_000)
  const mine = (await sdkRows(c.client)).filter(r => r.kind === 'close_mutual')
  t.equal(mine.length, 1, `${name}: one close_mutual row in the account's export`)
  t.equal(mine[0]?.amount_msat, -balanceMsat, `${name}: the row moves the whole balance`)
  await waitFor(async () => (await hubRows(hub, c.client.nodeId)).some(r => r.kind === 'close_mutual'), `${name}: the hub's row`, 60_000)
  const theirs = (await hubRows(hub, c.client.nodeId)).filter(r => r.kind === 'close_mutual')
  t.same(theirs.map(r => r.amount_msat), [-balanceMsat], `${name}: the hub's export has the same close row`)
}

t.test('e2e: a window end closes an idle account cooperatively to its policy address, pays the active one, and ' +
  'closes an account offline at the window at a later window', async t => {
  const btc = await useBtcd(t)
  const sw = offlineSwitch()
  const s = await setting(btc, t, {
    name: 'e2e-settle-idle', creators: 3, socketFactory: k => (k === 2 ? sw.factory : undefined),
    settlement: {
      windowBlocks: WINDOW, policy: { minThresholdSat: 10_000, minIntervalBlocks: 1, maxKeepSat: 1_000_000, minCloseIdleBlocks: 1 },
    },
  })
  const { hub, platform, creators } = s
  const [idle, active, away] = creators as [Creator, Creator, Creator]

  // The block before a window end far enough from the creators' last payments: no policy yet, so the
  // windows on the way do nothing.
  const h = await tipHeight(btc)
  let end = h + (WINDOW - (h % WINDOW))
  if (end - h < IDLE_BLOCKS + 2) end += WINDOW
  await btc.mine(end - 1 - h)
  await waitFor(async () => (await settlement(hub)).height === end - 1, 'the hub at the block before the window')
  for (const c of [idle, away]) await c.client.setPayoutPolicy({
    address: c.address, thresholdSat: NEVER_DUE_SAT, intervalBlocks: 1, keepSat: KEEP_SAT, closeIdleBlocks: IDLE_BLOCKS,
  })
  await active.client.setPayoutPolicy({
    address: active.address, thresholdSat: 20_000, intervalBlocks: 1, keepSat: KEEP_SAT, closeIdleBlocks: IDLE_BLOCKS,
  })
  // The active account is paid now: idle for 1 block at the window end, and due its payout.
  const paid = await platform.pay((await active.client.createInvoice({ amountMsat: 50_000_000 })).invoice)
  t.ok(paid.ok, 'the active account is paid just before the window')
  await waitFor(() => active.client.channels()[0]!.settled, 'settled')
  sw.offline(true)
  await waitFor(async () => !(await hubConnected(hub, away.client.nodeId)), 'the hub sees the third account offline')
  const idleBalance = idle.client.channels()[0]!.localMsat
  const awayBalance = away.client.channels()[0]!.localMsat

  const started = hub.waitLine(l => l.event === 'settlement_started', 60_000)
  const closing = hub.waitLine(l => l.event === 'idle_close_started' && l.channel_id === idle.channelId, 60_000)
  await btc.mine(1)
  const closeLine = await closing
  t.equal(closeLine.height, end, 'the idle account\'s close started at the window end')
  t.ok((closeLine.idle_blocks as number) >= IDLE_BLOCKS, `idle for ${String(closeLine.idle_blocks)} blocks`)
  const line = await started
  t.equal(line.trigger, 'window', 'the same window end started the batch')
  const b = await untilStage(hub, line.batch as number, 'broadcast')
  t.same(b.channels, [active.channelId], 'the batch pays the active account only: the idle one is closed instead')

  await waitFor(async () => (await closeOf(hub, idle.channelId))?.stage === 'agreed', 'the idle close agreed', 60_000)
  const now = await settlement(hub)
  t.same(now.last_closes.map((c: any) => c.channel_id), [idle.channelId], 'last_closes: the idle account only')
  await checkClosed(t, btc, hub, idle, idleBalance, 'the idle account')

  await btc.mine(Math.max(FINALITY_DEPTH, DEFAULT_SPLICE_MINIMUM_DEPTH))
  await untilStage(hub, b.id, 'confirmed')
  await active.client.untilSpliceLocked({ txid: b.txid, timeoutMs: 60_000 })
  t.equal(active.client.channels()[0]!.phase, 'normal', 'the active account\'s channel stays open')
  await waitFor(() => idle.client.channels()[0]!.phase === 'closed', 'the idle account\'s channel closed at depth', 60_000)
  t.equal((await closeOf(hub, away.channelId)), undefined, 'the offline account was not closed')
  const awayAtHub = (await admin(hub, '/peers')).body.find((p: any) => p.node_id === away.client.nodeId)
  t.equal(awayAtHub.open_channels, 1, 'nor force-closed: its channel is open at the hub')

  // The offline account comes back; the active one is paid a little (below its threshold) so it is not
  // idle at the next window. The next window closes the account that was away.
  sw.offline(false)
  await waitFor(async () => away.client.connected && await hubConnected(hub, away.client.nodeId), 'the third account back')
  await waitFor(() => away.client.channels()[0]!.settled, 'reestablished')
  const h2 = await tipHeight(btc)
  const next = h2 + (WINDOW - (h2 % WINDOW))
  if (next - h2 > 1) await btc.mine(next - h2 - 1)
  await waitFor(async () => (await settlement(hub)).height === next - 1, 'the hub at the block before the next window')
  const small = await platform.pay((await active.client.createInvoice({ amountMsat: 5_000_000 })).invoice)
  t.ok(small.ok, 'the active account is paid again')
  await waitFor(() => active.client.channels()[0]!.settled, 'settled')
  const later = hub.waitLine(l => l.event === 'idle_close_started' && l.channel_id === away.channelId, 60_000)
  await btc.mine(1)
  t.equal((await later).height, next, 'the account that was away is closed at the next window it is online at')
  await waitFor(async () => (await closeOf(hub, away.channelId))?.stage === 'agreed', 'its close agreed', 60_000)
  await checkClosed(t, btc, hub, away, awayBalance, 'the account that was away')
  t.equal(await closeOf(hub, active.channelId), undefined, 'the active account is never closed')
})
