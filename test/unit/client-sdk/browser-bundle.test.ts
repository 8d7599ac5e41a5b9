// client-sdk/index.ts is browser-safe (docs/DESIGN.md "Layout"): esbuild bundles it for the browser
// platform without error, and nothing reachable from it is a Node built-in (`node:*`, or a bare
// built-in name such as `events` that a dependency imports), nor the `ws` or `level` packages. The
// check is shown to catch one: index.ts with an import of the Node entry (client-sdk/node.ts) reaches
// LevelDB, btcd's HTTP client and the wallet's files.
import t from 'tap'
import fs from 'node:fs'
import { builtinModules } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const SDK = path.join(ROOT, 'client-sdk')
const BUILTINS = new Set(builtinModules)
/** Packages that only run in Node (the socket and the store the Node entry uses). */
const NODE_ONLY_PACKAGES = /node_modules[\\/](ws|level|classic-level|abstract-level)[\\/]/

interface Bundled { builtins: string[]; packages: string[]; errors: string[] }

/** Bundles `contents` (a module in client-sdk/) for the browser; lists the Node built-ins it reaches
 *  (with the file importing each), the node-only packages in the bundle, and esbuild's errors. */
async function bundleForBrowser (contents: string): Promise<Bundled> {
  const builtins = new Set<string>()
  const packages = new Set<string>()
  const flagBuiltins: Plugin = {
    name: 'flag-node-builtins',
    setup (b) {
      b.onLoad({ filter: NODE_ONLY_PACKAGES }, args => { packages.add(path.relative(ROOT, args.path)); return undefined })
      b.onResolve({ filter: /.*/ }, args => {
        const bare = args.path.startsWith('node:') ? args.path.slice('node:'.length) : args.path
        if (!args.path.startsWith('node:') && !BUILTINS.has(bare)) return undefined
        builtins.add(`${args.path} (imported by ${path.relative(ROOT, args.importer)})`)
        return { path: args.path, external: true }
      })
    },
  }
  let errors: string[]
  try {
    const r = await build({
      stdin: { contents, resolveDir: SDK, sourcefile: 'client-sdk/entry.ts', loader: 'ts' },
      bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', plugins: [flagBuiltins],
    })
    errors = r.errors.map(e => e.text)
  } catch (e) {
    errors = (e as { errors?: Array<{ text: string }> }).errors?.map(x => x.text) ?? [String(e)]
  }
  return { builtins: [...builtins].sort(), packages: [...packages].sort(), errors }
}

t.test('client-sdk/index.ts bundles for the browser with no Node built-in, ws or level in it', async t => {
  const r = await bundleForBrowser(fs.readFileSync(path.join(SDK, 'index.ts'), 'utf8'))
  t.same(r.errors, [], 'esbuild bundles it for the browser platform')
  t.same(r.builtins, [], 'no Node built-in is reachable from it')
  t.same(r.packages, [], 'neither ws nor level is in the bundle')
})

t.test('the check catches a Node import: index.ts importing the Node entry fails it', async t => {
  const r = await bundleForBrowser(`${fs.readFileSync(path.join(SDK, 'index.ts'), 'utf8')}\nimport './node.ts'\n`)
  t.ok(r.builtins.some(b => b.startsWith('node:fs ')), `node:fs is reported (${r.builtins.join('; ')})`)
  t.ok(r.builtins.some(b => b.startsWith('node:http ')), 'and btcd\'s HTTP client')
  t.ok(r.builtins.some(b => b.startsWith('events ')), 'and the bare built-in `events` that LevelDB imports')
  t.ok(r.packages.some(p => p.includes('node_modules/ws/')), 'ws is in the bundle')
})
