// The managed regtest node's own record of its main chain. btcd deletes its regtest database at every
// start (btcd.go removeRegressionDB), so the node keeps every block of its main chain, raw, in a file
// of its data directory, and replays them with `submitblock` when it starts (node.ts): the same chain,
// byte for byte, comes back. Nothing is mined again: the blocks already carry their proof of work.
//
// One JSON line per event, in the order the main chain changed:
//   {"connect":{"height":H,"hash":"…","hex":"…"}}   the block joined the main chain at height H
//   {"disconnect":{"height":H,"hash":"…"}}           it left it (a reorg, or invalidateblock)
// The main chain is what applying them in order leaves. Lines are appended with write(2) and become
// durable at flush() (one fsync per batch); `has(hash)` answers true only for durable blocks, and
// nobody is handed a block before it is (BtcdBackendConfig.keeper). A crash mid-append leaves a partial
// last line: it is dropped, and the block it named was never reported durable to anyone.
import fs from 'node:fs'
import { Block } from 'bitcoinjs-lib'
import { z } from 'zod'
import { bytesToHex, type Height } from '../../../protocol/types.ts'
import type { BlockRef } from '../backend.ts'
import { describeZodError } from './rpc.ts'
import { hash64 } from './schemas.ts'

/** The archive's file name inside the managed node's data directory. */
export const BLOCK_ARCHIVE_FILE = 'blocks.jsonl'

/** A block is at most 4 MB of weight, so its serialization is at most 4 MB (8 M hex characters). */
const blockHex = z.string().min(160).max(8_000_000).regex(/^(?:[0-9a-f]{2})+$/, 'expected lowercase hex')
const heightField = z.number().int().min(1).max(100_000_000)
const lineSchema = z.union([
  z.strictObject({ connect: z.strictObject({ height: heightField, hash: hash64, hex: blockHex }) }),
  z.strictObject({ disconnect: z.strictObject({ height: heightField, hash: hash64 }) }),
])

export interface ArchivedBlock { height: number; hash: string; hex: string }

export class BlockArchive {
  /** Main-chain block hashes by height (index 0, the genesis block, is never archived). */
  private readonly chain: string[] = ['']
  private readonly durable = new Set<string>()
  private readonly pending: string[] = []
  /** Records written since the last fsync. */
  private dirty = false
  private readonly fd: number

  private constructor (readonly file: string, fd: number, private replayList: ArchivedBlock[]) {
    this.fd = fd
    for (const b of replayList) { this.chain[b.height] = b.hash; this.durable.add(b.hash) }
  }

  /**
   * Opens (or creates) the archive at `file`. A partial last line (a crash mid-append) is cut off;
   * any other line that is not a valid record, or a block whose bytes do not hash to its recorded
   * hash, makes it unreadable: the caller stops, naming the line, rather than replay a chain it
   * cannot vouch for.
   */
  static open (file: string): { ok: true; archive: BlockArchive } | { ok: false; detail: string } {
    let text = ''
    try { text = fs.readFileSync(file, 'utf8') } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return { ok: false, detail: `${file}: ${(e as Error).message}` }
    }
    const complete = text.lastIndexOf('\n') + 1
    const blocks = new Map<string, string>()
    const chain: string[] = ['']
    const lines = text.slice(0, complete).split('\n').slice(0, -1)
    for (const [i, line] of lines.entries()) {
      let json: unknown
      try { json = JSON.parse(line) } catch { return { ok: false, detail: `${file}: line ${i + 1}: not JSON` } }
      const r = lineSchema.safeParse(json)
      if (!r.success) return { ok: false, detail: `${file}: ${describeZodError(`line ${i + 1}`, r.error)}` }
      if ('connect' in r.data) {
        const { height, hash, hex } = r.data.connect
        if (height > chain.length) return {
          ok: false, detail: `${file}: line ${i + 1}: block at height ${height} connects above the chain's tip (${chain.length - 1})`,
        }
        let block: Block
        try { block = Block.fromHex(hex) } catch (e) {
          return { ok: false, detail: `${file}: line ${i + 1}: connect.hex: not a block (${(e as Error).message})` }
        }
        if (block.getId() !== hash) return {
          ok: false, detail: `${file}: line ${i + 1}: connect.hex: hashes to ${block.getId()}, not ${hash}`,
        }
        const prev = bytesToHex(Uint8Array.from(block.prevHash!).reverse())
        if (height > 1 && prev !== chain[height - 1]) return {
          ok: false, detail: `${file}: line ${i + 1}: block ${hash} builds on ${prev}, not on the recorded block at height ${height - 1}`,
        }
        blocks.set(hash, hex)
        chain.length = height
        chain[height] = hash
      } else {
        const { height, hash } = r.data.disconnect
        if (chain[height] === hash) chain.length = height
      }
    }
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600)
    if (complete !== Buffer.byteLength(text)) {
      // A torn last line: cut it off, so the next record starts on a line of its own.
      fs.ftruncateSync(fd, Buffer.byteLength(text.slice(0, complete)))
      fs.fsyncSync(fd)
    }
    const list = chain.slice(1).map((hash, i) => ({ height: i + 1, hash, hex: blocks.get(hash)! }))
    return { ok: true, archive: new BlockArchive(file, fd, list) }
  }

  /** The main chain as recorded, height 1 upwards: what a fresh node must be given to have it back.
   *  Handed out once (the raw blocks are not kept in memory after that). */
  takeReplay (): ArchivedBlock[] {
    const list = this.replayList
    this.replayList = []
    return list
  }

  /** The recorded main chain's most recent headers (for a follower to start from), at most `n`. */
  recent (n: number): BlockRef[] {
    const out: BlockRef[] = []
    for (let h = Math.max(1, this.chain.length - n); h < this.chain.length; h++) out.push({ height: h as Height, hash: this.chain[h]! })
    return out
  }

  get tipHeight (): number { return this.chain.length - 1 }

  /** Whether the block is on disk, synced: only then may anyone act on it. */
  has (hash: string): boolean { return this.durable.has(hash) }

  connect (b: ArchivedBlock): void {
    this.append({ connect: { height: b.height, hash: b.hash, hex: b.hex } })
    this.chain.length = b.height
    this.chain[b.height] = b.hash
    this.pending.push(b.hash)
  }

  disconnect (ref: { height: number; hash: string }): void {
    this.append({ disconnect: { height: ref.height, hash: ref.hash } })
    if (this.chain[ref.height] === ref.hash) this.chain.length = ref.height
  }

  /** Makes every record so far durable (one fsync), then reports their blocks as kept. */
  flush (): void {
    if (!this.dirty) return
    fs.fsyncSync(this.fd)
    this.dirty = false
    for (const h of this.pending.splice(0)) this.durable.add(h)
  }

  close (): void { fs.closeSync(this.fd) }

  private append (record: unknown): void {
    const line = Buffer.from(JSON.stringify(record) + '\n')
    let off = 0
    while (off < line.length) off += fs.writeSync(this.fd, line, off, line.length - off)
    this.dirty = true
  }
}
