// Placement is remembered per command name only where the name alone decides it: commands whose placement
// depends on their arguments or on where they are sent are judged every time.
import { expect, test } from "bun:test";
import { BadRequest, placementOf } from "../../../src/local/redis-rest/commands.ts";

test("a command allowed once with some arguments is still refused with others", () => {
  for (let i = 0; i < 3; i++) {
    expect(placementOf(["client", "id"])).toBe("shared");
    expect(placementOf(["client"])).toBe("shared");
    expect(() => placementOf(["client", "setname", "x"])).toThrow(BadRequest);
    expect(() => placementOf(["CLIENT", "reply", "off"])).toThrow(/CLIENT REPLY/);
  }
});

test("a stream read blocks only with BLOCK, however often it was placed before", () => {
  for (let i = 0; i < 3; i++) {
    expect(placementOf(["xread", "count", "1", "streams", "s", "0"])).toBe("shared");
    expect(placementOf(["xread", "block", "10", "streams", "s", "$"])).toBe("blocking");
  }
});

test("a blocking command placed inside a transaction still blocks outside one", () => {
  for (let i = 0; i < 3; i++) {
    expect(placementOf(["blpop", "q", "1"], true)).toBe("shared");
    expect(placementOf(["blpop", "q", "1"])).toBe("blocking");
  }
});

test("refused commands stay refused, in any case, and ordinary ones run shared", () => {
  for (let i = 0; i < 3; i++) {
    expect(placementOf(["get", "k"])).toBe("shared");
    expect(placementOf(["GET", "k"])).toBe("shared");
    expect(() => placementOf(["select", "1"])).toThrow(/SELECT/);
    expect(() => placementOf(["Multi"])).toThrow(/MULTI/);
    expect(() => placementOf(["exec"], true)).toThrow(/not allowed inside \/multi-exec/);
  }
});
