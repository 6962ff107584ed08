import { ConflictError, InvalidTransitionError, NotFoundError } from "../core/errors.js";
import { newId, requireId } from "../core/ids.js";
import type { Actor, Feedback, JsonObject, Step, StepMetrics, StepStatus } from "../core/model.js";
import type { StopReason } from "../core/run-lifecycle.js";
import { nowIso, parseTimestamp } from "../core/time.js";
import { checkInput, checkQuery } from "../core/input.js";
import { FeedbackSetSchema, RunStepsSchema, StepFinishSchema, StepListSchema, StepRecordSchema } from "../core/schemas/steps.js";
import { optionalJsonObject, uniqueStrings } from "../core/validate.js";
import type { UsageDelta } from "../store/repos/run-metrics.js";
import type { StepFilter } from "../store/repos/steps.js";
import type { Store } from "../store/store.js";
import { requireWriter } from "./access.js";
import { lockActiveRun } from "./active-run.js";
import { audit } from "./audit.js";
import { type PageInput, resolvePage } from "./paging.js";
import { stepEvent } from "./run-events.js";
import { runNotFound } from "./runs.js";

/** What a producer reports about one LLM call. Token counts left out are 0 (or null where Letta allows null). */
export interface StepInput {
  id?: string | null;
  status?: StepStatus | null;
  stop_reason?: StopReason | null;
  provider_name?: string | null;
  provider_category?: string | null;
  provider_id?: string | null;
  model?: string | null;
  model_endpoint?: string | null;
  model_handle?: string | null;
  context_window_limit?: number | null;
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  total_tokens?: number | null;
  cached_input_tokens?: number | null;
  cache_write_tokens?: number | null;
  reasoning_tokens?: number | null;
  prompt_tokens_details?: JsonObject | null;
  completion_tokens_details?: JsonObject | null;
  error_type?: string | null;
  error_data?: JsonObject | null;
  tags?: string[] | null;
  trace_id?: string | null;
  request_id?: string | null;
  llm_request_start_ns?: number | null;
  llm_request_ns?: number | null;
  tool_execution_ns?: number | null;
  step_start_ns?: number | null;
  step_ns?: number | null;
}

/** Finishing a step: its final status plus anything learned since it was recorded. */
export type StepFinishInput = Omit<StepInput, "id" | "status" | "tags" | "context_window_limit"> & { status: StepStatus };

export interface StepListQuery extends PageInput {
  agent_id?: string | null;
  model?: string | null;
  feedback?: Feedback | null;
  has_feedback?: boolean | null;
  tags?: string[] | null;
  trace_ids?: string[] | null;
  project_id?: string | null;
  start_date?: string | null;
  end_date?: string | null;
}

const JSON_FIELDS = ["prompt_tokens_details", "completion_tokens_details", "error_data"] as const;

type StepFields = Partial<Omit<Step, "id" | "run_id" | "agent_id" | "project_id" | "created_at" | "updated_at" | "feedback">>;

/** The reported fields of a checked input that are present; absent (or null) fields stay absent. */
function presentFields(body: Record<string, unknown>): StepFields {
  const fields: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) if (value != null && field !== "id") fields[field] = value;
  for (const f of JSON_FIELDS) if (fields[f] !== undefined) optionalJsonObject(fields[f], f);
  if (fields.tags !== undefined) fields.tags = uniqueStrings(fields.tags as string[]);
  return fields as StepFields;
}

function usageOf(step: Pick<Step, "prompt_tokens" | "completion_tokens" | "total_tokens" | "cached_input_tokens" | "cache_write_tokens" | "reasoning_tokens">): UsageDelta {
  return {
    prompt_tokens: step.prompt_tokens,
    completion_tokens: step.completion_tokens,
    total_tokens: step.total_tokens,
    cached_input_tokens: step.cached_input_tokens,
    cache_write_tokens: step.cache_write_tokens,
    reasoning_tokens: step.reasoning_tokens,
  };
}

function usageDifference(after: UsageDelta, before: UsageDelta): UsageDelta {
  const nullable = (a: number | null, b: number | null) => (a === null ? null : a - (b ?? 0));
  return {
    prompt_tokens: after.prompt_tokens - before.prompt_tokens,
    completion_tokens: after.completion_tokens - before.completion_tokens,
    total_tokens: after.total_tokens - before.total_tokens,
    cached_input_tokens: nullable(after.cached_input_tokens, before.cached_input_tokens),
    cache_write_tokens: nullable(after.cache_write_tokens, before.cache_write_tokens),
    reasoning_tokens: nullable(after.reasoning_tokens, before.reasoning_tokens),
  };
}

export class StepService {
  constructor(private readonly store: Store) {}

  /**
   * Records an LLM call of an active run. The run's step count and token totals grow in the
   * same transaction, and the step counts as a heartbeat.
   */
  async record(actor: Actor, runId: string, input: StepInput): Promise<Step> {
    requireWriter(actor);
    requireId("run", runId);
    const body = checkInput(StepRecordSchema, input);
    const id = body.id == null ? newId("step") : requireId("step", body.id, "id");
    const fields = presentFields(body);
    const prompt = fields.prompt_tokens ?? 0;
    const completion = fields.completion_tokens ?? 0;

    return this.store.transaction(async (tx) => {
      const now = nowIso();
      const locked = await lockActiveRun(tx, actor, runId, 1, "record a step", now);
      const step: Step = {
        status: "pending",
        stop_reason: null,
        provider_name: null,
        provider_category: null,
        provider_id: null,
        model: null,
        model_endpoint: null,
        model_handle: null,
        context_window_limit: null,
        cached_input_tokens: null,
        cache_write_tokens: null,
        reasoning_tokens: null,
        prompt_tokens_details: null,
        completion_tokens_details: null,
        error_type: null,
        error_data: null,
        tags: [],
        trace_id: null,
        request_id: null,
        llm_request_start_ns: null,
        llm_request_ns: null,
        tool_execution_ns: null,
        step_start_ns: null,
        step_ns: null,
        ...fields,
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: fields.total_tokens ?? prompt + completion,
        id,
        run_id: runId,
        agent_id: locked.run.agent_id,
        project_id: locked.run.project_id,
        feedback: null,
        created_at: now,
        updated_at: now,
      };
      // A server-made id is a fresh UUID; only a producer's own id can be taken.
      if (!(await tx.steps.insert({ ...step, organization_id: actor.organization_id }))) {
        throw (await tx.steps.exists(actor.organization_id, id))
          ? new ConflictError(`step ${id} already exists; omit id to let the server assign one`)
          : new ConflictError(`step id ${id} cannot be used; omit id to let the server assign one`);
      }
      await tx.metrics.addUsage(runId, usageOf(step), 1);
      await tx.events.insertMany(actor.organization_id, [stepEvent(step, locked.lastSeqId)]);
      await audit(tx, actor, "step.record", { run_id: runId, target_id: step.id });
      return step;
    });
  }

  /**
   * Finishes a pending step (success, failed or cancelled) with its final figures; the
   * run's totals move by the difference. Finishing it again with the same status returns it
   * unchanged.
   */
  async finish(actor: Actor, runId: string, stepId: string, input: StepFinishInput): Promise<Step> {
    requireWriter(actor);
    requireId("run", runId);
    requireId("step", stepId);
    const body = checkInput(StepFinishSchema, input);
    const status = body.status;
    const fields = presentFields(body);

    return this.store.transaction(async (tx) => {
      const now = nowIso();
      const locked = await tx.runs.update(actor.organization_id, runId, { updated_at: now }, { events: 1 });
      if (locked === undefined) throw runNotFound(runId);
      const step = await tx.steps.get(actor.organization_id, stepId);
      if (step === undefined || step.run_id !== runId) throw new NotFoundError(`step ${stepId} not found in run ${runId}`);
      if (step.status !== "pending") {
        if (step.status === status) return step;
        throw new InvalidTransitionError(`step ${stepId} is already ${step.status}; a finished step cannot become ${status}`);
      }
      const set: StepFields & { updated_at: string } = { ...fields, status, updated_at: now };
      if (fields.total_tokens === undefined && (fields.prompt_tokens !== undefined || fields.completion_tokens !== undefined)) {
        set.total_tokens = (fields.prompt_tokens ?? step.prompt_tokens) + (fields.completion_tokens ?? step.completion_tokens);
      }
      const updated = await tx.steps.update(actor.organization_id, stepId, set, ["pending"]);
      if (updated === undefined) throw new InvalidTransitionError(`step ${stepId} is no longer pending`);
      await tx.metrics.addUsage(runId, usageDifference(usageOf(updated), usageOf(step)), 0);
      await tx.events.insertMany(actor.organization_id, [stepEvent(updated, locked.lastSeqId)]);
      await audit(tx, actor, "step.finish", { run_id: runId, target_id: stepId, details: { status } });
      return updated;
    });
  }

  async get(actor: Actor, stepId: string): Promise<Step> {
    requireId("step", stepId);
    const step = await this.store.read.steps.get(actor.organization_id, stepId);
    if (step === undefined) throw new NotFoundError(`step ${stepId} not found`);
    return step;
  }

  async metrics(actor: Actor, stepId: string): Promise<StepMetrics> {
    const s = await this.get(actor, stepId);
    return {
      id: s.id,
      run_id: s.run_id,
      agent_id: s.agent_id,
      project_id: s.project_id,
      provider_id: s.provider_id,
      llm_request_start_ns: s.llm_request_start_ns,
      llm_request_ns: s.llm_request_ns,
      tool_execution_ns: s.tool_execution_ns,
      step_start_ns: s.step_start_ns,
      step_ns: s.step_ns,
    };
  }

  /** Steps of one run, newest first unless `order` says otherwise. */
  async listForRun(actor: Actor, runId: string, input: PageInput = {}): Promise<Step[]> {
    requireId("run", runId);
    const query = checkQuery(RunStepsSchema, input);
    const read = this.store.read;
    if ((await read.runs.get(actor.organization_id, runId)) === undefined) throw runNotFound(runId);
    const page = await resolvePage(query, "step", "desc", (id) => read.steps.cursor(actor.organization_id, id, runId));
    return read.steps.list(actor.organization_id, { run_id: runId }, page);
  }

  /** Steps across the organization, filtered as Letta's /v1/steps. */
  async list(actor: Actor, input: StepListQuery = {}): Promise<Step[]> {
    const query = checkQuery(StepListSchema, input);
    const filter: StepFilter = {};
    if (query.agent_id !== undefined) filter.agent_id = requireId("agent", query.agent_id, "agent_id");
    if (query.model !== undefined) filter.model = query.model;
    if (query.feedback !== undefined) filter.feedback = query.feedback;
    if (query.has_feedback !== undefined) filter.has_feedback = query.has_feedback;
    const tags = uniqueStrings(query.tags);
    if (tags !== undefined && tags.length > 0) filter.tags = tags;
    const traces = uniqueStrings(query.trace_ids);
    if (traces !== undefined && traces.length > 0) filter.trace_ids = traces;
    if (query.project_id !== undefined) filter.project_id = query.project_id;
    if (query.start_date != null) filter.start_date = parseTimestamp(query.start_date, "start_date");
    if (query.end_date != null) filter.end_date = parseTimestamp(query.end_date, "end_date");
    const read = this.store.read;
    const page = await resolvePage(query, "step", "desc", (id) => read.steps.cursor(actor.organization_id, id));
    return read.steps.list(actor.organization_id, filter, page);
  }

  /** Sets (or, with null, clears) a step's feedback; `tags` replaces its tags when given. */
  async setFeedback(actor: Actor, stepId: string, input: { feedback?: Feedback | null; tags?: string[] | null }): Promise<Step> {
    requireWriter(actor);
    requireId("step", stepId);
    const body = checkInput(FeedbackSetSchema, input);
    const feedback = body.feedback ?? null;
    const tags = uniqueStrings(body.tags);
    const updated = await this.store.transaction(async (tx) => {
      const step = await tx.steps.get(actor.organization_id, stepId);
      if (step === undefined) return undefined;
      await audit(tx, actor, "step.feedback", { run_id: step.run_id, target_id: stepId, details: { feedback } });
      return tx.steps.update(actor.organization_id, stepId, { feedback, ...(tags === undefined ? {} : { tags }), updated_at: nowIso() });
    });
    if (updated === undefined) throw new NotFoundError(`step ${stepId} not found`);
    return updated;
  }
}
