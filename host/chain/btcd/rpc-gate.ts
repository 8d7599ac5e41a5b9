// The managed node's published RPC address: a loopback TCP forwarder to btcd's own RPC port, opened
// only once the node has its chain back (node.ts replays the block archive first). A client of the
// node (an SDK on the hub's btcd, btcctl) therefore never sees the chain while it is being rebuilt,
// which it could only read as a reorg or a wiped chain. It forwards bytes (HTTP and the /ws
// websocket alike); btcd checks the credentials.
//
// The published port stays the same across restarts when it is free (the credentials file keeps it),
// so clients reconnect to the address they know.
import net from 'node:net'

export class RpcGate {
  private constructor (
    private readonly server: net.Server, private readonly sockets: Set<net.Socket>, readonly host: string, readonly port: number,
  ) {}

  /** Listens on host:port (0, or a port in use: any free port) and forwards to target. */
  static async open (host: string, port: number, target: { host: string; port: number }): Promise<RpcGate> {
    const server = net.createServer()
    const sockets = new Set<net.Socket>()
    server.on('connection', client => {
      const upstream = net.connect(target.port, target.host)
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on('close', () => { sockets.delete(s) })
        // Either side failing ends both: the client sees a dropped connection, as from btcd itself.
        s.on('error', () => { client.destroy(); upstream.destroy() })
      }
      client.pipe(upstream)
      upstream.pipe(client)
    })
    const listen = (p: number): Promise<void> => new Promise((resolve, reject) => {
      const onError = (e: Error): void => { server.off('listening', onListening); reject(e) }
      const onListening = (): void => { server.off('error', onError); resolve() }
      server.once('error', onError)
      server.once('listening', onListening)
      server.listen(p, host)
    })
    try {
      await listen(port)
    } catch (e) {
      if (port === 0 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e
      await listen(0)
    }
    const address = server.address()
    if (typeof address !== 'object' || address === null) throw new Error('rpc gate: no address')
    return new RpcGate(server, sockets, host, address.port)
  }

  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }
}
