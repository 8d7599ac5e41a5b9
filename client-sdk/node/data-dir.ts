// A Node client's data directory: its LevelDB store and its wallet's files, one client per directory.
// Created private (mode 0700: the wallet's seed lives here).
import fs from 'node:fs'
import path from 'node:path'

export interface ClientPaths { store: string; wallet: string }

export function clientDataDir (dataDir: string): ClientPaths {
  const wallet = path.join(dataDir, 'wallet')
  fs.mkdirSync(wallet, { recursive: true, mode: 0o700 })
  return { store: path.join(dataDir, 'store'), wallet }
}
