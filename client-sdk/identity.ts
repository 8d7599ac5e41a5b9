// Which node a client's store belongs to. The first client to use a store records the node id of its
// nodeKey there; a client with another nodeKey is refused. Under another key it would speak for
// another node: the hub would not know it as the partner of the stored channels, its invoices would
// be signed by another key, and two parties' payment records would mix in one store.
import { z } from 'zod'
import { create, keys, parseJsonValue, StoreConflict, type Store } from '../host/store/index.ts'
import type { NodeId } from '../protocol/types.ts'

const identityRecord = z.strictObject({ node_id: z.string().regex(/^0[23][0-9a-f]{64}$/) })

/** Records `nodeId` as the store's owner, or checks it is the one recorded. Throws a TypeError naming
 *  options.nodeKey (a bad argument, options.ts) when the store belongs to another node. */
export async function claimStore (store: Store, nodeId: NodeId): Promise<void> {
  let stored = await ownerOf(store)
  if (stored === undefined) {
    try {
      await store.write([create(keys.clientNodeId, { node_id: nodeId })])
      return
    } catch (e) {
      if (!(e instanceof StoreConflict)) throw e
      stored = await ownerOf(store)
    }
  }
  if (stored !== nodeId) {
    throw new TypeError(`options.nodeKey: this data directory (its store) belongs to node ${stored ?? '(unreadable)'}, `
      + `but this nodeKey is node ${nodeId}: give the key that created it, or another dataDir`)
  }
}

async function ownerOf (store: Store): Promise<string | undefined> {
  const v = await store.get(keys.clientNodeId)
  if (v === undefined) return undefined
  const r = identityRecord.safeParse(parseJsonValue(v))
  if (!r.success) throw new TypeError(`options.nodeKey: the store's ${keys.clientNodeId} record is not a node id: ${r.error.message}`)
  return r.data.node_id
}
