// Which node key the hub proves on a connection (DESIGN.md "Node-key rotation"). One key, unless the
// operator is rotating it: then, during the grace, the key a client asks for in its upgrade request
// (EXPECTED_HUB_ID_PARAM) if it is one of the two served, and the session under the key on its way out
// is told of the rotation first (hub/identity/node-keys.ts keeps the keys and their state).
import { nodeIdOf } from '../../protocol/auth/signature.ts'
import type { NodeId } from '../../protocol/types.ts'
import type { NodeKeyRotationMessage } from '../../protocol/wire/index.ts'

export interface ServedKey { id: NodeId; secret: Uint8Array }

export interface HubKeyRing {
  /** The key to prove to a client that asks for `requested`: that one if it is served now, else the
   *  current one. */
  keyFor (requested: NodeId | undefined): ServedKey
  /** The ids served now, the current one first (an admission token may be signed for any of them). */
  servedIds (): readonly NodeId[]
  /** What a session under `hubId` is told before anything else, if anything: the rotation away from it. */
  announcementFor (hubId: NodeId): NodeKeyRotationMessage | undefined
}

/** A hub with one node key, for good. */
export function fixedKeyRing (secret: Uint8Array): HubKeyRing {
  const key = { id: nodeIdOf(secret), secret }
  return { keyFor: () => key, servedIds: () => [key.id], announcementFor: () => undefined }
}
