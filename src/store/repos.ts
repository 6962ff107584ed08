import type { RunNotice } from "../core/run-notice.js";
import type { Dialect, Executor } from "./executor.js";
import { AgentRepo } from "./repos/agents.js";
import { ApiKeyRepo } from "./repos/api-keys.js";
import { AuditRepo } from "./repos/audit.js";
import { InstanceRepo } from "./repos/instance.js";
import { LivenessRepo } from "./repos/liveness.js";
import { MessageAppendRepo } from "./repos/message-append.js";
import { MessageRepo } from "./repos/messages.js";
import { OrganizationRepo } from "./repos/organizations.js";
import { RunEventRepo } from "./repos/run-events.js";
import { RunMetricsRepo } from "./repos/run-metrics.js";
import { RunStatsRepo } from "./repos/run-stats.js";
import { RetentionRepo } from "./repos/retention.js";
import { RunRepo } from "./repos/runs.js";
import { StepRepo } from "./repos/steps.js";
import { WebhookRepo } from "./repos/webhooks.js";

/** Every table's repository, bound to one executor (the pool, or one transaction). */
export class Repos {
  readonly organizations: OrganizationRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly agents: AgentRepo;
  readonly runs: RunRepo;
  readonly metrics: RunMetricsRepo;
  readonly steps: StepRepo;
  readonly messages: MessageRepo;
  /** A batch of messages with its events, sequence numbers, tools and audit row. */
  readonly messageAppends: MessageAppendRepo;
  readonly events: RunEventRepo;
  readonly webhooks: WebhookRepo;
  readonly audit: AuditRepo;
  readonly retention: RetentionRepo;
  readonly stats: RunStatsRepo;
  /** The reaper's view of active runs across organizations. */
  readonly liveness: LivenessRepo;
  /** Figures across organizations, for the installation's metrics. */
  readonly instance: InstanceRepo;
  /** Runs whose event logs grew in this transaction, announced once it commits. */
  readonly notices: RunNotice[] = [];

  constructor(db: Executor, dialect: Dialect) {
    this.organizations = new OrganizationRepo(db);
    this.apiKeys = new ApiKeyRepo(db);
    this.agents = new AgentRepo(db);
    this.runs = new RunRepo(db, dialect);
    this.metrics = new RunMetricsRepo(db);
    this.steps = new StepRepo(db, dialect);
    this.messages = new MessageRepo(db);
    this.events = new RunEventRepo(db, dialect, this.notices);
    this.webhooks = new WebhookRepo(db, dialect);
    this.audit = new AuditRepo(db);
    this.retention = new RetentionRepo(db);
    this.stats = new RunStatsRepo(db, dialect);
    this.liveness = new LivenessRepo(db, dialect);
    this.instance = new InstanceRepo(db);
    this.messageAppends = new MessageAppendRepo(db, dialect, this.notices, this);
  }
}
