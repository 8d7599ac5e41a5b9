// The SDK's WebSocket in Node: the `ws` package, with the frame-size cap enforced while reading
// (`maxPayload`: a larger frame is refused before it is buffered) and compression off.
import { WebSocket } from 'ws'
import { MAX_FRAME_BYTES } from '../../protocol/limits.ts'
import type { SocketFactory, SocketLike } from '../transport/socket.ts'

export const wsSocketFactory: SocketFactory = async (url) =>
  new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false }) as unknown as SocketLike
