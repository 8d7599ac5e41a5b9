// The operator's node-key rotation (DESIGN.md "Node-key rotation", hub/identity/node-keys.ts):
// GET /node-key (state), POST /node-key/rotate (stage a new key, announced to clients, the old one
// served beside it until the grace ends), POST /node-key/rollback (within the grace, the old key back).
// Their documentation joins ROUTES in hub/admin/server.ts; they run as extra routes behind the
// tokens (the POSTs: the admin token). hubctl rotate-key uses them.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import { DEFAULT_NODE_KEY_GRACE_BLOCKS, MAX_NODE_KEY_GRACE_BLOCKS, MIN_NODE_KEY_GRACE_BLOCKS } from '../../protocol/limits.ts'
import type { HubNodeKeys } from '../identity/node-keys.ts'
import type { ExtraRoute, RouteDoc } from './server.ts'

const STATUS = '{phase: single | grace_rotate | grace_rollback, current, previous, grace_until_height, height, seq, announcement}'

export const NODE_KEY_ROUTES: readonly RouteDoc[] = [
  {
    method: 'GET', path: '/node-key',
    answer: `${STATUS}: the key the hub proves by default, the one served beside it until grace_until_height, and the last announcement`,
  },
  {
    method: 'POST', path: '/node-key/rotate', body: '{grace_blocks?}',
    answer: `${STATUS}: a new node key, durable before it is served or announced; the old one is served beside it for grace_blocks `
      + `(default ${DEFAULT_NODE_KEY_GRACE_BLOCKS}, ${MIN_NODE_KEY_GRACE_BLOCKS}..${MAX_NODE_KEY_GRACE_BLOCKS}) blocks; every client `
      + 'under the old key is told, signed by both keys; 409 while a grace runs',
  },
  {
    method: 'POST', path: '/node-key/rollback',
    answer: `${STATUS}: within a rotation's grace, the key rotated out is current again and the one rotated in is served until the `
      + 'same grace_until_height; its clients are told, signed by both keys; 409 outside a grace or after a rollback',
  },
]

const rotateBody = z.strictObject({
  grace_blocks: z.number().int({ error: 'must be a whole number of blocks' })
    .min(MIN_NODE_KEY_GRACE_BLOCKS).max(MAX_NODE_KEY_GRACE_BLOCKS).optional(),
})

export function nodeKeyRoutes (keys: HubNodeKeys): ExtraRoute {
  return async (req, res, path) => {
    const route = `${req.method ?? 'GET'} ${path}`
    if (route === 'GET /node-key') { send(res, 200, keys.status()); return true }
    if (route === 'POST /node-key/rotate') {
      let body: unknown
      try { body = await readJson(req) } catch (e) { send(res, 400, { error: (e as Error).message }); return true }
      const b = rotateBody.safeParse(body)
      if (!b.success) {
        send(res, 400, { error: b.error.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') })
        return true
      }
      const r = keys.rotate(b.data.grace_blocks)
      send(res, r.ok ? 200 : 409, r.ok ? r.value : { error: `${r.error.reason}: ${r.error.detail}` })
      return true
    }
    if (route === 'POST /node-key/rollback') {
      const r = keys.rollback()
      send(res, r.ok ? 200 : 409, r.ok ? r.value : { error: `${r.error.reason}: ${r.error.detail}` })
      return true
    }
    return false
  }
}

/** The rotate body is one small field: anything longer is not one. */
const MAX_ROTATE_BODY_BYTES = 1_024

async function readJson (req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > MAX_ROTATE_BODY_BYTES) throw new Error(`body: larger than ${MAX_ROTATE_BODY_BYTES} bytes`)
    chunks.push(c as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return {}
  try { return JSON.parse(text) } catch { throw new Error('body: not JSON') }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
