// A TCP proxy the tests control: the actors' warehouse connection goes through it, and `cut()` makes the
// warehouse unreachable (open connections reset, new ones refused) without touching the shared Postgres server.
import type { Socket } from "bun";

export interface TcpProxy {
  port: number;
  /** Drops every connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  stop(): void;
}

/** One side of a proxied connection, with what it could not take yet (backpressure). */
interface Side {
  socket?: Socket<Side>;
  backlog: Uint8Array[];
  peer?: Side;
}

function send(side: Side, chunk: Uint8Array): void {
  if (!side.socket || side.backlog.length > 0) {
    side.backlog.push(chunk);
    return;
  }
  const written = side.socket.write(chunk);
  if (written < chunk.byteLength) side.backlog.push(chunk.subarray(written));
}

function flush(side: Side): void {
  while (side.socket && side.backlog.length > 0) {
    const chunk = side.backlog[0] as Uint8Array;
    const written = side.socket.write(chunk);
    if (written < chunk.byteLength) {
      side.backlog[0] = chunk.subarray(written);
      return;
    }
    side.backlog.shift();
  }
}

export function startTcpProxy(targetHost: string, targetPort: number): TcpProxy {
  let open = true;
  const sides = new Set<Side>();
  const kill = (side: Side | undefined) => {
    if (!side) return;
    sides.delete(side);
    side.socket?.terminate();
  };
  const handlers = {
    data(socket: Socket<Side>, chunk: Uint8Array) {
      const peer = socket.data?.peer;
      if (peer) send(peer, new Uint8Array(chunk));
    },
    drain(socket: Socket<Side>) {
      if (socket.data) flush(socket.data);
    },
    close(socket: Socket<Side>) {
      if (!socket.data) return;
      sides.delete(socket.data);
      const peer = socket.data.peer;
      if (peer) {
        sides.delete(peer);
        peer.socket?.end();
      }
    },
    error(socket: Socket<Side>) {
      kill(socket.data?.peer);
    },
  };
  const listener = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      ...handlers,
      open(client) {
        if (!open) {
          client.terminate();
          return;
        }
        const near: Side = { socket: client, backlog: [] };
        const far: Side = { backlog: [], peer: near };
        near.peer = far;
        client.data = near;
        sides.add(near);
        sides.add(far);
        Bun.connect<Side>({
          hostname: targetHost,
          port: targetPort,
          socket: {
            ...handlers,
            open(upstream) {
              upstream.data = far;
              far.socket = upstream;
              if (!open) kill(far);
              else flush(far);
            },
          },
        }).catch(() => kill(near));
      },
    },
  });
  return {
    port: listener.port,
    cut() {
      open = false;
      for (const side of [...sides]) kill(side);
    },
    restore() {
      open = true;
    },
    stop() {
      this.cut();
      listener.stop(true);
    },
  };
}
