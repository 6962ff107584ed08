import type { Organization } from "../../core/model.js";
import type { Executor } from "../executor.js";

export class OrganizationRepo {
  constructor(private readonly db: Executor) {}

  async insert(org: Organization): Promise<void> {
    await this.db.run("INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)", [org.id, org.name, org.created_at]);
  }

  async get(id: string): Promise<Organization | undefined> {
    return this.db.get<Organization>("SELECT id, name, created_at FROM organizations WHERE id = ?", [id]);
  }

  async list(): Promise<Organization[]> {
    return this.db.all<Organization>("SELECT id, name, created_at FROM organizations ORDER BY created_at, id");
  }
}
