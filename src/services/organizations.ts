import { InvalidArgumentError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { Actor, Organization } from "../core/model.js";
import { nowIso } from "../core/time.js";
import { checkInput, checkJsonValue } from "../core/input.js";
import { OrganizationCreateSchema } from "../core/schemas/admin.js";
import type { Store } from "../store/store.js";
import { requireSuperuser } from "./access.js";
import { audit } from "./audit.js";

export class OrganizationService {
  constructor(private readonly store: Store) {}

  /** Superuser only. */
  async create(actor: Actor, input: { name: string }): Promise<Organization> {
    requireSuperuser(actor);
    const { name } = checkInput(OrganizationCreateSchema, input);
    if (name.trim() === "") throw new InvalidArgumentError("name must not be blank");
    const org: Organization = { id: newId("org"), name, created_at: nowIso() };
    await this.store.transaction(async (tx) => {
      await tx.organizations.insert(org);
      await audit(tx, actor, "organization.create", { target_id: org.id });
    });
    return org;
  }

  /** Superuser only. */
  async list(actor: Actor): Promise<Organization[]> {
    requireSuperuser(actor);
    return this.store.read.organizations.list();
  }

  /** Every organization, oldest first, without an actor (see createTrusted). */
  async listTrusted(): Promise<Organization[]> {
    return this.store.read.organizations.list();
  }

  /**
   * Creates an organization without an actor: for embedding runledger as a library (and for
   * tests), where the host application is the authority.
   */
  async createTrusted(name: string): Promise<Organization> {
    checkJsonValue({ name });
    const org: Organization = { id: newId("org"), name, created_at: nowIso() };
    await this.store.transaction((tx) => tx.organizations.insert(org));
    return org;
  }
}
