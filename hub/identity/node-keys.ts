// The hub's node keys and their rotation (DESIGN.md "Node-key rotation"): the key ring the transport
// proves keys from (hub/transport/key-ring.ts), and the operator's rotate and rollback
// (hub/admin/node-key-routes.ts). The decisions are protocol/node-key/rotation.ts's; this host does,
// in this order, what makes them safe to act on:
//   1. a rotation's new key is made and synced to its file (key-files.ts);
//   2. the new state and its announcement, signed by both keys, are synced;
//   3. only then are they served: handshakes under either key during the grace, the announcement to
//      every session under the key on its way out (`announce`) and to every client that connects
//      under it later (announcementFor, sent by the transport before the session opens).
// A restart during the grace loads the same state and goes on serving both keys. When the chain
// reaches grace_until_height the key on its way out is no longer served, and its sessions are ended
// (`retired`): their clients, told already, reconnect under the key that stays.
import { random32 } from '../../host/random.ts'
import { nodeIdOf } from '../../protocol/auth/signature.ts'
import { signRotation, type RotationStatement } from '../../protocol/node-key/announcement.ts'
import {
  inGrace, initialNodeKeyState, phaseAt, rollback, rotate, rotationRefused, servedIds,
  type NodeKeyPhase, type NodeKeyState, type RotationError,
} from '../../protocol/node-key/rotation.ts'
import { DEFAULT_NODE_KEY_GRACE_BLOCKS } from '../../protocol/limits.ts'
import { err, ok, type Result } from '../../protocol/result.ts'
import type { NodeId } from '../../protocol/types.ts'
import type { NodeKeyRotationMessage } from '../../protocol/wire/index.ts'
import type { HubKeyRing, ServedKey } from '../transport/key-ring.ts'
import { loadNodeKey } from '../node-key.ts'
import { createNodeKey, loadRotationRecord, readNodeKey, saveRotationRecord } from './key-files.ts'

/** GET /node-key: what the operator sees. */
export interface NodeKeyStatus {
  phase: NodeKeyPhase
  /** The key the hub signs with and proves by default. */
  current: NodeId
  /** The key served beside it until grace_until_height (null outside a grace). */
  previous: NodeId | null
  grace_until_height: number | null
  height: number
  /** Rotations and rollbacks so far. */
  seq: number
  /** The last announcement (null if the hub never rotated). */
  announcement: NodeKeyRotationMessage | null
}

export interface NodeKeyHooks {
  /** A new announcement is durable: tell the sessions under the key it rotates away from. */
  announce: (msg: NodeKeyRotationMessage) => void
  /** `id` is no longer served: end the sessions under it. */
  retired: (id: NodeId) => void
  log: (event: Record<string, unknown>) => void
}

export class HubNodeKeys implements HubKeyRing {
  private hooks: NodeKeyHooks | undefined
  /** The key whose grace was still running at the last look (its end is reported once). */
  private graceKey: NodeId | undefined

  private constructor (
    private readonly dataDir: string,
    private readonly height: () => number,
    private state: NodeKeyState,
    private readonly secrets: Map<NodeId, Uint8Array>,
    private announcement: NodeKeyRotationMessage | undefined,
  ) {
    this.graceKey = inGrace(state, height()) ? state.previous?.id : undefined
  }

  /** The keys of the hub whose data directory is `dataDir` (the first created if there is none). */
  static open (dataDir: string, height: () => number): HubNodeKeys {
    const record = loadRotationRecord(dataDir)
    if (record === undefined) {
      const secret = loadNodeKey(dataDir)
      const id = nodeIdOf(secret)
      return new HubNodeKeys(dataDir, height, initialNodeKeyState(id), new Map([[id, secret]]), undefined)
    }
    const secrets = new Map<NodeId, Uint8Array>([[record.state.current, readNodeKey(dataDir, record.state.current)]])
    // A key whose grace is over is not read: its file may be gone (the operator destroys retired keys).
    const previous = record.state.previous
    if (previous !== undefined && inGrace(record.state, height())) secrets.set(previous.id, readNodeKey(dataDir, previous.id))
    return new HubNodeKeys(dataDir, height, record.state, secrets, record.announcement)
  }

  /** Called once the transport can send and end sessions. */
  attach (hooks: NodeKeyHooks): void { this.hooks = hooks }

  get currentId (): NodeId { return this.state.current }
  get currentSecret (): Uint8Array { return this.secretOf(this.state.current) }

  keyFor (requested: NodeId | undefined): ServedKey {
    const id = requested !== undefined && this.servedIds().includes(requested) ? requested : this.state.current
    return { id, secret: this.secretOf(id) }
  }

  servedIds (): readonly NodeId[] { return servedIds(this.state, this.height()).filter(id => this.secrets.has(id)) }

  announcementFor (hubId: NodeId): NodeKeyRotationMessage | undefined {
    const a = this.announcement
    return a !== undefined && hubId === a.old_id && hubId !== this.state.current && this.servedIds().includes(hubId) ? a : undefined
  }

  status (): NodeKeyStatus {
    const height = this.height()
    const grace = inGrace(this.state, height) ? this.state.previous : undefined
    return {
      phase: phaseAt(this.state, height), current: this.state.current, previous: grace?.id ?? null,
      grace_until_height: grace?.graceUntilHeight ?? null, height, seq: this.state.seq, announcement: this.announcement ?? null,
    }
  }

  /** Stages a new key: served beside the current one for `graceBlocks` blocks, announced to clients. */
  rotate (graceBlocks: number = DEFAULT_NODE_KEY_GRACE_BLOCKS): Result<NodeKeyStatus, RotationError> {
    const height = this.height()
    // Refused before a key is made: a refused rotation leaves nothing behind.
    const refused = rotationRefused(this.state, height, graceBlocks)
    if (refused !== undefined) return err(refused)
    const key = createNodeKey(this.dataDir)
    const r = rotate(this.state, key.id, height, graceBlocks)
    if (!r.ok) return r
    this.secrets.set(key.id, key.secret)
    return ok(this.commit(r.value.state, r.value.statement))
  }

  /** Within a rotation's grace: the key rotated out is current again; clients are told. */
  rollback (): Result<NodeKeyStatus, RotationError> {
    const r = rollback(this.state, this.height())
    if (!r.ok) return err(r.error)
    return ok(this.commit(r.value.state, r.value.statement))
  }

  /** A block: the end of a grace retires the key on its way out. */
  onBlock (): void {
    const height = this.height()
    if (this.graceKey === undefined || inGrace(this.state, height)) return
    const id = this.graceKey
    this.graceKey = undefined
    this.hooks?.log({ event: 'node_key_grace_ended', retired: id, current: this.state.current, height })
    this.hooks?.retired(id)
  }

  /** Persists, then serves, then announces (the order is the point: see the top of this file). */
  private commit (state: NodeKeyState, statement: RotationStatement): NodeKeyStatus {
    this.onBlock() // a grace that ended with no block since is reported first
    const announcement = signRotation(
      statement, this.secretOf(statement.oldId), this.secretOf(statement.newId), [random32(), random32()],
    )
    saveRotationRecord(this.dataDir, { state, announcement })
    this.state = state
    this.announcement = announcement
    this.graceKey = state.previous?.id
    // Only the keys this state serves stay in memory.
    for (const id of [...this.secrets.keys()]) if (id !== state.current && id !== state.previous?.id) this.secrets.delete(id)
    this.hooks?.log({
      event: `node_key_${statement.kind}`, seq: statement.seq, old_id: statement.oldId, new_id: statement.newId,
      grace_until_height: statement.graceUntilHeight,
    })
    this.hooks?.announce(announcement)
    return this.status()
  }

  private secretOf (id: NodeId): Uint8Array {
    const s = this.secrets.get(id)
    if (s === undefined) throw new Error(`node key ${id}: not loaded`)
    return s
  }
}
