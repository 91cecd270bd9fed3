// Ad events: fields, validation and normalisation, batches (JSON and NDJSON), batch ids. Pure TypeScript on
// Web standards: the edge validates with it, the CSV import validates each row with `validateEvent`.
export * from "./batch.ts";
export * from "./batch-id.ts";
export * from "./fields.ts";
export * from "./message.ts";
export * from "./timestamp.ts";
export * from "./validate.ts";
