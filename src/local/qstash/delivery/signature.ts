const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

const JWT_HEADER = base64url(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));

/** How long a delivery's signature stays valid, as QStash signs them. */
const LIFETIME_SECONDS = 300;

/**
 * Signs deliveries the way QStash does: a fresh HS256 JWT per attempt, keyed with the UTF-8 bytes of the
 * signing key (`sig_` prefix included), whose `sub` is the exact destination URL and whose `body` claim is
 * base64url(SHA-256(body)). The official `Receiver` verifies it.
 */
export class DeliverySigner {
  private readonly key: Promise<CryptoKey>;

  constructor(signingKey: string) {
    this.key = crypto.subtle.importKey(
      "raw",
      encoder.encode(signingKey),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  }

  /** The `Upstash-Signature` value for one attempt delivering `body` to `url`. */
  async sign(url: string, body: Uint8Array, nowMs = Date.now()): Promise<string> {
    const now = Math.floor(nowMs / 1000);
    const bodyHash = new Uint8Array(await crypto.subtle.digest("SHA-256", body as Uint8Array<ArrayBuffer>));
    const claims = {
      iss: "Upstash",
      sub: url,
      exp: now + LIFETIME_SECONDS,
      nbf: now,
      iat: now,
      jti: `jwt_${crypto.randomUUID().replaceAll("-", "")}`,
      body: base64url(bodyHash),
    };
    const signingInput = `${JWT_HEADER}.${base64url(encoder.encode(JSON.stringify(claims)))}`;
    const mac = await crypto.subtle.sign("HMAC", await this.key, encoder.encode(signingInput));
    return `${signingInput}.${base64url(new Uint8Array(mac))}`;
  }
}
