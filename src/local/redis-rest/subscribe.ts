import type { RespReply } from "../resp/index.ts";
import type { RedisLinks } from "./redis-links.ts";

/** Keeps idle streams alive through proxies and lets a vanished client be noticed. */
const HEARTBEAT_MS = 15_000;

/**
 * Serves `POST /subscribe/<channel>` and `/psubscribe/<pattern>` as server-sent events:
 * `data: subscribe,<ch>,1`, `data: message,<ch>,<payload>`, `data: pmessage,<pat>,<ch>,<payload>`.
 * Each stream has its own Redis connection, closed as soon as the HTTP client goes away.
 */
export async function openSubscription(
  links: RedisLinks,
  kind: "subscribe" | "psubscribe",
  target: string,
  signal: AbortSignal,
  headers: Record<string, string>,
): Promise<Response> {
  const redis = await links.open(`fairway-redis-rest:${kind}`);
  const encoder = new TextEncoder();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let finished = false;

  const finish = (controller?: ReadableStreamDefaultController<Uint8Array>) => {
    if (finished) return;
    finished = true;
    clearInterval(heartbeat);
    redis.close();
    try {
      controller?.close();
    } catch {
      // The client already went away.
    }
  };

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (finished) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          finish();
        }
      };
      redis.onPush((reply) => {
        const line = eventLine(reply);
        if (line !== undefined) send(`data: ${line}\n\n`);
      });
      redis.closed.then(() => finish(controller));
      signal.addEventListener("abort", () => finish(controller), { once: true });
      heartbeat = setInterval(() => send(": keep-alive\n\n"), HEARTBEAT_MS);
      redis.sendNoReply([kind.toUpperCase(), target]);
    },
    cancel() {
      finish();
    },
  });
  if (signal.aborted) finish();
  return new Response(stream, {
    status: 200,
    headers: { ...headers, "Content-Type": "text/event-stream", "Cache-Control": "no-cache" },
  });
}

/** `message,<ch>,<payload>` from the RESP2 push array (strings as UTF-8, counts as digits). */
function eventLine(reply: RespReply): string | undefined {
  if (!Array.isArray(reply)) return undefined;
  return reply.map((part) => (part instanceof Uint8Array ? part.toString() : String(part))).join(",");
}
