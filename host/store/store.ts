// The durable store behind one interface, so LevelDB (embedded default) can be swapped for a
// distributed database later without touching channel code (DESIGN.md "Storage and scale").
//
// Contract:
// - `write(ops)` is atomic (all of `ops` or none) and durable when its promise resolves (the batch
//   holding it was synced to disk). Writes of one store apply in call order, so the last write of a
//   key wins.
// - A write that fails rejects with a StoreError; from then on the store refuses every write until it
//   is reopened: a channel must never act on a write whose outcome it does not know.
// - Rejection (not a result value) is deliberate here: after a failed or unknown durable write there
//   is no "next step" for the caller to choose; `await` stops the flow, and the host restarts.
// - A `create` op writes a key only if it has no value yet (stored, or given one by an earlier write
//   that the store applies first). Otherwise the whole write is refused with a StoreConflict: nothing
//   of it is written, and the store carries on (unlike a StoreError). The check and the write are one
//   step with respect to every other write of the store: a new channel's record can never replace
//   another channel's, whichever code path writes it.

export type StoreOp =
  | { readonly type: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: string }
  /** A put that refuses to replace a value (see the contract above). */
  | { readonly type: 'create'; readonly key: string; readonly value: Uint8Array }

export interface IterateOptions {
  /** Newest (lexicographically last) first. */
  readonly reverse?: boolean
  readonly limit?: number
  /** Only keys greater than this one (a page's cursor: the last key of the page before). */
  readonly after?: string
}

export interface Store {
  get (key: string): Promise<Uint8Array | undefined>
  /** Atomic and durable when resolved; see the contract above. */
  write (ops: readonly StoreOp[]): Promise<void>
  /** Entries whose key starts with `prefix`, in key order. */
  iterate (prefix: string, opts?: IterateOptions): AsyncIterable<readonly [string, Uint8Array]>
  /** Waits for writes already submitted, then closes. Later writes reject with reason 'closed'. */
  close (): Promise<void>
}

export type StoreErrorReason =
  | 'write_failed'   // the batch holding this write failed: its outcome on disk is unknown
  | 'store_failed'   // an earlier batch failed; the store refuses writes until reopened
  | 'closed'         // write after close()

export class StoreError extends Error {
  override readonly name = 'StoreError'
  constructor (readonly reason: StoreErrorReason, message: string, options?: { cause?: unknown }) {
    super(`${reason}: ${message}`, options)
  }
}

/** A write refused because a `create` op's key already has a value. Nothing of the write was applied;
 *  the store accepts later writes as before. */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict'
  constructor (readonly key: string) {
    super(`conflict: ${key} already exists`)
  }
}

/** Keys are printable ASCII, so that prefix + '\x7f' bounds a prefix range exactly. */
const KEY = /^[\x20-\x7e]{1,512}$/
export const MAX_KEY_LENGTH = 512

/** Programmer errors (a malformed key or value) throw at once, before anything is queued. */
export function assertOps (ops: readonly StoreOp[]): void {
  if (!Array.isArray(ops)) throw new TypeError('store.write: ops must be an array')
  for (const op of ops) {
    if (typeof op.key !== 'string' || !KEY.test(op.key)) throw new TypeError(`store.write: bad key ${JSON.stringify(op.key)}`)
    if (op.type === 'put' || op.type === 'create') {
      if (!(op.value instanceof Uint8Array)) throw new TypeError(`store.write: value of ${op.key} is not a Uint8Array`)
    } else if (op.type !== 'del') {
      throw new TypeError(`store.write: unknown op type ${JSON.stringify((op as { type: unknown }).type)}`)
    }
  }
}

export function prefixRange (prefix: string): { gte: string; lt: string } {
  if (!/^[\x20-\x7e]*$/.test(prefix)) throw new TypeError(`store.iterate: bad prefix ${JSON.stringify(prefix)}`)
  return { gte: prefix, lt: prefix + '\x7f' }
}

/** The keys of `prefix`, only those greater than `after` if it is given. */
export function keyRange (prefix: string, after?: string): { gte: string; lt: string } | { gt: string; lt: string } {
  const r = prefixRange(prefix)
  if (after === undefined || after < r.gte) return r
  if (!/^[\x20-\x7e]*$/.test(after)) throw new TypeError(`store.iterate: bad after ${JSON.stringify(after)}`)
  return { gt: after, lt: r.lt }
}

// JSON values: most records are JSON; the store itself holds bytes.
const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', { fatal: true })
export const jsonValue = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v))
/** Parse a stored JSON value; the caller validates the shape with its own schema. */
export const parseJsonValue = (b: Uint8Array): unknown => JSON.parse(dec.decode(b))
export const put = (key: string, value: unknown): StoreOp => ({ type: 'put', key, value: jsonValue(value) })
/** A put of text that is already JSON (built by the caller, e.g. around a canonical record). */
export const putJsonText = (key: string, json: string): StoreOp => ({ type: 'put', key, value: enc.encode(json) })
export const del = (key: string): StoreOp => ({ type: 'del', key })
/** A put of a JSON value that refuses to replace an existing one (StoreConflict). */
export const create = (key: string, value: unknown): StoreOp => ({ type: 'create', key, value: jsonValue(value) })
