// The operator's wallet commands (hub/admin/server.ts): a fresh address of the hub's wallet, and, on
// the managed regtest node only, mining blocks to it.
import type { RegtestControl } from '../../host/chain/backend.ts'
import type { Wallet } from '../../host/wallet/wallet.ts'
import type { AdminHandlers } from './server.ts'

/** `regtest`: the managed node's controls; undefined for an external node (no mining route). */
export function walletCommands (x: {
  wallet: Pick<Wallet, 'newAddress'>
  regtest: Pick<RegtestControl, 'generate'> | undefined
}): Pick<AdminHandlers, 'newAddress' | 'mine'> {
  const regtest = x.regtest
  return {
    newAddress: () => ({ address: x.wallet.newAddress().address }),
    ...(regtest !== undefined ? {
      mine: async (blocks: number) => {
        const r = await regtest.generate(blocks)
        if (!r.ok) throw new Error(`mine: ${r.error.detail}`)
        return { blocks: r.value.length, tip: r.value[r.value.length - 1] }
      },
    } : {}),
  }
}
