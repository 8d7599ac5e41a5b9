// The options of HubClient.stream(to, options) (client-sdk/stream.ts), checked like every SDK argument.
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
