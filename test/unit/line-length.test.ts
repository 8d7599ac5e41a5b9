// No line of TypeScript is longer than 140 characters (scripts/lib/line-length.ts says why, and what is
// exempt: quoted BOLT text in comments, and in test/ the line that names a test). Lines over the bound
// are rewrapped by `npx tsx scripts/rewrap-lines.ts PATH …`, which proves each change is layout only.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LINE_BOUND, lineLength, longLines, quotedBoltLines } from '../../scripts/lib/line-length.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** The folders held to the bound. */
const FOLDERS = ['protocol', 'host', 'hub', 'client-sdk', 'scripts', 'test']

function * tsFiles (dir: string): Generator<string> {
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    // client-sdk/dist is the SDK's build output (npm run build:sdk), not a source.
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue
    const p = `${dir}/${e.name}`
    if (e.isDirectory()) yield * tsFiles(p); else if (e.name.endsWith('.ts')) yield p
  }
}

t.test('the check itself: characters, the bound, quoted BOLT text, test names', async t => {
  t.equal(LINE_BOUND, 140)
  t.equal(lineLength('—…é'), 3, 'characters, not UTF-16 units or bytes')
  t.equal(lineLength('😀'), 1)
  const long = (prefix: string): string => prefix + 'x'.repeat(LINE_BOUND + 1 - lineLength(prefix))
  t.same(longLines('hub/a.ts', ['short', 'y'.repeat(LINE_BOUND), long('const a = ')].join('\n')), [{ line: 3, length: LINE_BOUND + 1 }])

  const quote = [
    '// BOLT #2: "A sending node MUST set `id` to 0 for the first HTLC it offers, and the quotation goes on ' + 'x'.repeat(LINE_BOUND),
    '// and on this line too ' + 'x'.repeat(LINE_BOUND),
    '// until it closes." After the quote ' + 'x'.repeat(LINE_BOUND),
    'const x = 1',
    '// BOLT #3 is named here, and this line is not quoted ' + 'x'.repeat(LINE_BOUND),
  ]
  t.same([...quotedBoltLines(quote)], [0, 1, 2], 'the lines a quotation spans, in a comment citing a BOLT')
  t.same(longLines('protocol/a.ts', quote.join('\n')).map(l => l.line), [5], 'a comment line outside quotes is held to the bound')
  t.same(quotedBoltLines(['// "a quote of something else" ' + 'x'.repeat(LINE_BOUND)]), new Set(), 'only a comment that cites a BOLT')
  t.same(quotedBoltLines(['const s = "BOLT" + "x"']), new Set(), 'only comments')

  const name = `t.test('${'n'.repeat(LINE_BOUND)}', async t => {`
  t.same(longLines('test/unit/a.test.ts', name), [], 'a test name stays whole on its line in test/')
  t.equal(longLines('hub/a.ts', name).length, 1, 'not outside test/')
  t.equal(longLines('test/unit/a.test.ts', `  t.ok(x, '${'n'.repeat(LINE_BOUND)}')`).length, 1, 'only the line that opens a test')
})

t.test(`no line of TypeScript (protocol/, host/, hub/, client-sdk/, scripts/, test/) is over ${LINE_BOUND} characters`, async t => {
  const over: string[] = []
  let files = 0
  for (const dir of FOLDERS) {
    for (const f of tsFiles(dir)) {
      files++
      for (const l of longLines(f, fs.readFileSync(path.join(ROOT, f), 'utf8'))) over.push(`${f}:${l.line} (${l.length})`)
    }
  }
  t.ok(files > 100, `${files} files`)
  t.same(over, [], 'rewrap them: npx tsx scripts/rewrap-lines.ts <path>')
})
