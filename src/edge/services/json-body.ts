// Reads a JSON request body with a size limit: 413 past the limit (without buffering the rest), 400 when it is
// not JSON. Both as the app's one error shape.
import type { Context } from "hono";
import type { EdgeEnv } from "../context.ts";
import { ApiError } from "../errors.ts";

export async function readJsonBody(c: Context<EdgeEnv>, maxBytes: number): Promise<unknown> {
  return parseJsonBody(await readBodyText(c, maxBytes));
}

/** The body as text; 413 past `maxBytes`. */
export async function readBodyText(c: Context<EdgeEnv>, maxBytes: number): Promise<string> {
  const text = await readText(c.req.raw, maxBytes);
  if (text === undefined) {
    const message = `Request body is larger than ${maxBytes} bytes`;
    throw new ApiError(413, "payload_too_large", message, { fields: [{ field: "body", message }] });
  }
  return text;
}

/** JSON.parse with the API's 400s. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === "") throw invalidJson("Request body is empty; expected JSON");
  try {
    return JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw invalidJson(`Request body is not valid JSON: ${detail}`);
  }
}

function invalidJson(message: string): ApiError {
  return new ApiError(400, "invalid_json", message, { fields: [{ field: "body", message }] });
}

/** The body as text, or undefined once it passes `limit` bytes. */
async function readText(request: Request, limit: number): Promise<string | undefined> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) return undefined;
  // A declared length within the limit: the runtime's own text() is much cheaper than reading the stream (and
  // than even asking for it: `body` makes a stream object on some runtimes).
  if (declared !== null && /^\d+$/.test(declared)) return request.text();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}
