import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { InvalidArgumentError, NotFoundError, UnauthenticatedError } from "../core/errors.js";
import { newId, requireId } from "../core/ids.js";
import type { Actor, ApiKey, Organization, Role } from "../core/model.js";
import { nowIso } from "../core/time.js";
import { checkInput } from "../core/input.js";
import { ApiKeyCreateSchema } from "../core/schemas/admin.js";
import type { Repos } from "../store/repos.js";
import type { Store } from "../store/store.js";
import { requireAdmin, requireSuperuser } from "./access.js";
import { audit } from "./audit.js";

/** Keys look like `rlk_<12 visible chars>_<40 secret chars>`; the visible part identifies the key. */
const KEY_PATTERN = /^(rlk_[A-Za-z0-9]{12})_[A-Za-z0-9_-]{20,}$/;

export interface ApiKeyCreateInput {
  name?: string | null;
  role?: Role | null;
  /** Superuser only: create the key in another organization. */
  organization_id?: string | null;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

function generateSecret(): { secret: string; prefix: string } {
  const visible = randomBytes(9).toString("base64").replace(/[^A-Za-z0-9]/g, "x").slice(0, 12);
  const prefix = `rlk_${visible}`;
  return { prefix, secret: `${prefix}_${randomBytes(30).toString("base64url")}` };
}

export class ApiKeyService {
  constructor(private readonly store: Store) {}

  /** Creates a key; the secret is in the result's `key` field and is never shown again. */
  async create(actor: Actor, input: ApiKeyCreateInput = {}): Promise<ApiKey & { key: string }> {
    requireAdmin(actor);
    const body = checkInput(ApiKeyCreateSchema, input);
    let organizationId = actor.organization_id;
    if (body.organization_id != null && body.organization_id !== actor.organization_id) {
      requireSuperuser(actor);
      organizationId = requireId("org", body.organization_id, "organization_id");
    }
    const role = body.role ?? "read";
    const name = body.name ?? `${role} key`;
    return this.store.transaction(async (tx) => {
      if ((await tx.organizations.get(organizationId)) === undefined) throw new NotFoundError(`organization ${organizationId} not found`);
      const key = await insertKey(tx, organizationId, name, role, false);
      await audit(tx, { ...actor, organization_id: organizationId }, "api_key.create", { target_id: key.id, details: { role } });
      return key;
    });
  }

  async list(actor: Actor, organizationId?: string | null): Promise<ApiKey[]> {
    requireAdmin(actor);
    let org = actor.organization_id;
    if (organizationId != null && organizationId !== org) {
      requireSuperuser(actor);
      org = requireId("org", organizationId, "organization_id");
    }
    return this.store.read.apiKeys.list(org);
  }

  /** Revokes a key of the caller's organization; it stops authenticating at once. Idempotent. */
  async revoke(actor: Actor, keyId: string): Promise<ApiKey> {
    requireAdmin(actor);
    requireId("key", keyId);
    const revoked = await this.store.transaction(async (tx) => {
      const key = await (actor.superuser ? tx.apiKeys.getAny(keyId) : tx.apiKeys.get(actor.organization_id, keyId));
      if (key === undefined) return undefined;
      await audit(tx, { ...actor, organization_id: key.organization_id }, "api_key.revoke", { target_id: keyId });
      return tx.apiKeys.revoke(key.organization_id, keyId, nowIso());
    });
    if (revoked === undefined) throw new NotFoundError(`API key ${keyId} not found`);
    return revoked;
  }

  /** Resolves a presented secret to the actor it speaks for, or throws UnauthenticatedError. */
  async authenticate(secret: string): Promise<Actor> {
    const match = KEY_PATTERN.exec(secret);
    if (match === null) throw new UnauthenticatedError("the API key is malformed; expected a key starting with rlk_");
    const key = await this.store.read.apiKeys.getByPrefix(match[1]!);
    const presented = Buffer.from(hashSecret(secret), "hex");
    const stored = Buffer.from(key?.secret_hash ?? "0".repeat(64), "hex");
    if (key === undefined || !timingSafeEqual(presented, stored)) throw new UnauthenticatedError("the API key is not valid");
    if (key.revoked_at !== null) throw new UnauthenticatedError("the API key has been revoked");
    // last_used_at is kept to the minute: one write per key per minute, not per request.
    if (key.last_used_at === null || Date.now() - Date.parse(key.last_used_at) > 60_000) {
      await this.store.transaction((tx) => tx.apiKeys.touch(key.id, nowIso()));
    }
    return { organization_id: key.organization_id, role: key.role, api_key_id: key.id, superuser: key.is_superuser };
  }

  /**
   * On an empty installation, creates the default organization and its superuser admin key.
   * `presetSecret` (RUNLEDGER_ADMIN_KEY) is used instead of a generated secret. Returns the
   * secret when a key was created, undefined when the installation already had keys.
   */
  async bootstrap(presetSecret?: string): Promise<{ organization: Organization; key: ApiKey & { key: string } } | undefined> {
    if (presetSecret !== undefined && !KEY_PATTERN.test(presetSecret)) {
      throw new InvalidArgumentError("RUNLEDGER_ADMIN_KEY must look like rlk_<12 letters or digits>_<at least 20 more characters>");
    }
    return this.store.transaction(async (tx) => {
      if ((await tx.apiKeys.count()) > 0) return undefined;
      const organization: Organization = { id: newId("org"), name: "default", created_at: nowIso() };
      await tx.organizations.insert(organization);
      const key = await insertKey(tx, organization.id, "superuser", "admin", true, presetSecret);
      return { organization, key };
    });
  }
}

async function insertKey(tx: Repos, organizationId: string, name: string, role: Role, superuser: boolean, presetSecret?: string) {
  const { secret, prefix } = presetSecret === undefined ? generateSecret() : { secret: presetSecret, prefix: KEY_PATTERN.exec(presetSecret)![1]! };
  const key: ApiKey = {
    id: newId("key"),
    organization_id: organizationId,
    name,
    role,
    is_superuser: superuser,
    prefix,
    created_at: nowIso(),
    last_used_at: null,
    revoked_at: null,
  };
  await tx.apiKeys.insert({ ...key, secret_hash: hashSecret(secret) });
  return { ...key, key: secret };
}
