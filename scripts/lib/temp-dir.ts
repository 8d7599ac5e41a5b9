// A fresh directory under the OS temp directory, for a run's data (stores, wallets, a node's chain).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** A new, empty directory named `<name>-XXXXXX` under the OS temp directory. */
export function tempDir (name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`))
}
