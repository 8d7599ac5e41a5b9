// The layout of docs/DESIGN.md, enforced: each top-level folder imports only the folders its row of the
// layout table names ("| folder | may import | what it holds |"), read from the document itself, so
// the table and the code cannot drift apart. Beside the table:
// - protocol/ is sans-I/O (DESIGN.md rule 1): no I/O module, no clock, no randomness, no timer, no
//   process environment, so it runs in a browser, a fuzzer and a test with no node;
// - host/ and client-sdk/ run in a browser too, except their Node adapters: no node:* (or bare Node
//   built-in), `level` or `ws` import outside a `node/` folder and host/chain/btcd/.
import t from 'tap'
import { builtinModules } from 'node:module'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, posix, relative, sep } from 'node:path'

const root = new URL('../../', import.meta.url).pathname

// ── The layout table ──

/** A folder's row: the folders it may import ('*': everything). */
export type Layout = Map<string, string[] | '*'>

/** Reads the table whose header is `| folder | may import | what it holds |`. Cells name folders in
 *  backticks (`host/`); "(nothing)" and "—" name none; "everything" allows every folder. */
export function parseLayout (markdown: string): Layout {
  const lines = markdown.split('\n')
  const header = lines.findIndex(l => /^\|\s*folder\s*\|\s*may import\s*\|\s*what it holds\s*\|\s*$/.test(l))
  if (header < 0) throw new Error('no "| folder | may import | what it holds |" table')
  const layout: Layout = new Map()
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break
    const [folderCell = '', importsCell = ''] = line.split('|').slice(1).map(c => c.trim())
    const folder = /^`([a-z0-9-]+)\/`$/.exec(folderCell)?.[1]
    if (folder === undefined) throw new Error(`layout row without a folder: ${line}`)
    const named = [...importsCell.matchAll(/`([a-z0-9-]+)\/`/g)].map(m => m[1]!)
    if (importsCell === 'everything') layout.set(folder, '*')
    else if (named.length > 0) layout.set(folder, named)
    else if (importsCell === '(nothing)' || importsCell === '—') layout.set(folder, [])
    else throw new Error(`layout row for ${folder}/: cannot read "${importsCell}"`)
  }
  return layout
}

// ── What a file imports ──

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

const withoutComments = (src: string): string => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1')

// ── The rules ──

/** Node built-ins that do I/O, which protocol/ may not import (with or without `node:`). */
const IO_BUILTINS = [
  'fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'dgram', 'dns', 'tls', 'child_process', 'worker_threads', 'cluster', 'readline',
  'os', 'process', 'timers', 'timers/promises', 'perf_hooks',
]
/** An I/O module: one of those, or a socket or database package. */
const ioModule = (spec: string): boolean =>
  ['ws', 'level', 'classic-level', 'abstract-level'].includes(spec) || IO_BUILTINS.includes(spec.replace(/^node:/, ''))

/** What protocol/ may not call: it gets time, randomness and configuration as arguments. */
const impureCalls: Array<[RegExp, string]> = [
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
/** Modules only a Node adapter of host/ or client-sdk/ may import. */
const nodeOnly = (spec: string): boolean =>
  spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!) || [
    'level', 'classic-level', 'abstract-level', 'ws',
  ].includes(spec)
/** Where host/ and client-sdk/ keep their Node adapters. */
const isNodeAdapter = (file: string): boolean => file.split('/').includes('node') || file.startsWith('host/chain/btcd/')

/** The violations of `file` (a path relative to the repo root, with '/'), whose text is `src`. */
export function violations (file: string, src: string, layout: Layout): string[] {
  const found: string[] = []
  const folder = file.split('/')[0]!
  const allowed = layout.get(folder)
  if (allowed === undefined || !file.includes('/')) return [`${file}: not in a folder of the layout table`]
  const code = withoutComments(src)
  for (const spec of specifiers(code)) {
    if (spec.startsWith('.')) {
      const target = posix.normalize(posix.join(posix.dirname(file), spec))
      const to = target.split('/')[0]!
      if (to !== folder && allowed !== '*' && !allowed.includes(to)) {
        found.push(`${file}: imports '${spec}' (${to}/), but ${folder}/ may import ` +
          `${allowed.length === 0 ? 'nothing' : allowed.map(f => `${f}/`).join(', ')}`)
      }
    } else if (folder === 'protocol' && ioModule(spec)) {
      found.push(`${file}: imports I/O module '${spec}'`)
    } else if ((folder === 'host' || folder === 'client-sdk') && nodeOnly(spec) && !isNodeAdapter(file)) {
      found.push(`${file}: imports '${spec}' outside a node/ folder (only Node adapters may)`)
    }
  }
  if (folder === 'protocol') for (const [re, what] of impureCalls) if (re.test(code)) found.push(`${file}: ${what}`)
  return found
}

/** The rules the table itself must keep, whatever else changes in it. */
export function tableProblems (layout: Layout): string[] {
  const problems: string[] = []
  const may = (a: string, b: string): boolean => { const l = layout.get(a); return l === '*' || (l?.includes(b) ?? false) }
  for (const f of ['protocol', 'host', 'hub', 'client-sdk', 'scripts', 'test']) if (!layout.has(f)) problems.push(`no row for ${f}/`)
  if (layout.get('protocol') !== undefined && (layout.get('protocol') === '*' || layout.get('protocol')!.length > 0)) problems.push(
    'protocol/ may import something'
  )
  if (may('hub', 'client-sdk')) problems.push('hub/ may import client-sdk/')
  if (may('client-sdk', 'hub')) problems.push('client-sdk/ may import hub/')
  for (const f of layout.keys()) if (f !== 'test' && may(f, 'test')) problems.push(`${f}/ may import test/`)
  return problems
}

// ── The tree ──

/** Not sources: dependencies, tool and test output, and build output (client-sdk/dist, npm run build:sdk). */
const SKIP = new Set(['node_modules', '.git', '.tools', '.tap', '.data', 'dist'])

function sourceFiles (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(name)) out.push(p)
  }
  return out
}

const layout = parseLayout(readFileSync(join(root, 'docs', 'DESIGN.md'), 'utf8'))
const rel = (p: string): string => relative(root, p).split(sep).join('/')

// ── Tests ──

t.test('the checker itself catches each kind of violation', async t => {
  const l = parseLayout([
    '| folder | may import | what it holds |', '|---|---|---|',
    '| `protocol/` | (nothing) | pure |', '| `host/` | `protocol/` | host side |',
    '| `hub/` | `host/`, `protocol/` | server |', '| `client-sdk/` | `host/`, `protocol/` | SDK |',
    '| `scripts/` | `hub/`, `client-sdk/`, `host/`, `protocol/` | scripts |', '| `test/` | everything | tests |',
    '| `docs/` | — | this document |',
  ].join('\n'))
  t.same([...l.entries()], [
    ['protocol', []], ['host', ['protocol']], ['hub', ['host', 'protocol']], ['client-sdk', ['host', 'protocol']],
    ['scripts', ['hub', 'client-sdk', 'host', 'protocol']], ['test', '*'], ['docs', []],
  ], 'the table is read row by row')
  t.same(tableProblems(l), [], 'that table keeps the fixed rules')
  t.same(
    tableProblems(new Map([...l, ['hub', ['client-sdk']], ['scripts', ['test']]])),
    ['hub/ may import client-sdk/', 'scripts/ may import test/'],
  )
  t.throws(() => parseLayout('# no table'), /no "\| folder/)

  // Arrows between folders.
  t.match(
    violations('protocol/a/x.ts', "import { Hub } from '../../hub/main.ts'", l),
    [/imports '..\/..\/hub\/main.ts' \(hub\/\), but protocol\/ may import nothing/],
  )
  t.match(violations('protocol/x.ts', "import { k } from '../host/store/keys.ts'", l), [/\(host\/\)/])
  t.match(violations('host/store/x.ts', "import { Router } from '../../hub/router/router.ts'", l), [/host\/ may import protocol\//])
  t.match(violations('client-sdk/x.ts', "import '../hub/main.ts'", l), [/client-sdk\/ may import host\/, protocol\//])
  t.match(violations('hub/x.ts', "export { HubClient } from '../client-sdk/index.ts'", l), [/\(client-sdk\/\)/])
  t.match(violations('scripts/lib/x.ts', "const h = await import('../../test/helpers/hub.ts')", l), [/\(test\/\)/])
  t.same(violations('scripts/lib/x.ts', "import { HubClient } from '../../client-sdk/index.ts'", l), [])
  t.same(violations('test/unit/x.ts', "import { main } from '../../hub/main.ts'\nimport '../../scripts/lib/btcd.ts'", l), [])
  t.same(violations('hub/channels/x.ts', "import { y } from './y.ts'\nimport type { S } from '../../host/store/index.ts'", l), [])
  t.match(violations('x.ts', '', l), [/not in a folder of the layout table/])
  t.match(violations('vendor/x.ts', '', l), [/not in a folder of the layout table/])

  // protocol/ is pure.
  t.match(violations('protocol/x.ts', "import { WebSocket } from 'ws'", l), [/imports I\/O module 'ws'/])
  t.match(violations('protocol/x.ts', "import { readFile } from 'node:fs'", l), [/node:fs/])
  t.match(violations('protocol/x.ts', "import { Level } from 'level'", l), [/level/])
  t.match(violations('protocol/x.ts', "const cp = await import('node:child_process')", l), [/child_process/])
  t.match(violations('protocol/x.ts', 'const now = Date.now()', l), [/clock/])
  t.match(violations('protocol/x.ts', 'const r = Math.random()', l), [/randomness/])
  t.match(violations('protocol/x.ts', 'setTimeout(f, 1)', l), [/timer/])
  t.same(violations('protocol/x.ts', "import { z } from 'zod'\n// Date.now() is not called here", l), [])
  t.same(violations('hub/x.ts', 'const now = Date.now()', l), [], 'the hub may read the clock')

  // Node adapters.
  t.match(violations('host/wallet/x.ts', "import fs from 'node:fs'", l), [/outside a node\/ folder/])
  t.match(violations('client-sdk/x.ts', "import path from 'path'", l), [/'path' outside a node\/ folder/])
  t.match(violations('client-sdk/transport/x.ts', "const { WebSocket } = await import('ws')", l), [/'ws'/])
  t.match(violations('host/store/x.ts', "import { Level } from 'level'", l), [/'level'/])
  t.same(violations('host/store/node/level-store.ts', "import { Level } from 'level'", l), [])
  t.same(violations('client-sdk/node/socket.ts', "import { WebSocket } from 'ws'", l), [])
  t.same(violations('host/chain/btcd/node.ts', "import { spawn } from 'node:child_process'", l), [])
  t.same(violations('host/x.ts', "import { z } from 'zod'\n// import fs from 'node:fs'", l), [], 'comments are not imports')
  t.same(violations('hub/x.ts', "import fs from 'node:fs'\nimport { WebSocketServer } from 'ws'", l), [], 'the hub is Node')
})

t.test('docs/DESIGN.md has the layout table and it keeps the fixed rules', async t => {
  t.ok(layout.size >= 6, `${layout.size} folders in the table`)
  t.same(tableProblems(layout), [])
  const top = readdirSync(root).filter(n => !SKIP.has(n) && !n.startsWith('.') && statSync(join(root, n)).isDirectory())
  t.same(top.filter(f => !layout.has(f)), [], 'every top-level folder has a row')
  t.same([...layout.keys()].filter(f => !top.includes(f)), [], 'every row names a folder that exists')
})

t.test('every source file imports only what its folder may, and protocol/ is pure', async t => {
  const files = sourceFiles(root).map(rel)
  t.ok(files.some(f => f.startsWith('protocol/')) && files.some(f => f.startsWith('client-sdk/')), `${files.length} files checked`)
  const all = files.flatMap(f => violations(f, readFileSync(join(root, f), 'utf8'), layout))
  t.same(all, [], 'no import crosses the layout')
})
