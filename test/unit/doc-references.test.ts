// Every file path named in a comment or a document exists: a reader sent to a file that is not there
// is misled about where the code (or its test) is. Reads the comments of every source file (found by
// the TypeScript parser, so a string is never taken for a comment), the `#` comments of shell scripts
// and every Markdown file, and checks:
// - repo paths: `protocol/channel/step.ts`, `host/chain/btcd/`, `host/monitor`, globs such as
//   `test/chaos/sdk-kill-*.test.ts` (at least one file matches);
// - in source comments, relative paths, resolved from the file that names them; not in usage
//   examples (`import … from '…'`, written from the reader's file), not in Markdown (which names the
//   project brief beside the repository by a path relative to the repository).
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const TOP = ['protocol', 'host', 'hub', 'client-sdk', 'scripts', 'test', 'docs']
// client-sdk/dist is the SDK's build output (npm run build:sdk), not a source.
const SKIP = new Set(['node_modules', 'vectors', 'dist'])
/** Paths a build makes (npm run build:sdk), named in the documents but absent from a fresh clone. */
const BUILD_OUTPUTS = ['client-sdk/dist']

function * files (dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) {
      if (!SKIP.has(e.name) && !e.name.startsWith('.')) yield * files(p)
    } else if (/\.(ts|mjs|js|sh|md)$/.test(e.name)) yield p
  }
}

/** Every comment of a TypeScript or JavaScript source, in order. A comment lies in the trivia between
 *  two tokens, and nodes start and end at token boundaries: the trivia after each node's start and end
 *  hold them all (but one alone inside an empty block, which names no file anyway). */
export function comments (file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS)
  const found = new Map<number, string>()
  const at = (pos: number): void => {
    for (const r of [
      ...ts.getTrailingCommentRanges(text, pos) ?? [], ...ts.getLeadingCommentRanges(text, pos) ?? []
    ]) found.set(r.pos, text.slice(r.pos, r.end))
  }
  const visit = (n: ts.Node): void => { at(n.pos); at(n.end); ts.forEachChild(n, visit) }
  visit(sf)
  return [...found.entries()].sort(([a], [b]) => a - b).map(([, c]) => c)
}

/** The text a reader is sent by: a Markdown file whole, a source file's comments, a shell script's
 *  `#` comments. */
export function prose (file: string, text: string): string {
  if (file.endsWith('.md')) return text
  if (file.endsWith('.sh')) return [...text.matchAll(/(?:^|\s)#(?!!)(.*)$/gm)].map(m => m[1]).join('\n')
  return comments(file, text).join('\n')
}

const REPO_PATH = new RegExp(`(?<![\\w./@-])(?:${TOP.join('|')})/[\\w./*{},-]*`, 'g')
const RELATIVE_PATH = /(?<![\w./@-])\.\.?\/[\w./-]+/g
const USAGE_EXAMPLE = /\bimport\b.*\bfrom\s+['"]/

/** The paths the prose of `file` (a repo-relative path) names, each with the repo-relative path (or
 *  glob) it stands for. */
export function namedPaths (file: string, text: string): Array<{ named: string; target: string }> {
  const clean = (p: string): string => p.replace(/[.,]+$/, '')
  const out: Array<{ named: string; target: string }> = []
  for (const m of text.matchAll(REPO_PATH)) out.push({ named: clean(m[0]), target: clean(m[0]).replace(/\/$/, '') })
  if (file.endsWith('.md')) return out
  for (const line of text.split('\n')) {
    if (USAGE_EXAMPLE.test(line)) continue
    for (const m of line.matchAll(RELATIVE_PATH)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), clean(m[0])))
      if (!target.startsWith('../')) out.push({ named: clean(m[0]), target: target.replace(/\/$/, '') })
    }
  }
  return out
}

/** A glob (`*` within a name, `**` across folders, `{a,b}`) as a regular expression over repo paths. */
export function globRegExp (glob: string): RegExp {
  const re = glob.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\{([^}]*)\}/g, (_, alts: string) => `(${alts.split(',').join('|')})`)
    .replace(/\*\*\/?/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '(.*/)?')
  return new RegExp(`^${re}(/.*)?$`)
}

t.test('the checker reads paths out of comments and documents', async t => {
  const src = [
    '// see hub/main.ts',
    "const u = 'http://x/y // not a comment' // and ./z.ts",
    'const v = `${u} // nor this`',
    '/* block',
    ' * test/x.ts */',
    'f(/* inline */ 1, 2) // trailing',
    'function g () {',
    '  return 1 // last',
    '  // before the brace',
    '}',
  ].join('\n')
  t.same(comments('a.ts', src), [
    '// see hub/main.ts', '// and ./z.ts', '/* block\n * test/x.ts */', '/* inline */', '// trailing', '// last', '// before the brace',
  ], 'every comment, and strings are not comments')
  t.same(prose('a.sh', '#!/bin/sh\n# builds .tools/bin\nx=1 # scripts/a.sh'), ' builds .tools/bin\n scripts/a.sh')
  t.same(namedPaths('test/unit/a.ts', 'hub/main.ts:12, the folder host/chain/btcd/, and (../fixtures/x.ts).'), [
    { named: 'hub/main.ts', target: 'hub/main.ts' }, { named: 'host/chain/btcd/', target: 'host/chain/btcd' },
    { named: '../fixtures/x.ts', target: 'test/fixtures/x.ts' },
  ])
  t.same(namedPaths('host/a.ts', "//   import { X } from '../host/monitor/index.ts'"), [], 'a usage example is written from elsewhere')
  t.same(namedPaths(
    'docs/DESIGN.md', 'the brief ../brief/DESIGN.md; https://github.com/lightning/bolts/blob/master/02-peer-protocol.md',
  ), [],
    'relative paths in Markdown and URLs are not repo paths')
  t.same(
    namedPaths('test/a.ts', 'test/chaos/sdk-kill-*.test.ts'),
    [{ named: 'test/chaos/sdk-kill-*.test.ts', target: 'test/chaos/sdk-kill-*.test.ts' }],
  )
  t.ok(globRegExp('test/chaos/sdk-kill-*.test.ts').test('test/chaos/sdk-kill-payer.test.ts'))
  t.notOk(globRegExp('test/chaos/sdk-kill-*.test.ts').test('test/chaos/x/sdk-kill-payer.test.ts'))
  t.ok(globRegExp('test/**/*.test.ts').test('test/unit/protocol/wire/fuzz.test.ts'))
  t.ok(globRegExp('test/unit/{a,b}.ts').test('test/unit/b.ts'))
})

t.test('every file path named in a comment or document exists', async t => {
  const all: string[] = []
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue
      const p = dir === '' ? e.name : `${dir}/${e.name}`
      if (e.isDirectory()) walk(p); else all.push(p)
    }
  }
  walk('')
  const missing: string[] = []
  let checked = 0
  const roots = [...TOP.map(d => path.join(ROOT, d)), path.join(ROOT, 'README.md')]
  for (const r of roots) {
    for (const abs of fs.statSync(r).isDirectory() ? files(r) : [r]) {
      const file = path.relative(ROOT, abs).split(path.sep).join('/')
      for (const { named, target } of namedPaths(file, prose(file, fs.readFileSync(abs, 'utf8')))) {
        checked++
        if (BUILD_OUTPUTS.some(o => target === o || target.startsWith(`${o}/`))) continue
        const exists = /[*{]/.test(target) ? all.some(f => globRegExp(target).test(f)) : fs.existsSync(path.join(ROOT, target))
        if (!exists) missing.push(`${file}: ${named}`)
      }
    }
  }
  t.ok(checked > 300, `${checked} references checked`)
  t.same(missing, [], 'no reference to a file that does not exist')
})
