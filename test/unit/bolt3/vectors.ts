// Loads ../shared/bolt3-vectors (next to the repo, as CI lays it out) and the two curve backends.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { nobleCurve } from '../../../protocol/crypto/noble.ts'
import { tinyCurve } from '../../../protocol/crypto/tiny.ts'
import type { Curve } from '../../../protocol/crypto/index.ts'

export const repoRoot = new URL('../../../', import.meta.url).pathname
export const vectorsDir = join(repoRoot, '..', 'shared', 'bolt3-vectors')
export const curves: Curve[] = [nobleCurve, tinyCurve]

// The vector files are trusted test fixtures: read as loosely typed JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadVectors (name: string): any {
  return JSON.parse(readFileSync(join(vectorsDir, name), 'utf8'))
}
