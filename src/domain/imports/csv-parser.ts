// An incremental RFC 4180 CSV parser over bytes, for files too large to hold: push byte chunks as they arrive,
// get records back as soon as they are complete. Web-standard only (it runs on Workers).
//
// It works on bytes rather than text because the structural characters (`,` `"` CR LF) are ASCII and never
// occur inside a multi-byte UTF-8 sequence; decoding each record on its own lets a row with invalid UTF-8 be
// rejected alone instead of failing the whole file. Accepted: quoted fields with `""` escapes, newlines inside
// quotes, CRLF, LF or lone CR line ends, a UTF-8 byte order mark, blank lines (skipped). A quote inside an
// unquoted field or text after a closing quote rejects that record; a quoted field left open for more than
// `maxRecordBytes` is fatal, since everything after it would be swallowed.

/** One record: its fields, or why it was rejected. `line` is the 1-based line it starts on. */
export type CsvRecord =
  | { line: number; fields: string[] }
  | { line: number; error: CsvRecordError; raw: string };

export interface CsvRecordError {
  /** 0-based index of the offending field, or undefined when the record as a whole is at fault. */
  field?: number;
  reason: string;
}

/** A problem that makes the rest of the file unreadable. */
export class CsvFatalError extends Error {
  override name = "CsvFatalError";
  /** Records completed before the problem, in the same push (earlier pushes returned theirs). */
  records: CsvRecord[] = [];
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export interface CsvParserOptions {
  /** Longest record, in bytes. Default 64 KiB. */
  maxRecordBytes?: number;
}

const COMMA = 0x2c;
const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

// Parser states (plain numbers: the hot loop switches on them).
const State = {
  /** At the start of a field. */
  FieldStart: 0,
  Unquoted: 1,
  Quoted: 2,
  /** Just read a quote inside a quoted field: an escape (`""`) or its end. */
  QuoteInQuoted: 3,
  /** Just read a CR that ended a record; a following LF belongs to it. */
  AfterCr: 4,
  /**
   * The record is already rejected: skip to the end of the line. Quotes are not honoured any more, so one
   * stray quote costs one row rather than swallowing the rows after it.
   */
  Skipping: 5,
} as const;
type State = (typeof State)[keyof typeof State];

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * @example
 * const parser = new CsvParser();
 * for await (const bytes of body) for (const record of parser.push(bytes)) handle(record);
 * for (const record of parser.end()) handle(record);
 */
export class CsvParser {
  private readonly maxRecordBytes: number;
  private state: State = State.FieldStart;
  /** The current record's field contents, unescaped, back to back. */
  private buffer = new Uint8Array(1024);
  private length = 0;
  /** End offset in `buffer` of each finished field of the current record. */
  private ends: number[] = [];
  /** OR of every byte of the record: bit 7 set means it is not plain ASCII. */
  private bits = 0;
  private line = 1;
  private recordLine = 1;
  private rejection: CsvRecordError | undefined;
  private started = false;
  private bomChecked = false;
  private out: CsvRecord[] = [];

  constructor(options: CsvParserOptions = {}) {
    this.maxRecordBytes = options.maxRecordBytes ?? 64 * 1024;
  }

  /** The line the parser has reached (1-based). */
  get currentLine(): number {
    return this.line;
  }

  /** Parses more bytes; returns the records they completed. Throws `CsvFatalError`. */
  push(bytes: Uint8Array): CsvRecord[] {
    let start = 0;
    if (!this.bomChecked) {
      if (bytes.length < 3 && this.length === 0 && isBomPrefix(bytes)) {
        // Too short to tell; keep it for the next push.
        this.stash(bytes);
        return [];
      }
      this.bomChecked = true;
      const joined = this.length > 0 ? this.takeStash(bytes) : bytes;
      if (joined[0] === 0xff && joined[1] === 0xfe) throw utf16(this.line);
      if (joined[0] === 0xfe && joined[1] === 0xff) throw utf16(this.line);
      start = joined[0] === 0xef && joined[1] === 0xbb && joined[2] === 0xbf ? 3 : 0;
      bytes = joined;
    }
    this.scanKeepingRecords(bytes, start);
    const records = this.out;
    this.out = [];
    return records;
  }

  /** Scans; a fatal error carries the records completed before it, so none is lost. */
  private scanKeepingRecords(bytes: Uint8Array, from: number): void {
    try {
      this.scan(bytes, from);
    } catch (error) {
      if (error instanceof CsvFatalError) {
        error.records = this.out;
        this.out = [];
      }
      throw error;
    }
  }

  /** Ends the input; returns the last record, if the input did not end with a line break. */
  end(): CsvRecord[] {
    if (!this.bomChecked && this.length > 0) {
      const pending = this.takeStash(new Uint8Array(0));
      this.bomChecked = true;
      this.scanKeepingRecords(pending, 0);
    }
    switch (this.state) {
      case State.Quoted:
        throw new CsvFatalError(
          this.recordLine,
          `line ${this.recordLine}: a quoted field is never closed (a stray " ?); the file ends inside it`,
        );
      case State.AfterCr:
        break;
      default:
        if (this.started) this.finishRecord();
    }
    this.state = State.FieldStart;
    const records = this.out;
    this.out = [];
    return records;
  }

  private scan(bytes: Uint8Array, from: number): void {
    let state: State = this.state;
    for (let i = from; i < bytes.length; i++) {
      const byte = bytes[i] as number;
      if (state === State.AfterCr) {
        // A lone CR ended the record: this byte starts the next one, unless it is the LF of a CRLF.
        state = State.FieldStart;
        if (byte === LF) continue;
      }
      switch (state) {
        case State.FieldStart:
          if (byte === QUOTE) {
            this.started = true;
            state = State.Quoted;
          } else if (byte === COMMA) {
            this.started = true;
            this.endField();
          } else if (byte === LF || byte === CR) {
            state = this.lineBreak(byte);
          } else {
            this.started = true;
            this.append(byte);
            state = State.Unquoted;
          }
          break;
        case State.Unquoted:
          if (byte === COMMA) {
            this.endField();
            state = State.FieldStart;
          } else if (byte === LF || byte === CR) {
            state = this.lineBreak(byte);
          } else if (byte === QUOTE) {
            state = this.reject(
              byte,
              'a quote inside an unquoted field; quote the whole field and double the "',
            );
          } else {
            this.append(byte);
          }
          break;
        case State.Quoted:
          if (byte === QUOTE) state = State.QuoteInQuoted;
          else {
            if (byte === LF) this.line++;
            this.append(byte);
          }
          break;
        case State.QuoteInQuoted:
          if (byte === QUOTE) {
            this.append(QUOTE);
            state = State.Quoted;
          } else if (byte === COMMA) {
            this.endField();
            state = State.FieldStart;
          } else if (byte === LF || byte === CR) {
            state = this.lineBreak(byte);
          } else {
            state = this.reject(byte, "text after the closing quote of a quoted field");
          }
          break;
        case State.Skipping:
          if (byte === LF || byte === CR) state = this.lineBreak(byte);
          else this.appendSkipped(byte);
          break;
      }
      if (this.length > this.maxRecordBytes) state = this.tooLong(state);
    }
    this.state = state;
  }

  /** A line break outside quotes: ends the record (or a blank line). Returns the next state. */
  private lineBreak(byte: number): State {
    if (this.started) this.finishRecord();
    this.line++;
    this.recordLine = this.line;
    return byte === CR ? State.AfterCr : State.FieldStart;
  }

  private reject(byte: number, reason: string): State {
    this.rejection ??= { field: this.ends.length, reason };
    this.appendSkipped(byte);
    return State.Skipping;
  }

  private tooLong(state: State): State {
    if (state === State.Quoted || state === State.QuoteInQuoted) {
      throw new CsvFatalError(
        this.recordLine,
        `line ${this.recordLine}: a quoted field runs past ${this.maxRecordBytes} bytes; is a closing " missing?`,
      );
    }
    this.rejection ??= { reason: `the row is longer than ${this.maxRecordBytes} bytes` };
    // Keep the start of the row for the error report, drop the rest.
    this.length = Math.min(this.length, 256);
    this.ends = this.ends.filter((end) => end <= this.length);
    return State.Skipping;
  }

  private append(byte: number): void {
    if (this.length === this.buffer.length) this.grow();
    this.buffer[this.length++] = byte;
    this.bits |= byte;
  }

  private appendSkipped(byte: number): void {
    if (this.length < 256) this.append(byte);
  }

  private grow(): void {
    const larger = new Uint8Array(this.buffer.length * 2);
    larger.set(this.buffer);
    this.buffer = larger;
  }

  private endField(): void {
    this.ends.push(this.length);
  }

  private finishRecord(): void {
    this.ends.push(this.length);
    const line = this.recordLine;
    if (this.rejection) {
      this.out.push({ line, error: this.rejection, raw: this.rawText() });
    } else {
      const decoded = this.decodeFields();
      this.out.push(Array.isArray(decoded) ? { line, fields: decoded } : { line, ...decoded });
    }
    this.length = 0;
    // Reused: a fresh list per record would be garbage at the file's row rate.
    this.ends.length = 0;
    this.bits = 0;
    this.rejection = undefined;
    this.started = false;
  }

  /** ASCII records are decoded in one call and sliced; others field by field, so bad UTF-8 names its field. */
  private decodeFields(): string[] | { error: CsvRecordError; raw: string } {
    const ends = this.ends;
    const fields = new Array<string>(ends.length);
    if ((this.bits & 0x80) === 0) {
      const text = lenientUtf8.decode(this.buffer.subarray(0, this.length));
      let from = 0;
      for (let f = 0; f < ends.length; f++) {
        const to = ends[f] as number;
        fields[f] = text.slice(from, to);
        from = to;
      }
      return fields;
    }
    let from = 0;
    for (let f = 0; f < ends.length; f++) {
      const to = ends[f] as number;
      try {
        fields[f] = strictUtf8.decode(this.buffer.subarray(from, to));
      } catch {
        return {
          error: { field: f, reason: "is not valid UTF-8 (save the file as UTF-8)" },
          raw: this.rawText(),
        };
      }
      from = to;
    }
    return fields;
  }

  /** The record's fields joined by commas, for error reports (invalid bytes shown as U+FFFD). */
  private rawText(): string {
    const parts: string[] = [];
    let from = 0;
    for (const to of this.ends) {
      parts.push(lenientUtf8.decode(this.buffer.subarray(from, to)));
      from = to;
    }
    if (from < this.length) parts.push(lenientUtf8.decode(this.buffer.subarray(from, this.length)));
    return parts.join(",");
  }

  private stash(bytes: Uint8Array): void {
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  private takeStash(bytes: Uint8Array): Uint8Array {
    const joined = new Uint8Array(this.length + bytes.length);
    joined.set(this.buffer.subarray(0, this.length));
    joined.set(bytes, this.length);
    this.length = 0;
    return joined;
  }
}

function isBomPrefix(bytes: Uint8Array): boolean {
  const bom = [0xef, 0xbb, 0xbf];
  return (
    bytes.every((byte, i) => byte === bom[i]) ||
    (bytes.length === 1 && (bytes[0] === 0xff || bytes[0] === 0xfe))
  );
}

function utf16(line: number): CsvFatalError {
  return new CsvFatalError(line, "the file is UTF-16 (it starts with a UTF-16 byte order mark); send UTF-8");
}
