// Rewraps the lines of .ts files that exceed the line bound (scripts/lib/line-length.ts), the way the
// code is already wrapped by hand, and proves each change is layout only: the file's syntax tree
// (every node's kind and text, comments aside) is the same before and after, or the change is undone.
//
//   npx tsx scripts/rewrap-lines.ts [--check] PATH ...   (files or folders; --check: only list the lines)
//
// A code line is broken inside one bracket pair: the text up to the opening bracket stays, the items
// (split at the pair's top-level commas) are packed onto lines indented two more, and the closing
// bracket starts the next line; the pair chosen is the one that leaves the fewest lines over the bound
// (the outermost of equals). A comment line is refilled: the words past the bound move to the next
// line of the same comment (or a new one), a trailing comment continues under itself. What cannot be
// broken so (a long string, a condition without commas) is listed for a hand.
import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { LINE_BOUND, lineLength, longLines } from './lib/line-length.ts'

// ── Proof: the syntax tree is unchanged ──

/** Every node's kind and the text of its leaves, comments and layout aside; null if it does not parse.
 *  A string made of literals and templates joined by `+` is one string: its text (cooked) and its
 *  expressions in order, so `a ${x} b` and `a ${x} ` + 'b' are the same tree. */
export function treeOf (file: string, text: string): string | null {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  if (((sf as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics ?? []).length > 0) return null
  const out: string[] = []
  const isText = (n: ts.Node): boolean => ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateExpression(n) ||
    (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.PlusToken && isText(n.left) && isText(n.right))
  const parts = (n: ts.Node, acc: Array<string | ts.Node>): void => {
    if (ts.isBinaryExpression(n)) { parts(n.left, acc); parts(n.right, acc) } else if (ts.isTemplateExpression(n)) {
      acc.push(n.head.text)
      for (const span of n.templateSpans) acc.push(span.expression, span.literal.text)
    } else acc.push((n as ts.StringLiteral).text)
  }
  const visit = (n: ts.Node): void => {
    if (isText(n)) {
      const acc: Array<string | ts.Node> = []
      parts(n, acc)
      out.push('Text')
      let str = ''
      for (const p of acc) {
        if (typeof p === 'string') { str += p; continue }
        out.push(JSON.stringify(str))
        str = ''
        visit(p)
      }
      out.push(JSON.stringify(str))
      return
    }
    out.push(ts.SyntaxKind[n.kind]!)
    let leaf = true
    ts.forEachChild(n, c => { leaf = false; visit(c) })
    if (leaf) out.push(n.getText(sf))
  }
  visit(sf)
  return out.join('\u0001')
}

// ── A line in pieces ──

interface Piece { kind: 'open' | 'close' | 'comma' | 'semi' | 'op' | 'question' | 'colon' | 'string' | 'other'; start: number; end: number }

/** Splits a code line into brackets, commas and the rest, keeping strings, templates and a trailing
 *  comment whole; null when the line ends inside a string, template or block comment. */
export function pieces (line: string): { pieces: Piece[]; comment: number } | null {
  const out: Piece[] = []
  let i = 0
  const skipString = (q: string): boolean => {
    i++
    while (i < line.length && line[i] !== q) {
      if (line[i] === '\\') i++
      else if (q === '`' && line[i] === '$' && line[i + 1] === '{') {
        i += 2
        let depth = 1
        while (i < line.length && depth > 0) {
          const c = line[i]!
          if (c === '\'' || c === '"' || c === '`') { if (!skipString(c)) return false; continue }
          if (c === '{') depth++
          if (c === '}') depth--
          i++
        }
        continue
      }
      i++
    }
    if (i >= line.length) return false
    i++
    return true
  }
  while (i < line.length) {
    const c = line[i]!
    const start = i
    if (c === '/' && line[i + 1] === '/') return { pieces: out, comment: i }
    if (c === '/' && line[i + 1] === '*') {
      const end = line.indexOf('*/', i + 2)
      if (end < 0) return null
      i = end + 2
      out.push({ kind: 'other', start, end: i })
      continue
    }
    if (c === '\'' || c === '"' || c === '`') {
      if (!skipString(c)) return null
      out.push({ kind: 'string', start, end: i })
      continue
    }
    const two = line.slice(i, i + 2)
    if ((two === '&&' || two === '||' || two === '??') && line[i + 2] !== '=') {
      i += 2
      out.push({ kind: 'op', start, end: i })
      continue
    }
    const spaced = line[i - 1] === ' ' && line[i + 1] === ' '
    i++
    const kind = '([{'.includes(c) ? 'open' : ')]}'.includes(c) ? 'close' : c === ',' ? 'comma' : c === ';' ? 'semi'
      : c === '|' && spaced ? 'op' : c === '?' && spaced ? 'question' : c === ':' && spaced ? 'colon' : 'other'
    out.push({ kind, start, end: i })
  }
  return { pieces: out, comment: -1 }
}

const indentOf = (line: string): string => /^\s*/.exec(line)![0]

/** Packs items onto lines of at most `bound` characters, each starting with `indent`. */
function pack (items: string[], indent: string, bound: number): string[] {
  const lines: string[] = []
  let cur = ''
  for (const item of items) {
    const next = cur === '' ? indent + item : `${cur} ${item}`
    if (cur !== '' && lineLength(next) > bound) { lines.push(cur); cur = indent + item } else cur = next
  }
  if (cur !== '') lines.push(cur)
  return lines
}

/** Where a line's control headers are: `if (…)`, `while (…)`, `switch (…)`, `catch (…)` (with `all`)
 *  and `for (…;…;…)`. A condition stays on its keyword's line: no bracket inside it is broken, and no
 *  operator of a `for (;;)` header. */
function headerRanges (ps: Piece[], code: string, all: boolean): Array<[number, number]> {
  const headers: Array<[number, number]> = []
  for (let a = 0; a < ps.length; a++) {
    const keyword = /\b(if|while|for|switch|catch)\s*\($/.exec(code.slice(0, ps[a]!.end))?.[1]
    if (ps[a]!.kind !== 'open' || keyword === undefined) continue
    let depth = 0
    let end = code.length
    let semi = false
    for (let b = a; b < ps.length; b++) {
      if (ps[b]!.kind === 'open') depth++
      else if (ps[b]!.kind === 'semi' && depth === 1) semi = true
      else if (ps[b]!.kind === 'close' && --depth === 0) { end = ps[b]!.end; break }
    }
    if (keyword === 'for' ? semi : all) headers.push([ps[a]!.start, end])
  }
  return headers
}

/** A way to break a line: the lines it becomes, and its rank (-1: a one-line block body; 0: inside a
 *  bracket pair that holds a list, or a list line repacked; 1: a pair around one expression, or a
 *  conditional; 2: after an operator; 3: inside a string) and the length of what it breaks up (the larger, the better). */
export interface Break { lines: string[]; rank: number; size: number }

/** The ways to break a code line inside one bracket pair. */
export function codeBreaks (line: string, bound: number): Break[] {
  const p = pieces(line)
  if (p === null) return []
  const code = p.comment < 0 ? line.trimEnd() : line.slice(0, p.comment).trimEnd()
  const trailing = p.comment < 0 ? '' : ' ' + line.slice(p.comment)
  const ps = p.pieces.filter(x => x.start < code.length)
  const indent = indentOf(line)
  const out: Break[] = []
  const headers = headerRanges(ps, code, true)
  for (let a = 0; a < ps.length; a++) {
    if (ps[a]!.kind !== 'open') continue
    if (headers.some(([from, to]) => ps[a]!.start >= from && ps[a]!.start < to)) continue
    // The matching close, and the commas at depth one between them.
    let depth = 0
    let close = -1
    let commas: number[] = []
    const semis: number[] = []
    for (let b = a; b < ps.length; b++) {
      const k = ps[b]!.kind
      if (k === 'open') depth++
      else if (k === 'close') { depth--; if (depth === 0) { close = b; break } } else if (k === 'comma' && depth === 1) commas.push(b)
      else if (k === 'semi' && depth === 1) semis.push(b)
    }
    if (close < 0) continue
    // A type literal's members are separated by ';' (no trailing one is added).
    const bySemicolon = commas.length === 0 && semis.length > 0 && code[ps[a]!.start] === '{'
    if (bySemicolon) commas = semis
    const inner = code.slice(ps[a]!.end, ps[close]!.start)
    // Breaking up a short pair gains nothing (`(k)`, `Math.max(0, n)`).
    if (inner.trim().length < 20) continue
    const cuts = [ps[a]!.end, ...commas.map(c => ps[c]!.end), ps[close]!.start]
    const items = cuts.slice(0, -1).map((s, k) => code.slice(s, cuts[k + 1]).trim()).filter(x => x !== '' && x !== ',' && x !== ';')
    if (items.length === 0) continue
    const last = items[items.length - 1]!
    // A list gets a trailing comma (not after '...rest', which may not have one).
    if (!bySemicolon && commas.length > 0 && !last.endsWith(',') && !last.startsWith('...')) items[items.length - 1] = last + ','
    const head = code.slice(0, ps[a]!.end)
    const tail = indent + code.slice(ps[close]!.start) + trailing
    const block = code[ps[a]!.start] === '{' && items.length === 1 && /^(return|throw|const|let|await|void|if|for|while)\b/.test(items[0]!)
    const rank = block ? -1 : commas.length > 0 || code[ps[a]!.start] === '{' ? 0 : 1
    out.push({ lines: [head, ...pack(items, indent + '  ', bound), tail], rank, size: inner.length })
  }
  return out
}

/** The bracket depth at `pos` of a line's pieces. */
function depthAt (ps: Piece[], pos: number): number {
  let d = 0
  for (const x of ps) { if (x.start >= pos) break; if (x.kind === 'open') d++; else if (x.kind === 'close') d-- }
  return d
}

/** A line that continues a list across lines (its own commas at depth zero), its items repacked at its
 *  indent; a line ending in a conditional, as `cond`, `? a`, `: b`; and a line broken after a `&&`, `||`,
 *  `??` or `|` (the shallowest that leaves the first part within the bound), the rest indented two more. */
export function listAndOperatorBreaks (line: string, bound: number): Break[] {
  const p = pieces(line)
  if (p === null || p.comment >= 0) return []
  const code = line.trimEnd()
  const indent = indentOf(line)
  const out: Break[] = []
  const at = (rank: number, lines: string[]): Break => ({ lines, rank, size: code.length })
  let depth = 0
  const commas: number[] = []
  const ops: Array<{ end: number; depth: number }> = []
  const ternary: Array<{ kind: 'question' | 'colon'; start: number; depth: number }> = []
  const forHeaders = headerRanges(p.pieces, code, false)
  for (const x of p.pieces) {
    if (x.kind === 'open') depth++
    else if (x.kind === 'close') depth--
    else if (x.kind === 'comma' && depth === 0) commas.push(x.end)
    else if (x.kind === 'op' && !forHeaders.some(([from, to]) => x.start >= from && x.start < to)) ops.push({ end: x.end, depth })
    else if (x.kind === 'question' || x.kind === 'colon') ternary.push({ kind: x.kind, start: x.start, depth })
  }
  // cond ? a : b  →  cond / ? a / : b, at the shallowest ternary of the line.
  for (const q of ternary.filter(x => x.kind === 'question')) {
    const c = ternary.find(x => x.kind === 'colon' && x.depth === q.depth && x.start > q.start)
    if (c === undefined) continue
    if (ternary.some(x => x.kind === 'question' && x.depth === q.depth && x.start > q.start && x.start < c.start)) continue
    const end = p.pieces.find(x => x.kind === 'close' && x.start > c.start && depthAt(p.pieces, x.start) === q.depth)?.start ?? code.length
    const comma = p.pieces.find(
      x => (x.kind === 'comma' || x.kind === 'semi') && x.start > c.start && x.start < end && depthAt(p.pieces, x.start) === q.depth
    )?.start
    const stop = comma ?? end
    if (stop !== code.length) continue
    out.push(at(
      1,
      [code.slice(0, q.start).trimEnd(), indent + '  ' + code.slice(q.start, c.start).trim(), indent + '  ' + code.slice(c.start).trim()],
    ))
    break
  }
  if (commas.length > 0) {
    const cuts = [indent.length, ...commas, code.length]
    const items = cuts.slice(0, -1).map((s, k) => code.slice(s, cuts[k + 1]).trim()).filter(x => x !== '')
    if (items.length > 1) out.push(at(0, pack(items, indent, bound)))
  }
  const depths = [...new Set(ops.map(o => o.depth))].sort((a, b) => a - b)
  for (const d of depths) {
    const fit = ops.filter(o => o.depth === d && lineLength(code.slice(0, o.end)) <= bound).at(-1)
    if (fit !== undefined && code.slice(fit.end).trim() !== '') out.push(at(
      2, [code.slice(0, fit.end), indent + '  ' + code.slice(fit.end).trim()],
    ))
  }
  return out
}

/** A string or template literal that crosses the bound, split after a space (or a comma) in its text
 *  into two joined by `+` (the same string: the proof folds them back together). */
export function textBreaks (line: string, bound: number): Break[] {
  const p = pieces(line)
  if (p === null) return []
  const indent = indentOf(line)
  const out: Break[] = []
  for (const x of p.pieces) {
    if (x.kind !== 'string' || lineLength(line.slice(0, x.end)) <= bound) continue
    const q = line[x.start]!
    // Positions in the literal's own text (outside `${…}`), right after a space.
    let depth = 0
    const fits: number[] = []
    for (let k = x.start + 1; k < x.end - 1; k++) {
      const c = line[k]!
      if (c === '\\') { k++; continue }
      if (q === '`' && c === '$' && line[k + 1] === '{') { depth++; k++; continue }
      if (q === '`' && c === '}' && depth > 0) { depth--; continue }
      if (depth === 0 && (c === ' ' || c === ',') && k + 1 < x.end - 1 && lineLength(line.slice(0, k + 1)) + 3 <= bound) fits.push(k + 1)
    }
    // The last space (or comma, in text without spaces) that fits, unless it leaves only a few words for the next line.
    const spaces = fits.filter(k => line[k - 1] === ' ')
    const at = spaces.length > 0 ? spaces : fits
    const best = at.filter(k => x.end - k >= 20).at(-1) ?? at.at(-1)
    if (best === undefined || best <= x.start + 1) continue
    // A literal that starts its line continues at the same indent (a run of joined pieces); else two more.
    const cont = line.slice(indent.length).startsWith(q) ? indent : indent + '  '
    out.push({ lines: [line.slice(0, best) + q + ' +', cont + q + line.slice(best)], rank: 3, size: x.end - x.start })
  }
  return out
}

/** A comment line refilled: its words past the bound go to a continuation line. `next` is the line
 *  after it, when it continues the same comment: the words then go to its front. */
export function commentBreak (line: string, next: string | undefined, bound: number): { lines: string[]; joinsNext: boolean } | null {
  const p = pieces(line)
  let prefix: string
  let text: string
  let cont: string
  if (/^\s*(\/\/|\*|\/\*)/.test(line)) {
    const m = /^(\s*(?:\/\/+|\/\*\*?|\*)\s*)(.*)$/.exec(line)!
    prefix = m[1]!
    text = m[2]!
    const ind = indentOf(line)
    cont = prefix.trim().startsWith('//') ? prefix : prefix.trim().startsWith('/*') ? `${ind} *  ` : prefix
  } else if (p !== null && p.comment >= 0) {
    const col = p.comment
    const m = /^(\/\/+\s*)(.*)$/.exec(line.slice(col))!
    prefix = line.slice(0, col) + m[1]!
    text = m[2]!
    cont = ' '.repeat(lineLength(line.slice(0, col))) + m[1]!
    // Too little room beside the code: the comment goes on its own line above it.
    if (bound - lineLength(cont) < 50) {
      return { lines: [indentOf(line) + m[1]! + m[2]!, line.slice(0, col).trimEnd()], joinsNext: false }
    }
  } else return null
  const words = text.split(/(?<=\S)\s+(?=\S)/)
  let first = prefix
  let k = 0
  while (
    k < words.length && lineLength(first + (first === prefix ? '' : ' ') + words[k]) <= bound
  ) { first += (first === prefix ? '' : ' ') + words[k]; k++ }
  if (k === 0 || k === words.length) return null
  const rest = words.slice(k).join(' ')
  // Continue into the next line when it is more of the same paragraph (same prefix, not a list item).
  if (next !== undefined && next.startsWith(cont) && !/^\s*$/.test(next.slice(cont.length)) &&
    !/^(-|\d+\.|\||```|\*\/)/.test(next.slice(cont.length).trim()) && !text.endsWith('*/') && /^\s*(\/\/|\*)/.test(line)) {
    return { lines: [first, cont + rest + ' ' + next.slice(cont.length).trimStart()], joinsNext: true }
  }
  return { lines: [first, cont + rest], joinsNext: false }
}

/** All the ways to break a code line. */
const breaks = (line: string, bound: number): Break[] =>
  [...codeBreaks(line, bound), ...listAndOperatorBreaks(line, bound), ...textBreaks(line, bound)]

/** Whether `line` fits, or can be made to fit within `depth` more breaks. */
function solvable (line: string, bound: number, depth: number): boolean {
  if (lineLength(line) <= bound) return true
  return depth > 0 && breaks(line, bound).some(b => b.lines.every(l => solvable(l, bound, depth - 1)))
}

// ── A file ──

/** Rewraps `text` until no line exceeds the bound or no change passes the proof; returns the new text
 *  and the lines left for a hand. */
export function rewrap (
  file: string, text: string, bound = LINE_BOUND,
): { text: string; left: Array<{ line: number; length: number; text: string }> } {
  const tree = treeOf(file, text)
  if (tree === null) throw new Error(`${file}: does not parse`)
  let lines = text.split('\n')
  const stuck = new Set<string>()
  for (let round = 0; round < 10_000; round++) {
    const long = longLines(file, lines.join('\n'), bound).map(l => l.line - 1).filter(i => !stuck.has(lines[i]!))
    if (long.length === 0) break
    const i = long[0]!
    const line = lines[i]!
    const inComment = /^\s*(\/\/|\*|\/\*)/.test(line)
    let done = false
    if (inComment) {
      const c = commentBreak(line, lines[i + 1], bound)
      if (c !== null) {
        lines = [...lines.slice(0, i), ...c.lines, ...lines.slice(i + (c.joinsNext ? 2 : 1))]
        done = true
      }
    } else {
      const p = pieces(line)
      const codeFits = p !== null && p.comment >= 0 && lineLength(line.slice(0, p.comment).trimEnd()) <= bound
      const c = codeFits ? commentBreak(line, undefined, bound) : null
      if (c !== null) {
        const candidate = [...lines.slice(0, i), ...c.lines, ...lines.slice(i + 1)]
        if (treeOf(file, candidate.join('\n')) === tree) { lines = candidate; done = true }
      }
    }
    if (!done && !inComment) {
      const over = (ls: string[]): number => ls.filter(l => lineLength(l) > bound).length
      // Fewest lines over the bound; then the better rank; then the larger part broken up; then the outermost.
      const options = breaks(line, bound)
        .map((b, order) => ({ ...b, order, over: over(b.lines) }))
        .sort((x, y) => x.over - y.over || x.rank - y.rank || y.size - x.size || x.order - y.order)
      // A break that leaves a line over the bound helps only if that line can be brought within it too.
      for (const o of options) {
        if (!o.lines.every(l => solvable(l, bound, 2))) continue
        const candidate = [...lines.slice(0, i), ...o.lines, ...lines.slice(i + 1)]
        if (treeOf(file, candidate.join('\n')) === tree) { lines = candidate; done = true; break }
      }
      if (!done) {
        const c = commentBreak(line, undefined, bound)
        if (c !== null) {
          const candidate = [...lines.slice(0, i), ...c.lines, ...lines.slice(i + 1)]
          if (treeOf(file, candidate.join('\n')) === tree) { lines = candidate; done = true }
        }
      }
    }
    if (!done) stuck.add(line)
  }
  const out = lines.join('\n')
  if (treeOf(file, out) !== tree) throw new Error(`${file}: the rewrap changed the syntax tree`)
  return { text: out, left: longLines(file, out, bound).map(l => ({ ...l, text: lines[l.line - 1]! })) }
}

function * tsFiles (p: string): Generator<string> {
  if (fs.statSync(p).isDirectory()) {
    for (const e of fs.readdirSync(p)) if (e !== 'node_modules' && !e.startsWith('.')) yield * tsFiles(path.join(p, e))
  } else if (p.endsWith('.ts')) yield p
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  const args = process.argv.slice(2)
  const check = args.includes('--check')
  let before = 0
  let after = 0
  for (const f of args.filter(a => !a.startsWith('--')).flatMap(a => [...tsFiles(path.relative(process.cwd(), a) || '.')])) {
    const text = fs.readFileSync(f, 'utf8')
    const n = longLines(f, text).length
    before += n
    if (n === 0) continue
    const r = rewrap(f, text)
    after += r.left.length
    if (!check && r.text !== text) fs.writeFileSync(f, r.text)
    for (const l of r.left) process.stdout.write(`${f}:${l.line} (${l.length}) ${l.text.trim().slice(0, 100)}\n`)
  }
  process.stdout.write(`lines over ${LINE_BOUND}: ${before} before, ${after} after\n`)
}
