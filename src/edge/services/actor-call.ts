// A synchronous call from the edge to one actor route: the request is signed exactly as QStash signs its
// deliveries (an HS256 JWT over the URL and the body's SHA-256, with the current signing key), so the actors
// host verifies it with the same Receiver and needs no second way in. The edge holds the signing key as the
// actors do; it already holds the QStash token, which lets it have any message delivered anyway.
// Web Crypto only. Used for reads that must answer now (influencer metrics), not for work.
import type { EdgeServices } from "../context.ts";

export interface ActorReply {
  status: number;
  body: unknown;
}

export class ActorCallError extends Error {
  override name = "ActorCallError";
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** An `Upstash-Signature` for `url` and `body`, valid for five minutes. */
export async function signLikeQStash(
  signingKey: string,
  url: string,
  body: string,
  now = Date.now(),
): Promise<string> {
  const seconds = Math.floor(now / 1000);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(body)));
  const claims = {
    iss: "Upstash",
    sub: url,
    iat: seconds,
    nbf: seconds,
    exp: seconds + 300,
    jti: `jwt_${crypto.randomUUID()}`,
    body: base64url(digest),
  };
  const header = base64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const unsigned = `${header}.${base64url(encoder.encode(JSON.stringify(claims)))}`;
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(signingKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(unsigned)));
  return `${unsigned}.${base64url(mac)}`;
}

/**
 * POSTs `body` to the actor and returns its status and JSON answer. Throws `ActorCallError` when the edge is
 * not configured for it, or the host does not answer within `timeoutMs`.
 *
 * @example const reply = await callActor(services, "influencer-metrics", request, 10_000)
 */
export async function callActor(
  services: EdgeServices,
  actor: string,
  message: unknown,
  timeoutMs: number,
): Promise<ActorReply> {
  const { actorsUrl, actorSigningKey } = services;
  if (!actorsUrl || !actorSigningKey) {
    throw new ActorCallError("ACTORS_URL and QSTASH_CURRENT_SIGNING_KEY must both be configured");
  }
  // The host verifies signatures against its public URL, the one QStash is asked to deliver to.
  const signedFor = `${(services.publisher?.actorsUrl ?? actorsUrl).replace(/\/+$/, "")}/actors/${actor}`;
  const body = JSON.stringify(message);
  let response: Response;
  try {
    response = await (services.fetch ?? fetch)(`${actorsUrl}/actors/${actor}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "upstash-signature": await signLikeQStash(actorSigningKey, signedFor, body),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new ActorCallError(
      `the actors host did not answer: ${error instanceof Error ? error.message : error}`,
    );
  }
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text, for the error message
  }
  return { status: response.status, body: parsed };
}
