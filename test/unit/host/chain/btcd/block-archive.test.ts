// The managed node's block archive (host/chain/btcd/block-archive.ts), on blocks built here: what it
// replays is the main chain its records leave (reorgs included), only synced blocks count as kept, a
// torn last line is cut off and later records still replay, and a record that is not what we wrote
// (bytes that hash elsewhere, a block on the wrong parent, not JSON) makes it unreadable, naming the line.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildBlock } from '../../../../../host/chain/btcd/block-builder.ts'
import { BlockArchive, type ArchivedBlock } from '../../../../../host/chain/btcd/block-archive.ts'

/** regtest's proof-of-work limit (chaincfg RegressionNetParams PowLimitBits). */
const REGTEST_BITS = 0x207fffff
const GENESIS = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206'

function chainOf (n: number, prev = GENESIS, from = 1, extraNonce = 0): ArchivedBlock[] {
  const out: ArchivedBlock[] = []
  for (let h = from; h < from + n; h++) {
    const b = buildBlock({
      prevHash: prev, height: h, time: 1_700_000_000 + h, bits: REGTEST_BITS, txs: [], coinbaseScript: Uint8Array.of(0x51), extraNonce,
    })
    out.push({ height: h, hash: b.getId(), hex: b.toHex() })
    prev = b.getId()
  }
  return out
}

function open (file: string): BlockArchive {
  const r = BlockArchive.open(file)
  if (!r.ok) throw new Error(r.detail)
  return r.archive
}

const tmp = (): string => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'archive-')), 'blocks.jsonl')

t.test('replays the main chain its records leave: a reorg replaces the blocks it disconnected', async t => {
  const file = tmp()
  const a = open(file)
  const main = chainOf(5)
  for (const b of main) a.connect(b)
  t.notOk(a.has(main[4]!.hash), 'written but not synced: not kept yet')
  a.flush()
  t.ok(a.has(main[4]!.hash), 'kept once synced')
  // Heights 4 and 5 are replaced by a branch of three from block 3.
  a.disconnect(main[4]!); a.disconnect(main[3]!)
  const branch = chainOf(3, main[2]!.hash, 4, 1)
  for (const b of branch) a.connect(b)
  a.flush()
  a.close()
  const again = open(file)
  t.same(again.takeReplay().map(b => b.hash), [...main.slice(0, 3), ...branch].map(b => b.hash), 'blocks 1-3, then the branch')
  t.equal(again.tipHeight, 6, 'tip at height 6')
  t.same(again.recent(2).map(r => r.hash), branch.slice(1).map(b => b.hash), 'recent headers for the follower')
  t.same(again.takeReplay(), [], 'handed out once')
  again.close()
})

t.test('a torn last line is cut off; records appended afterwards replay', async t => {
  const file = tmp()
  const a = open(file)
  const blocks = chainOf(3)
  for (const b of blocks.slice(0, 2)) a.connect(b)
  a.flush(); a.close()
  fs.appendFileSync(file, '{"connect":{"height":3,"hash":"')
  const b = open(file)
  t.equal(b.tipHeight, 2, 'the partial record is ignored')
  b.connect(blocks[2]!); b.flush(); b.close()
  t.same(open(file).takeReplay().map(x => x.height), [1, 2, 3], 'the next record starts on a line of its own')
})

t.test('a record that is not what we wrote makes the archive unreadable, naming the line', async t => {
  const blocks = chainOf(3)
  const other = chainOf(1, blocks[0]!.hash, 2, 7)[0]!
  const cases: Array<[string, string[], RegExp]> = [
    [
      'bytes of another block', [JSON.stringify({ connect: { ...blocks[0]!, hex: blocks[1]!.hex } })],
      /line 1: connect\.hex: hashes to [0-9a-f]{64}, not [0-9a-f]{64}/,
    ],
    [
      'a block above the tip (a gap)', [blocks[0]!, { ...other, height: 3 }].map(b => JSON.stringify({ connect: b })),
      /line 2: block at height 3 connects above the chain's tip \(1\)/,
    ],
    [
      'a block whose parent is not the block below it',
      [blocks[0]!, blocks[1]!, { ...chainOf(1, GENESIS, 3, 9)[0]! }].map(b => JSON.stringify({ connect: b })),
      /line 3: block [0-9a-f]{64} builds on [0-9a-f]{64}, not on the recorded block at height 2/,
    ],
    ['not JSON', ['{"connect":', '{}'], /line 1: not JSON/],
    ['an unknown record', [JSON.stringify({ mined: blocks[0] })], /line 1/],
  ]
  for (const [what, lines, error] of cases) {
    const file = tmp()
    fs.writeFileSync(file, lines.join('\n') + '\n')
    const r = BlockArchive.open(file)
    t.notOk(r.ok, `${what}: refused`)
    t.match(r.ok ? '' : r.detail, error, `${what}: ${r.ok ? '' : r.detail}`)
  }
})
