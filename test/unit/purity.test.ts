// DESIGN.md rule 1: protocol/ is sans-I/O. It must run in a browser, a fuzzer and a test with no node,
// so it may not import I/O modules, anything of the hub or the SDK, or read the clock or randomness.
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('../../', import.meta.url).pathname
const protocolDir = join(root, 'protocol')

const forbiddenModules = [
  /^ws$/, /^level$/, /^classic-level$/, /^abstract-level$/,
  /^(node:)?(fs|fs\/promises|net|http|https|http2|dgram|dns|tls|child_process|worker_threads|cluster|readline|os|process|timers|timers\/promises|perf_hooks)$/,
]
const forbiddenPaths = [/(^|\/)host\//, /(^|\/)hub\//, /(^|\/)client-sdk\//, /(^|\/)scripts\//, /rpc/i]
const forbiddenCalls: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'reads the clock (Date.now)'],
  [/\bnew\s+Date\s*\(/, 'reads the clock (new Date)'],
  [/\bperformance\.now\s*\(/, 'reads the clock (performance.now)'],
  [/\bprocess\.hrtime\b/, 'reads the clock (process.hrtime)'],
  [/\bMath\.random\s*\(/, 'reads randomness (Math.random)'],
  [/\bcrypto\.getRandomValues\b/, 'reads randomness (crypto.getRandomValues)'],
  [/\brandomBytes\b/, 'reads randomness (randomBytes)'],
  [/\bsetTimeout\s*\(|\bsetInterval\s*\(|\bsetImmediate\s*\(/, 'starts a timer'],
  [/\bprocess\.(env|argv|exit)\b/, 'reads the process environment'],
]

function sourceFiles (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (/\.(ts|js|mts|mjs)$/.test(name)) out.push(p)
  }
  return out
}

/** Every module specifier a file names: static imports/exports, dynamic import() and require(). */
export function specifiers (src: string): string[] {
  const specs: string[] = []
  const patterns = [
    /\bimport\s+(?:type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bexport\s+(?:type\s+)?[^'"]*?\s+from\s+['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ]
  for (const re of patterns) for (const m of src.matchAll(re)) specs.push(m[1]!)
  return specs
}

export function violations (file: string, src: string): string[] {
  const found: string[] = []
  const code = src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1')
  for (const spec of specifiers(code)) {
    if (forbiddenModules.some(re => re.test(spec))) found.push(`${file}: imports I/O module '${spec}'`)
    if (spec.startsWith('.') && forbiddenPaths.some(re => re.test(join(file, '..', spec).replace(root, '')))) {
      found.push(`${file}: imports '${spec}' from outside protocol/`)
    }
  }
  for (const [re, what] of forbiddenCalls) if (re.test(code)) found.push(`${file}: ${what}`)
  return found
}

t.test('the checker itself catches each kind of violation', async t => {
  t.match(violations('protocol/x.ts', "import { WebSocket } from 'ws'"), [/imports I\/O module 'ws'/])
  t.match(violations('protocol/x.ts', "import { readFile } from 'node:fs'"), [/node:fs/])
  t.match(violations('protocol/x.ts', "import { Level } from 'level'"), [/level/])
  t.match(violations('protocol/x.ts', "const cp = await import('node:child_process')"), [/child_process/])
  t.match(violations(join(protocolDir, 'a/x.ts'), "import { Hub } from '../../hub/main.ts'"), [/outside protocol/])
  t.match(violations(join(protocolDir, 'x.ts'), "import { rpc } from '../hub/chain/rpc.ts'"), [/outside protocol/])
  t.match(violations('protocol/x.ts', 'const now = Date.now()'), [/clock/])
  t.match(violations('protocol/x.ts', 'const r = Math.random()'), [/randomness/])
  t.same(violations('protocol/x.ts', "import { z } from 'zod'\n// Date.now() is not called here"), [])
})

t.test('no file under protocol/ does I/O, reads the clock or randomness', async t => {
  const files = sourceFiles(protocolDir)
  const all = files.flatMap(f => violations(f, readFileSync(f, 'utf8')).map(v => relative(root, v)))
  t.same(all, [], 'protocol/ is pure')
})
