// The admin API's routes are documented outside the source, and the documents say the same: the
// README's table (section "Operators: the admin API") lists exactly the routes of ROUTES
// (hub/admin/server.ts), which GET / serves, with the same bodies.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ROUTES } from '../../../hub/admin/server.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

t.test('the README documents exactly the admin routes of ROUTES, with their bodies', async t => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf('### Operators: the admin API')
  const section = readme.slice(start, readme.indexOf('\n### ', start + 1))
  /** A table row: | `METHOD /path` | body | answer | */
  const row = /^\| `(GET|POST) (\/[a-z/_:-]*)` \|\s*([^|]*?)\s*\|/gm
  const rows = [...section.matchAll(row)].map(m => ({ route: `${m[1]} ${m[2]}`, body: m[3]!.trim().replace(/`/g, '') }))
  t.ok(rows.length > 0, 'the README has the table')
  t.same(rows.map(r => r.route), ROUTES.map(r => `${r.method} ${r.path}`), 'the same routes, in the same order')
  for (const r of ROUTES) {
    t.equal(rows.find(x => x.route === `${r.method} ${r.path}`)?.body, r.body ?? '', `${r.method} ${r.path}: the same body`)
  }
})
