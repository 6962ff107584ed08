/**
 * Gives the event loop a turn. SQLite statements run synchronously, so a background loop of
 * transactions (retention, the reaper, bulk actions) would otherwise hold the process until
 * it finished; one yield per batch lets requests through in between.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
