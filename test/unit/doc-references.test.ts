// Every test file a comment names exists: a reader sent to a file that is not there is misled about
// what is tested (and where). Scans the sources and the tests for paths of the form test/….ts.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const DIRS = ['protocol', 'hub', 'client-sdk', 'scripts', 'test']

function* sources (dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    // client-sdk/dist is the SDK's build output (npm run build:sdk), not a source.
    if (e.isDirectory()) { if (e.name !== 'node_modules' && e.name !== 'dist' && !e.name.startsWith('.')) yield * sources(p) } else if (/\.(ts|md)$/.test(e.name)) yield p
  }
}

t.test('every test file named in a comment or document exists', async t => {
  const missing: string[] = []
  let named = 0
  for (const dir of DIRS) {
    for (const file of sources(path.join(ROOT, dir))) {
      const text = fs.readFileSync(file, 'utf8')
      for (const m of text.matchAll(/\btest\/[A-Za-z0-9/_.-]+\.ts\b/g)) {
        named++
        if (!fs.existsSync(path.join(ROOT, m[0]))) missing.push(`${path.relative(ROOT, file)}: ${m[0]}`)
      }
    }
  }
  t.ok(named > 0, `${named} references checked`)
  t.same(missing, [], 'no reference to a test file that does not exist')
})
