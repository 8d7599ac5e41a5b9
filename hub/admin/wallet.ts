// The operator's wallet commands (hub/admin/server.ts): a fresh address of the hub's wallet; on the
// managed regtest node, mining blocks (their coinbases pay the hub's wallet: the node's --miningaddr is
// the wallet's first receive address, hub/managed-btcd.ts); and on any regtest chain, the faucet.
import type { RegtestControl } from '../../host/chain/backend.ts'
import type { Wallet } from '../../host/wallet/wallet.ts'
import type { Faucet } from './faucet.ts'
import type { AdminHandlers } from './server.ts'

/** `regtest`: the managed node's controls and the address its blocks pay; undefined for an external
 *  node (no mining route). `faucet`: undefined unless the chain is regtest (`chainHash` says which). */
export function walletCommands (x: {
  wallet: Pick<Wallet, 'newAddress'>
  regtest: { control: Pick<RegtestControl, 'generate'>; coinbaseAddress: string } | undefined
  faucet: Pick<Faucet, 'send'> | undefined
  chainHash: string
}): Pick<AdminHandlers, 'newAddress' | 'mine' | 'faucet'> {
  const regtest = x.regtest
  const faucet = x.faucet
  return {
    newAddress: () => ({ address: x.wallet.newAddress().address }),
    ...(regtest !== undefined ? {
      mine: async (blocks: number) => {
        const r = await regtest.control.generate(blocks)
        if (!r.ok) throw new Error(`mine: ${r.error.detail}`)
        return { blocks: r.value.length, tip: r.value[r.value.length - 1], coinbase_address: regtest.coinbaseAddress }
      },
    } : {}),
    faucet: async (address, amountSat, confirm) => {
      if (faucet === undefined) {
        return { status: 409, body: { error: `faucet: only on a regtest chain; this node's chain_hash is ${x.chainHash}` } }
      }
      const r = await faucet.send(address, amountSat, confirm)
      return r.ok ? { status: 200, body: r.value } : { status: r.status, body: { error: r.error } }
    },
  }
}
