// Where a wallet keeps its seed and its state, behind one interface so the wallet itself (wallet.ts)
// does no I/O of its own and runs wherever its owner can store two values durably. The Node
// implementation keeps them in files of a data directory (host/wallet/node/file-storage.ts).
import type { SeedError } from './keys.ts'

export type SeedResult = { ok: true; seed: Uint8Array; created: boolean } | { ok: false; error: SeedError }

export interface WalletStorage {
  /** The state's name in messages (e.g. its file). */
  readonly stateName: string
  /** The stored seed; when none is stored, `fresh()`'s, stored durably first and never over another
   *  one. A seed others may have read is refused (seed_exposed) rather than used. */
  seed (fresh: () => Uint8Array): SeedResult
  /** The stored state as parsed JSON (null: none stored yet), or why it cannot be read. The wallet
   *  checks its shape (state.ts). */
  readState (): { ok: true; json: unknown } | { ok: false; detail: string }
  /** Replaces the stored state durably: after a crash, the old state or the new one, never a mix. */
  writeState (json: string): void
}
