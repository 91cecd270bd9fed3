// The event generator ("log watcher"): plausible ad traffic sent through the public API. `npm run generate`.

export * from "./demo.ts";
export * from "./model.ts";
export * from "./sender.ts";
export * from "./tenants.ts";
