import pg from "pg";

/**
 * The statements PostgreSQL is sent (each one round trip) while `fn` runs, but for the
 * notices the store sends after commits, on another connection and off the caller's path.
 */
export async function statementsDuring(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string };
    const text = typeof config === "string" ? config : config.text;
    if (!/^SELECT set_config\(.*pg_notify\(/.test(text)) sent.push(text);
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    await fn();
  } finally {
    pg.Client.prototype.query = original;
  }
  return sent;
}
