// JSON-lines logging: one object per line, so a delivery's lines can be found by its message id.
export type LogFields = Record<string, unknown>;
export type LogLevel = "info" | "warn" | "error";

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogSink = (level: LogLevel, line: string) => void;

const consoleSink: LogSink = (level, line) => (level === "info" ? console.log(line) : console.error(line));

export function createLogger(base: LogFields = {}, sink: LogSink = consoleSink): Logger {
  const write = (level: LogLevel, message: string, fields?: LogFields) =>
    sink(level, JSON.stringify({ time: new Date().toISOString(), level, message, ...base, ...fields }));
  return {
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
    child: (fields) => createLogger({ ...base, ...fields }, sink),
  };
}

export function errorFields(error: unknown): LogFields {
  return error instanceof Error ? { error: error.message, stack: error.stack } : { error: String(error) };
}
