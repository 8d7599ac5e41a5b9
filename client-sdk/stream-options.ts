// The options of HubClient.stream(to, options) (client-sdk/stream.ts) and exportAccounting (client-sdk/accounting.ts),
// checked like every SDK argument.
import { z } from 'zod'
import { DEFAULT_PUSH_HOLD_BLOCKS, MAX_PUSH_HOLD_BLOCKS, MAX_STREAM_TICK_MSAT } from '../protocol/limits.ts'

export const streamArgs = z.strictObject({
  /** How long an item waits for more before its tick is cut (a full tick goes at once). */
  tickMs: z.number().int().min(1).max(60_000).default(50),
  /** A tick's value at most (an item may not be worth more). */
  maxTickMsat: z.number().int().min(1).max(MAX_STREAM_TICK_MSAT).default(MAX_STREAM_TICK_MSAT),
  /** How many blocks the hub may hold a tick for a payee that is away (pay({ to }) holdBlocks). */
  holdBlocks: z.number().int().min(0).max(MAX_PUSH_HOLD_BLOCKS).default(DEFAULT_PUSH_HOLD_BLOCKS),
})
export type StreamOptions = z.output<typeof streamArgs>

/** HubClient.exportAccounting's arguments (client-sdk/accounting.ts). */
export const exportAccountingArgs = z.strictObject({
  from: z.number().int().min(0).default(0),
  to: z.number().int().min(0).default(Number.MAX_SAFE_INTEGER),
  format: z.enum(['csv', 'jsonl']).default('jsonl'),
  limit: z.number().int().min(1).max(10_000).default(1_000),
  cursor: z.string().max(200).optional(),
})
