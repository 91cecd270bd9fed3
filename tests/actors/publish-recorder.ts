// Records what the official QStash client sends to /v2/publish, for checking the host's `later` re-dispatch
// at the wire level; the end-to-end tests run the same path through the real broker.
export interface RecordedPublish {
  destination: string;
  headers: Headers;
  body: string;
}

export interface PublishRecorder {
  url: string;
  published: RecordedPublish[];
  stop(): Promise<void>;
}

export function startPublishRecorder(): PublishRecorder {
  const published: RecordedPublish[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      const prefix = "/v2/publish/";
      if (request.method !== "POST" || !url.pathname.startsWith(prefix)) {
        return Response.json({ error: "not found" }, { status: 404 });
      }
      const destination = url.pathname.slice(prefix.length) + url.search;
      published.push({ destination, headers: request.headers, body: await request.text() });
      return Response.json({ messageId: `msg_recorded_${published.length}` });
    },
  });
  return {
    url: server.url.href.replace(/\/+$/, ""),
    published,
    stop: () => server.stop(true),
  };
}
