// The hub's node keys and their rotation state on disk (DESIGN.md "Node-key rotation"):
//   <dataDir>/node-key.hex              the first key (hub/node-key.ts), created at the first start
//   <dataDir>/node-keys/<node id>.hex   each key made by a rotation: 32 bytes of lowercase hex, 0600
//   <dataDir>/node-key-rotation.json    which key is current, which is served beside it until when,
//                                       and the signed announcement of the last change (0600)
// A new key's file is written and synced (file and folder) before the state names it, and the state is
// replaced whole (a synced temporary file renamed over it, the folder synced) before the hub serves or
// announces it: a crash leaves the old state, or the new one, never half of one; at worst a key file
// nothing names. No key file is ever deleted by the hub: a retired key is the operator's to destroy.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { isValidNodeId, nodeIdOf } from '../../protocol/auth/signature.ts'
import type { NodeKeyState } from '../../protocol/node-key/rotation.ts'
import { bytesToHex, hexToBytes, type NodeId } from '../../protocol/types.ts'
import { nodeKeyRotation } from '../../protocol/wire/node-key-messages.ts'
import type { NodeKeyRotationMessage } from '../../protocol/wire/index.ts'

export const NODE_KEYS_DIR = 'node-keys'
export const ROTATION_FILE = 'node-key-rotation.json'
/** The key the hub started with (hub/node-key.ts). */
const FIRST_KEY_FILE = 'node-key.hex'

export interface NodeKey { id: NodeId; secret: Uint8Array }

/** What node-key-rotation.json holds. */
export interface RotationRecord { state: NodeKeyState; announcement: NodeKeyRotationMessage }

const nodeIdSchema = z.string().refine(isValidNodeId, { error: 'must be a node id (33-byte compressed key, hex)' })
  .transform(s => s as NodeId)
const recordSchema = z.strictObject({
  v: z.literal(1),
  state: z.strictObject({
    seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    current: nodeIdSchema,
    previous: z.strictObject({
      id: nodeIdSchema, graceUntilHeight: z.number().int().min(0).max(0xffff_ffff), kind: z.enum(['rotate', 'rollback']),
    }).optional(),
  }),
  announcement: nodeKeyRotation,
})

function syncDir (dir: string): void {
  const fd = fs.openSync(dir, 'r')
  try { fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
}

function readKeyFile (file: string): Uint8Array {
  const text = fs.readFileSync(file, 'utf8').trim()
  if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${file}: expected 32 bytes of lowercase hex`)
  return hexToBytes(text)
}

/** A fresh key, durable in node-keys/ before this returns. */
export function createNodeKey (dataDir: string): NodeKey {
  const dir = path.join(dataDir, NODE_KEYS_DIR)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const secret = randomBytes(32)
  const id = nodeIdOf(secret)
  const fd = fs.openSync(path.join(dir, `${id}.hex`), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
  try { fs.writeSync(fd, bytesToHex(secret) + '\n'); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  syncDir(dir)
  syncDir(dataDir)
  return { id, secret: new Uint8Array(secret) }
}

/** The secret of key `id`: node-key.hex if it is that key, else node-keys/<id>.hex. Throws naming the
 *  file when it is missing or is not that key. */
export function readNodeKey (dataDir: string, id: NodeId): Uint8Array {
  // node-key.hex is read, never made here: after a rotation the operator may have destroyed it.
  const firstFile = path.join(dataDir, FIRST_KEY_FILE)
  if (fs.existsSync(firstFile)) {
    const first = readKeyFile(firstFile)
    if (nodeIdOf(first) === id) return first
  }
  const file = path.join(dataDir, NODE_KEYS_DIR, `${id}.hex`)
  if (!fs.existsSync(file)) throw new Error(`${file}: missing (${ROTATION_FILE} names this key)`)
  const secret = readKeyFile(file)
  if (nodeIdOf(secret) !== id) throw new Error(`${file}: is not the key of ${id}`)
  return secret
}

/** The rotation state, or undefined when the hub never rotated (its key is node-key.hex). */
export function loadRotationRecord (dataDir: string): RotationRecord | undefined {
  const file = path.join(dataDir, ROTATION_FILE)
  if (!fs.existsSync(file)) return undefined
  const parsed = recordSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')))
  if (!parsed.success) {
    throw new Error(`${file}: ${parsed.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  }
  const { state, announcement } = parsed.data
  return { state: state.previous === undefined ? { seq: state.seq, current: state.current } : state, announcement }
}

/** Replaces the rotation state, durably, before it returns. */
export function saveRotationRecord (dataDir: string, r: RotationRecord): void {
  const file = path.join(dataDir, ROTATION_FILE)
  const tmp = file + '.tmp'
  const fd = fs.openSync(tmp, 'w', 0o600)
  try { fs.writeSync(fd, JSON.stringify({ v: 1, ...r }) + '\n'); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  fs.renameSync(tmp, file)
  syncDir(dataDir)
}
