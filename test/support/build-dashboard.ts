/** Builds the dashboard once before the tests, so the server under test serves the current code. */
import { buildDashboard } from "../../scripts/build-dashboard.js";

export default async function setup(): Promise<void> {
  await buildDashboard();
}
