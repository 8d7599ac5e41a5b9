// Idle closes at the hub (hub/settlement/idle-closes.ts): each channel of a window's `closes` that can
// still shut down gets its record (stage shutdown) written before the hub's shutdown command; one that
// is not in `normal` with its link up, or already shutting down, is left alone (a later window); a
// shutdown the channel refuses is recorded as refused; the agreement records the closing txid and
// what it pays the account, to which script; the records survive a restart.
import t from 'tap'
import type { ChannelEvent, ChannelState } from '../../../../protocol/channel/index.ts'
import type { Effect } from '../../../../protocol/channel/effects.ts'
import { keys } from '../../../../host/store/keys.ts'
import { MemoryStore } from '../../../../host/store/memory-store.ts'
import { IdleCloses } from '../../../../hub/settlement/idle-closes.ts'
import type { ManagedChannel } from '../../../../hub/channels/manager.ts'

const NODE = '02' + 'ab'.repeat(32)
const POLICY_SCRIPT = '0014' + '11'.repeat(20)
const id = (k: number): string => String(k).padStart(2, '0').repeat(32)

interface Fake { ch: ManagedChannel; commands: unknown[]; storedBefore: boolean[] }

/** A channel as IdleCloses reads it, whose shutdown command is refused when `refuse` is set. */
function channel (store: MemoryStore, k: number, o: { phase?: string; link?: string; localScript?: string; refuse?: boolean } = {}): Fake {
  const commands: unknown[] = []
  const storedBefore: boolean[] = []
  const state = {
    channelId: id(k), phase: o.phase ?? 'normal', link: o.link ?? 'up',
    closing: { ...(o.localScript !== undefined ? { localScript: o.localScript } : {}), remoteScript: POLICY_SCRIPT },
  } as unknown as ChannelState
  const ch = {
    channelId: id(k), peer: NODE, state,
    driver: {
      command: async (cmd: unknown, observe?: (b: ChannelState, a: ChannelState, e: Effect[]) => void) => {
        storedBefore.push(await store.get(keys.idleClose(id(k))) !== undefined)
        commands.push(cmd)
        const effects: Effect[] = o.refuse === true
          ? [{
            kind: 'emit', event: { type: 'command_failed', command: 'shutdown', error: { reason: 'unexpected_message', detail: 'no' } },
          } as Effect]
          : []
        observe?.(state, { ...state, outbox: [] } as unknown as ChannelState, effects)
        return 'done'
      },
    },
  } as unknown as ManagedChannel
  return { ch, commands, storedBefore }
}

async function rig (chs: Fake[], store: MemoryStore): Promise<IdleCloses> {
  const byId = new Map<string, ManagedChannel>(chs.map(c => [c.ch.channelId, c.ch]))
  return await IdleCloses.open({ store, manager: { get: (x: string) => byId.get(x) }, log: () => {}, fatal: e => { throw e } })
}

const accounts = (n: number) => Array.from(
  { length: n }, (_, k) => ({ channelId: id(k), nodeId: NODE, policy: { payoutScript: POLICY_SCRIPT } }),
)

t.test('a window\'s closes: recorded, then shut down; a channel that cannot shut down now is left for a later window', async t => {
  const store = new MemoryStore()
  const chs = [
    channel(store, 0), channel(store, 1, { link: 'down' }),
    channel(store, 2, { phase: 'shutting_down', localScript: '0014' + '22'.repeat(20) }),
    channel(store, 3, { refuse: true }),
  ]
  const closes = await rig(chs, store)
  await closes.close([0, 1, 2, 3].map(k => ({ channelId: id(k), idleBlocks: 200 })), accounts(4), 1_000)
  t.same(chs[0]!.commands, [{ type: 'shutdown' }], 'the idle channel is shut down by the hub (its own script)')
  t.same(chs[0]!.storedBefore, [true], 'its record was durable before the command')
  t.same(chs[1]!.commands, [], 'link down: not now')
  t.same(chs[2]!.commands, [], 'already shutting down: not again')
  const view = closes.view()
  t.same(view.map(v => [v.channel_id, v.stage]).sort(), [[id(0), 'shutdown'], [id(3), 'refused']], 'records of the two it tried')
  const zero = view.find(v => v.channel_id === id(0))!
  t.match(
    zero, { node_id: NODE, height: 1_000, idle_blocks: 200, last_activity_height: 800, payout_script: POLICY_SCRIPT, phase: 'normal' },
  )
  t.match(view.find(v => v.channel_id === id(3)), { reason: /unexpected_message: no/ }, 'why it was refused')
})

t.test('the agreement records what the close pays the account and to which script; records survive a restart', async t => {
  const store = new MemoryStore()
  const chs = [channel(store, 0), channel(store, 1)]
  const closes = await rig(chs, store)
  await closes.close([{ channelId: id(0), idleBlocks: 150 }], accounts(2), 500)
  const agreed = {
    type: 'closing_agreed', feeSat: 200, toLocalSat: 100_000, toRemoteSat: 150_000,
    tx: { txid: 'cd'.repeat(32), remoteSat: 150_000, localSat: 99_800, feeSat: 200 },
  } as unknown as ChannelEvent
  closes.event(chs[1]!.ch, agreed)
  t.equal(closes.view().length, 1, 'a close of a channel that was not idle-closed is not recorded')
  closes.event(chs[0]!.ch, agreed)
  await new Promise(resolve => setImmediate(resolve))
  t.match(closes.view()[0], {
    stage: 'agreed', closing_txid: 'cd'.repeat(32), account_sat: 150_000, account_script: POLICY_SCRIPT, fee_sat: 200,
  })
  const again = await rig(chs, store)
  t.match(again.view(), [{ channel_id: id(0), stage: 'agreed', account_sat: 150_000 }], 'loaded after a restart')
})
