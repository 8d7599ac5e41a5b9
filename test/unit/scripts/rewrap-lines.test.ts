// The rewrap tool (scripts/rewrap-lines.ts): it brings lines within the bound the way the code is wrapped
// by hand, and it never changes what the code means: its proof (the syntax tree, strings folded) tells
// a layout change from any other, and a change it cannot prove is not made.
import t from 'tap'
import { codeBreaks, commentBreak, pieces, rewrap, textBreaks, treeOf } from '../../../scripts/rewrap-lines.ts'

t.test('the proof: layout and string joins are the same tree; anything else is not', async t => {
  const a = treeOf('a.ts', "const x = f(a, 'b c', `d ${e} f`)\n")
  t.equal(treeOf('a.ts', "const x = f(\n  a, 'b ' +\n  'c', `d ${e} ` + `f`,\n)\n"), a, 'line breaks, a trailing comma, split strings')
  t.not(treeOf('a.ts', "const x = f(a, 'b  c', `d ${e} f`)\n"), a, 'one more space in a string')
  t.not(treeOf('a.ts', "const x = f(a, 'b c', `d ${e}` + ` f`.trim())\n"), a, 'a split that binds differently')
  t.not(
    treeOf('a.ts', 'function f () { return\n  1 }\n'), treeOf('a.ts', 'function f () { return 1 }\n'), 'a break that inserts a semicolon',
  )
  t.equal(treeOf('a.ts', 'const x = (\n'), null, 'what does not parse has no tree')
  t.equal(treeOf('a.ts', '// one comment\nconst y = 1\n'), treeOf('a.ts', '/* another */ const y = 1\n'), 'comments are not code')
})

t.test('pieces keep strings, templates and trailing comments whole', async t => {
  const p = pieces("f('a, (b', `c ${d(e, f)} g`, h) // i, (j")!
  t.same(p.pieces.filter(x => x.kind === 'comma').length, 2, 'only the call\'s own commas')
  t.same(p.pieces.filter(x => x.kind === 'string').length, 2)
  t.equal(p.comment, 32, 'the comment starts after the call')
  t.equal(pieces('const s = `unterminated'), null)
})

t.test('a code line breaks inside a bracket pair, its items packed, a list with a trailing comma', async t => {
  const line = '  const opened = openChannel({ temporaryChannelId: id, chainHash: CHAIN_HASH, channelType: type }, signer)'
  const ways = codeBreaks(line, 60).map(b => b.lines)
  t.same(ways, [
    ['  const opened = openChannel(', '    { temporaryChannelId: id, chainHash: CHAIN_HASH, channelType: type },', '    signer,', '  )'],
    ['  const opened = openChannel({', '    temporaryChannelId: id, chainHash: CHAIN_HASH,', '    channelType: type,', '  }, signer)'],
  ], 'each pair with a list, outermost first')
  t.same(codeBreaks('  if (aaaaaaaaaaaaaaaaaaaaaa && bbbbbbbbbbbbbbbbbbbbbbbbbbbbb) return', 40), [], 'a condition stays on its line')
  t.same(codeBreaks('  f(a, b)', 5), [], 'a short pair is not broken up')
})

t.test('a string breaks after a space into two joined by +; a comment refills', async t => {
  const split = textBreaks("  say('the first words and the last words')", 30).map(b => b.lines)
  t.same(split, [["  say('the first ' +", "    'words and the last words')"]], 'after the last space that leaves the next line a few words')
  t.same(
    commentBreak('  // one two three four five six', '  // seven', 20),
    { lines: ['  // one two three', '  // four five six seven'], joinsNext: true },
  )
  t.same(
    commentBreak('  /** one two three four five */', undefined, 20),
    { lines: ['  /** one two three', '   *  four five */'], joinsNext: false },
  )
})

t.test('rewrap: every line within the bound, the tree unchanged; what it cannot break is left and listed', async t => {
  const src = [
    'export function f (alpha: number, beta: number): number { return g({ alpha, beta, gamma: alpha + beta, delta: alpha * beta }) }',
    "const m = 'a message that is much longer than the bound allows for one line of code here'",
    'const r = /a-regular-expression-that-cannot-be-broken-anywhere-at-all-by-the-tool/',
    '',
  ].join('\n')
  const r = rewrap('a.ts', src, 60)
  t.equal(treeOf('a.ts', r.text), treeOf('a.ts', src), 'the same tree')
  t.same(r.left.map(l => l.line), [r.text.split('\n').findIndex(l => l.startsWith('const r')) + 1], 'only the regular expression is left')
  t.ok(r.text.split('\n').filter(l => !l.startsWith('const r')).every(l => l.length <= 60), r.text)
})
