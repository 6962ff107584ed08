import { PermissionDeniedError } from "../core/errors.js";
import type { Actor } from "../core/model.js";

/** Read keys may only read. */
export function requireWriter(actor: Actor): void {
  if (actor.role === "read") throw new PermissionDeniedError("this API key has the read role and cannot change anything; use a write or admin key");
}

export function requireAdmin(actor: Actor): void {
  if (actor.role !== "admin") throw new PermissionDeniedError(`this operation needs an admin API key; this key has the ${actor.role} role`);
}

export function requireSuperuser(actor: Actor): void {
  if (actor.superuser !== true) throw new PermissionDeniedError("this operation needs the installation's superuser key (the first admin key)");
}
