// Accounts' payout policies (docs/DESIGN.md "Batched settlement", policies): the strict schema an
// account's policy is checked with (from the SDK's message or the admin API), bounded by the
// operator's `settlement.policy` config, and their durable store, one record per node id.
import { z } from 'zod'
import { isStandardOutputScript } from '../../protocol/interactive-tx/index.ts'
import { isAllowedShutdownScript } from '../../protocol/channel/rules/shutdown.ts'
import { MAX_MONEY_SAT } from '../../protocol/limits.ts'
import type { PayoutPolicy } from '../../protocol/settlement/types.ts'
import { keys } from '../../host/store/keys.ts'
import type { Store } from '../../host/store/store.ts'
import { MAX_POLICY_BLOCKS, type SettlementConfig } from './config.ts'

/** A standard output script is at most 34 bytes (P2WSH, P2TR): 68 hex characters. */
const MAX_PAYOUT_SCRIPT_HEX = 68

const int = (min: number, max: number) => z.number().int({ error: 'must be an integer' }).min(min).max(max)

/** The policy as the SDK and the admin API send it (snake_case, as every message), within `bounds`. */
export function payoutPolicySchema (bounds: SettlementConfig['policy']) {
  return z.strictObject({
    payout_script: z.string().max(MAX_PAYOUT_SCRIPT_HEX).regex(/^([0-9a-f]{2})+$/, { error: 'must be lowercase hex' })
      .refine(isStandardOutputScript, { error: 'must be a standard output script (P2WPKH, P2WSH, P2TR, P2PKH, P2SH)' }),
    threshold_sat: int(bounds.minThresholdSat, MAX_MONEY_SAT),
    interval_blocks: int(bounds.minIntervalBlocks, MAX_POLICY_BLOCKS),
    keep_sat: int(0, bounds.maxKeepSat),
    close_idle_blocks: int(bounds.minCloseIdleBlocks, MAX_POLICY_BLOCKS).optional(),
  }).refine(p => p.close_idle_blocks === undefined || isAllowedShutdownScript(p.payout_script), {
    // An idle close pays the account by the mutual close, to the script of its shutdown: BOLT #2
    // allows only segwit scripts there (P2WPKH, P2WSH, segwit v1+).
    path: ['close_idle_blocks'], error: 'needs a segwit payout_script (P2WPKH, P2WSH, P2TR): the close pays it by shutdown',
  })
}
export type PayoutPolicyWire = z.infer<ReturnType<typeof payoutPolicySchema>>

/** The policy, or the first field that is wrong, named. */
export function parsePayoutPolicy (
  input: unknown, bounds: SettlementConfig['policy'],
): { ok: true; policy: PayoutPolicy } | { ok: false; error: string } {
  const r = payoutPolicySchema(bounds).safeParse(input)
  if (!r.success) return { ok: false, error: r.error.issues.map(i => `${i.path.join('.') || '(policy)'}: ${i.message}`).join('; ') }
  const w = r.data
  return {
    ok: true,
    policy: {
      payoutScript: w.payout_script, thresholdSat: w.threshold_sat, intervalBlocks: w.interval_blocks, keepSat: w.keep_sat,
      ...(w.close_idle_blocks !== undefined ? { closeIdleBlocks: w.close_idle_blocks } : {}),
    },
  }
}

export function policyWire (p: PayoutPolicy): PayoutPolicyWire {
  return {
    payout_script: p.payoutScript, threshold_sat: p.thresholdSat, interval_blocks: p.intervalBlocks, keep_sat: p.keepSat,
    ...(p.closeIdleBlocks !== undefined ? { close_idle_blocks: p.closeIdleBlocks } : {}),
  }
}

/** A stored policy: who set it last, and at which height. */
export interface StoredPolicy { nodeId: string; policy: PayoutPolicy; setBy: 'account' | 'operator'; height: number }

const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))
const decode = (b: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(b))

/** Policies in the hub's store: written durably before the setter hears it was taken. A stored
 *  record is checked again on read with the bounds of today's config; one outside them is reported,
 *  not used (the scheduler defers that account until it sets a policy within the bounds). */
export class PolicyStore {
  constructor (private readonly store: Store, private readonly bounds: SettlementConfig['policy']) {}

  async set (nodeId: string, policy: PayoutPolicy, setBy: StoredPolicy['setBy'], height: number): Promise<void> {
    const record = { node_id: nodeId, policy: policyWire(policy), set_by: setBy, height }
    await this.store.write([{ type: 'put', key: keys.payoutPolicy(nodeId), value: encode(record) }])
  }

  async get (nodeId: string): Promise<StoredPolicy | { nodeId: string; error: string } | undefined> {
    const v = await this.store.get(keys.payoutPolicy(nodeId))
    return v === undefined ? undefined : this.read(v)
  }

  async list (): Promise<Array<StoredPolicy | { nodeId: string; error: string }>> {
    const out: Array<StoredPolicy | { nodeId: string; error: string }> = []
    for await (const [, v] of this.store.iterate(keys.payoutPolicyPrefix)) out.push(this.read(v))
    return out
  }

  private read (v: Uint8Array): StoredPolicy | { nodeId: string; error: string } {
    const r = storedSchema.safeParse(decode(v))
    if (!r.success) return { nodeId: '?', error: `a stored policy record is malformed: ${r.error.issues[0]?.message ?? ''}` }
    const p = parsePayoutPolicy(r.data.policy, this.bounds)
    if (!p.ok) return { nodeId: r.data.node_id, error: `outside the configured bounds: ${p.error}` }
    return { nodeId: r.data.node_id, policy: p.policy, setBy: r.data.set_by, height: r.data.height }
  }
}

const storedSchema = z.strictObject({
  node_id: z.string().regex(/^0[23][0-9a-f]{64}$/),
  policy: z.unknown(),
  set_by: z.enum(['account', 'operator']),
  height: int(0, 100_000_000),
})
