/**
 * `Upstash-Retry-Delay`: an arithmetic expression in `retried` giving the wait in milliseconds,
 * e.g. `pow(2, retried) * 1000` or `max(1000, 500 * retried)`.
 *
 * A small recursive-descent parser (numbers, `retried`, + - * /, unary minus, parentheses and the
 * functions QStash documents); expressions are compiled once at publish time, never `eval`ed.
 */

type Node =
  | { kind: "number"; value: number }
  | { kind: "retried" }
  | { kind: "negate"; operand: Node }
  | { kind: "binary"; op: "+" | "-" | "*" | "/"; left: Node; right: Node }
  | { kind: "call"; name: FunctionName; args: Node[] };

const FUNCTIONS = {
  pow: { arity: 2, apply: (a: number[]) => (a[0] as number) ** (a[1] as number) },
  exp: { arity: 1, apply: (a: number[]) => Math.exp(a[0] as number) },
  sqrt: { arity: 1, apply: (a: number[]) => Math.sqrt(a[0] as number) },
  abs: { arity: 1, apply: (a: number[]) => Math.abs(a[0] as number) },
  floor: { arity: 1, apply: (a: number[]) => Math.floor(a[0] as number) },
  ceil: { arity: 1, apply: (a: number[]) => Math.ceil(a[0] as number) },
  round: { arity: 1, apply: (a: number[]) => Math.round(a[0] as number) },
  min: { arity: -1, apply: (a: number[]) => Math.min(...a) },
  max: { arity: -1, apply: (a: number[]) => Math.max(...a) },
} as const;
type FunctionName = keyof typeof FUNCTIONS;

const MAX_LENGTH = 512;
const TOKEN = /\s*(?:(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+)|([A-Za-z_]\w*)|([-+*/(),]))/y;

type Token =
  | { type: "number"; value: number }
  | { type: "name"; value: string }
  | { type: "op"; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (match === null) throw new SyntaxError(`unexpected character at ${at + 1}`);
    if (match[1] !== undefined) tokens.push({ type: "number", value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ type: "name", value: match[2] });
    else tokens.push({ type: "op", value: match[3] as string });
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.sum();
    const rest = this.tokens[this.at];
    if (rest !== undefined) throw new SyntaxError(`unexpected "${rest.value}"`);
    return node;
  }

  private peekOp(...ops: string[]): string | undefined {
    const token = this.tokens[this.at];
    return token?.type === "op" && ops.includes(token.value) ? token.value : undefined;
  }

  private expectOp(op: string): void {
    if (this.peekOp(op) === undefined) throw new SyntaxError(`expected "${op}"`);
    this.at++;
  }

  private sum(): Node {
    let left = this.product();
    for (let op = this.peekOp("+", "-"); op !== undefined; op = this.peekOp("+", "-")) {
      this.at++;
      left = { kind: "binary", op: op as "+" | "-", left, right: this.product() };
    }
    return left;
  }

  private product(): Node {
    let left = this.unary();
    for (let op = this.peekOp("*", "/"); op !== undefined; op = this.peekOp("*", "/")) {
      this.at++;
      left = { kind: "binary", op: op as "*" | "/", left, right: this.unary() };
    }
    return left;
  }

  private unary(): Node {
    if (this.peekOp("-") !== undefined) {
      this.at++;
      return { kind: "negate", operand: this.unary() };
    }
    if (this.peekOp("+") !== undefined) {
      this.at++;
      return this.unary();
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.tokens[this.at++];
    if (token === undefined) throw new SyntaxError("unexpected end of expression");
    if (token.type === "number") return { kind: "number", value: token.value };
    if (token.type === "op") {
      if (token.value !== "(") throw new SyntaxError(`unexpected "${token.value}"`);
      const inner = this.sum();
      this.expectOp(")");
      return inner;
    }
    if (token.value === "retried") return { kind: "retried" };
    if (!Object.hasOwn(FUNCTIONS, token.value)) throw new SyntaxError(`unknown name "${token.value}"`);
    const name = token.value as FunctionName;
    this.expectOp("(");
    const args: Node[] = [];
    if (this.peekOp(")") === undefined) {
      args.push(this.sum());
      while (this.peekOp(",") !== undefined) {
        this.at++;
        args.push(this.sum());
      }
    }
    this.expectOp(")");
    const { arity } = FUNCTIONS[name];
    if (arity >= 0 ? args.length !== arity : args.length === 0) {
      throw new SyntaxError(`${name} takes ${arity >= 0 ? arity : "at least one"} argument(s)`);
    }
    return { kind: "call", name, args };
  }
}

function evaluate(node: Node, retried: number): number {
  switch (node.kind) {
    case "number":
      return node.value;
    case "retried":
      return retried;
    case "negate":
      return -evaluate(node.operand, retried);
    case "binary": {
      const left = evaluate(node.left, retried);
      const right = evaluate(node.right, retried);
      if (node.op === "+") return left + right;
      if (node.op === "-") return left - right;
      if (node.op === "*") return left * right;
      return left / right;
    }
    case "call":
      return FUNCTIONS[node.name].apply(node.args.map((arg) => evaluate(arg, retried)));
  }
}

/** A compiled expression: milliseconds to wait after the attempt numbered `retried` (0 for the first) failed. */
export type RetryDelay = (retried: number) => number;

export type RetryDelayParse = { ok: true; delay: RetryDelay } | { ok: false; error: string };

/** Compiles an `Upstash-Retry-Delay` expression. Results that are not finite or negative count as 0 ms. */
export function parseRetryDelay(text: string): RetryDelayParse {
  if (text.length > MAX_LENGTH) return { ok: false, error: `longer than ${MAX_LENGTH} characters` };
  let tree: Node;
  try {
    const tokens = tokenize(text);
    if (tokens.length === 0) return { ok: false, error: "empty expression" };
    tree = new Parser(tokens).parse();
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  return {
    ok: true,
    delay: (retried) => {
      const ms = evaluate(tree, retried);
      return Number.isFinite(ms) && ms > 0 ? ms : 0;
    },
  };
}
