/**
 * Where the built dashboard lives: dist/dashboard/public at the package root, whether this
 * module runs from src/ (tests) or from dist/ (npm start) — both sit two levels below it.
 */
import { fileURLToPath } from "node:url";

export const DASHBOARD_ASSETS_DIR = fileURLToPath(new URL("../../dist/dashboard/public", import.meta.url));
