// The hub's node-key rotation as a pure state machine (DESIGN.md "Node-key rotation"): which keys the
// hub serves at a height, and what `rotate` and `rollback` do to that. The host (hub/identity/) makes
// the key, persists the state this returns and the signed announcement, and only then serves and
// announces them.
//
//   single ──rotate──▶ grace(rotate) ──height ≥ grace_until──▶ single (the new key)
//                          │
//                       rollback
//                          ▼
//                   grace(rollback) ──height ≥ grace_until──▶ single (the old key back)
//
// During a grace both keys are served: clients that still trust the key on its way out connect under
// it and are told. A rollback keeps the same grace_until: clients that switched to the new key learn
// of the rollback under it until then.
import { DEFAULT_NODE_KEY_GRACE_BLOCKS, MAX_NODE_KEY_GRACE_BLOCKS, MIN_NODE_KEY_GRACE_BLOCKS } from '../limits.ts'
import { err, ok, type Result } from '../result.ts'
import type { NodeId } from '../types.ts'
import type { RotationKind, RotationStatement } from './announcement.ts'

export interface NodeKeyState {
  /** Rotations and rollbacks so far (the seq of the last announcement; 0: never rotated). */
  seq: number
  /** The key the hub signs with and proves to clients that ask for no other. */
  current: NodeId
  /** The key served beside `current` until `graceUntilHeight`, and how it left. */
  previous?: { id: NodeId; graceUntilHeight: number; kind: RotationKind }
}

export type NodeKeyPhase =
  | 'single'           // one key served
  | 'grace_rotate'     // rotated: the old key served too until the grace ends; rollback possible
  | 'grace_rollback'   // rolled back: the key rotated in served too until the grace ends

export type RotationRefusal =
  | 'grace_in_progress'   // rotate: the last change's grace has not ended (roll it back, or wait)
  | 'not_in_grace'        // rollback: no rotation within its grace to roll back
  | 'already_rolled_back' // rollback: the change in grace is a rollback
  | 'key_in_use'          // rotate: the new key is one this state serves
  | 'bad_grace'           // rotate: grace blocks out of bounds

export interface RotationError { reason: RotationRefusal; detail: string }

export function initialNodeKeyState (current: NodeId): NodeKeyState { return { seq: 0, current } }

/** Whether the previous key is still served at `height`. */
export function inGrace (s: NodeKeyState, height: number): boolean {
  return s.previous !== undefined && height < s.previous.graceUntilHeight
}

export function phaseAt (s: NodeKeyState, height: number): NodeKeyPhase {
  if (!inGrace(s, height)) return 'single'
  return s.previous?.kind === 'rollback' ? 'grace_rollback' : 'grace_rotate'
}

/** The keys a client may authenticate the hub under at `height`: the current one first. */
export function servedIds (s: NodeKeyState, height: number): NodeId[] {
  return inGrace(s, height) && s.previous !== undefined ? [s.current, s.previous.id] : [s.current]
}

/** Why a rotation would be refused now, before any key is made; undefined when it may go ahead. */
export function rotationRefused (s: NodeKeyState, height: number, graceBlocks: number): RotationError | undefined {
  if (!Number.isSafeInteger(graceBlocks) || graceBlocks < MIN_NODE_KEY_GRACE_BLOCKS || graceBlocks > MAX_NODE_KEY_GRACE_BLOCKS) {
    return {
      reason: 'bad_grace', detail: `grace_blocks: must be a whole number from ${MIN_NODE_KEY_GRACE_BLOCKS} to ${MAX_NODE_KEY_GRACE_BLOCKS}`,
    }
  }
  if (inGrace(s, height)) {
    return {
      reason: 'grace_in_progress',
      detail: `the ${s.previous?.kind ?? 'rotate'} to ${s.current} is in its grace until height ${s.previous?.graceUntilHeight ?? 0} ` +
        `(now ${height}): roll it back or wait for the grace to end`,
    }
  }
  return undefined
}

/** `newId` replaces the current key; the current one is served beside it for `graceBlocks` blocks. */
export function rotate (
  s: NodeKeyState, newId: NodeId, height: number, graceBlocks: number = DEFAULT_NODE_KEY_GRACE_BLOCKS,
): Result<{ state: NodeKeyState; statement: RotationStatement }, RotationError> {
  const refused = rotationRefused(s, height, graceBlocks)
  if (refused !== undefined) return err(refused)
  if (newId === s.current || s.previous?.id === newId) {
    return err({ reason: 'key_in_use', detail: `the new key ${newId} is one this hub has used` })
  }
  const graceUntilHeight = height + graceBlocks
  const seq = s.seq + 1
  return ok({
    state: { seq, current: newId, previous: { id: s.current, graceUntilHeight, kind: 'rotate' } },
    statement: { kind: 'rotate', seq, oldId: s.current, newId, graceUntilHeight },
  })
}

/** Within a rotation's grace: the key rotated out is current again, the one rotated in is served
 *  beside it until the same grace_until (its clients learn of the rollback under it). */
export function rollback (s: NodeKeyState, height: number): Result<{ state: NodeKeyState; statement: RotationStatement }, RotationError> {
  const prev = s.previous
  if (prev === undefined || !inGrace(s, height)) {
    return err({ reason: 'not_in_grace', detail: `no rotation within its grace to roll back at height ${height}` })
  }
  if (prev.kind === 'rollback') {
    return err({ reason: 'already_rolled_back', detail: `the rotation was rolled back already (to ${s.current})` })
  }
  const seq = s.seq + 1
  return ok({
    state: { seq, current: prev.id, previous: { id: s.current, graceUntilHeight: prev.graceUntilHeight, kind: 'rollback' } },
    statement: { kind: 'rollback', seq, oldId: s.current, newId: prev.id, graceUntilHeight: prev.graceUntilHeight },
  })
}

/** The query parameter of a client's upgrade request naming the hub key it expects: the hub proves
 *  that key if it serves it (a client that has not switched yet, during a grace), else its current one.
 *  A parameter, not a handshake field: the hub's first message (hub_hello) already names the key. */
export const EXPECTED_HUB_ID_PARAM = 'hub_id'
