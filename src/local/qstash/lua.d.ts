// Lua scripts are bundled as text (Bun's `with { type: "text" }` import).
declare module "*.lua" {
  const source: string;
  export default source;
}
