// `GET /docs`: the OpenAPI document rendered as one static HTML page (no scripts, nothing fetched from a CDN).
import type { OpenApiDocument } from "./document.ts";

interface Operation {
  summary: string;
  description?: string;
  tags: string[];
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string; description: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<
    string,
    {
      description: string;
      headers?: Record<string, unknown>;
      content?: Record<string, { schema: { $ref?: string } }>;
    }
  >;
}

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{margin-bottom:.2rem} h2{margin-top:2.5rem;border-bottom:1px solid #dde} code,pre{font:13px ui-monospace,monospace}
section{margin:1.2rem 0;padding:.8rem 1rem;border:1px solid #e3e6ee;border-radius:6px}
.m{display:inline-block;min-width:3.6rem;font-weight:700;text-transform:uppercase}
.get{color:#1565c0}.post{color:#2e7d32}.patch{color:#ef6c00}.delete{color:#c62828}
table{border-collapse:collapse;width:100%;margin:.4rem 0} td,th{text-align:left;padding:.25rem .5rem;border-top:1px solid #eef}
pre{background:#f6f8fb;padding:.8rem;overflow:auto;border-radius:4px} .muted{color:#667}`;

export function renderDocsPage(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(methods)) {
      const op = raw as Operation;
      const tag = op.tags[0] ?? "other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), renderOperation(method, path, op)]);
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2>${escapeHtml(tag)}</h2>${ops.join("")}`).join("");
  const schemas = Object.entries(doc.components.schemas)
    .map(
      ([name, schema]) =>
        `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3><pre>${linkRefs(escapeHtml(JSON.stringify(schema, null, 2)))}</pre></section>`,
    )
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(doc.info.title)} API</title><style>${STYLE}</style></head><body>
<h1>${escapeHtml(doc.info.title)} API <span class="muted">${escapeHtml(doc.info.version)}</span></h1>
<p>${inline(doc.info.description)}</p><p class="muted">Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(doc.openapi)})</p>
${sections}<h2>Schemas</h2>${schemas}</body></html>`;
}

function renderOperation(method: string, path: string, op: Operation): string {
  const auth = op.security?.length ? Object.keys(op.security[0] ?? {})[0] : undefined;
  const params = op.parameters?.length
    ? `<table><tr><th>parameter</th><th>in</th><th></th></tr>${op.parameters
        .map(
          (p) =>
            `<tr><td><code>${escapeHtml(p.name)}</code>${p.required ? " *" : ""}</td><td>${escapeHtml(p.in)}</td><td>${inline(p.description)}</td></tr>`,
        )
        .join("")}</table>`
    : "";
  const body = op.requestBody
    ? `<p>Body: ${Object.entries(op.requestBody.content)
        .map(([type, { schema }]) => `<code>${escapeHtml(type)}</code> ${schemaLink(schema.$ref)}`.trim())
        .join(", ")}</p>`
    : "";
  const responses = Object.entries(op.responses)
    .map(([status, response]) => {
      const schema = response.content ? schemaLink(Object.values(response.content)[0]?.schema.$ref) : "";
      const headers = response.headers
        ? Object.keys(response.headers)
            .map((h) => `<code>${escapeHtml(h)}</code>`)
            .join(" ")
        : "";
      return `<tr><td><b>${escapeHtml(status)}</b></td><td>${inline(response.description)}</td><td>${schema}</td><td>${headers}</td></tr>`;
    })
    .join("");
  return `<section id="${escapeHtml(`${method}-${path}`)}"><h3><span class="m ${escapeHtml(method)}">${escapeHtml(method)}</span> <code>${escapeHtml(path)}</code></h3>
<p>${inline(op.summary)}${auth ? ` <span class="muted">(auth: ${escapeHtml(auth)})</span>` : ""}</p>${op.description ? `<p>${inline(op.description)}</p>` : ""}
${params}${body}<table><tr><th>status</th><th></th><th>body</th><th>headers</th></tr>${responses}</table></section>`;
}

function schemaLink(ref: string | undefined): string {
  const name = ref?.split("/").pop();
  return name ? `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>` : "";
}

/** `#/components/schemas/X` inside rendered JSON → a link to X. */
function linkRefs(html: string): string {
  return html.replace(
    /&quot;#\/components\/schemas\/([A-Za-z0-9_]+)&quot;/g,
    (_m, name) => `&quot;<a href="#schema-${name}">#/components/schemas/${name}</a>&quot;`,
  );
}

/** Escapes, then renders `code` spans. */
function inline(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
