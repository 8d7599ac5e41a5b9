// hubctl rotate-key: the hub's node-key rotation (hub/admin/node-key-routes.ts). `rotate-key` stages
// a new key (POST /node-key/rotate), `rotate-key status` shows where it is (GET /node-key),
// `rotate-key rollback` brings the old key back within the grace (POST /node-key/rollback).
import type { AdminClient } from './client.ts'
import type { Out } from './commands.ts'
import { fields } from './table.ts'

type Row = Record<string, unknown>

const PHASE_TEXT: Record<string, string> = {
  single: 'one key',
  grace_rotate: 'rotated: the old key is served too until the grace ends; rollback possible',
  grace_rollback: 'rolled back: the key rotated in is served too until the grace ends',
}

function statusText (s: Row): string {
  const a = (s.announcement ?? null) as Row | null
  return fields([
    ['phase', `${String(s.phase)} (${PHASE_TEXT[String(s.phase)] ?? '?'})`],
    ['current key (hub id)', String(s.current)],
    ['also served', s.previous === null ? '-' : String(s.previous)],
    ['grace until height', s.grace_until_height === null ? '-' : `${String(s.grace_until_height)} (now ${String(s.height)})`],
    ['rotations', String(s.seq)],
    ['last announcement', a === null ? '-' : `${String(a.seq)}: ${String(a.kind)} ${String(a.old_id)} → ${String(a.new_id)}`],
  ])
}

function emit (o: Out, body: Row): void {
  o.print(o.json ? JSON.stringify(body, null, 2) : statusText(body))
}

export async function rotateKey (c: AdminClient, o: Out, graceBlocks: number | undefined): Promise<void> {
  emit(o, (await c.call('POST', '/node-key/rotate', graceBlocks === undefined ? {} : { grace_blocks: graceBlocks })).body as Row)
}

export async function rotateKeyStatus (c: AdminClient, o: Out): Promise<void> {
  emit(o, (await c.call('GET', '/node-key')).body as Row)
}

export async function rotateKeyRollback (c: AdminClient, o: Out): Promise<void> {
  emit(o, (await c.call('POST', '/node-key/rollback')).body as Row)
}
