/** Commands that talk to a running server: runs list|show|tail|cancel|stats, and keys over HTTP. */
import { RunledgerClient } from "../client/http-client.js";
import { Options, UsageError } from "./args.js";
import { printJson, printTable } from "./output.js";

export function clientFrom(options: Options): RunledgerClient {
  const url = options.string("url") || process.env.RUNLEDGER_URL || "http://127.0.0.1:8283";
  const apiKey = options.string("api-key") || process.env.RUNLEDGER_API_KEY || undefined;
  if (apiKey === undefined) throw new UsageError("an API key is needed: pass --api-key or set RUNLEDGER_API_KEY");
  return new RunledgerClient({ baseUrl: url, apiKey });
}

/** The list filters, from flags named as the API's query parameters (with dashes). */
function filters(options: Options): Record<string, string | readonly string[] | undefined> {
  return {
    agent_id: options.string("agent-id"),
    statuses: options.all("status"),
    stop_reason: options.string("stop-reason"),
    conversation_id: options.string("conversation-id"),
    project_id: options.string("project-id"),
    tags: options.all("tag"),
    created_after: options.string("created-after"),
    created_before: options.string("created-before"),
  };
}

const RUN_COLUMNS = ["id", "agent_id", "status", "stop_reason", "created_at", "total_duration_ns"];

export async function runsCommand(sub: string | undefined, options: Options): Promise<void> {
  const json = options.flag("json");
  const client = clientFrom(options);
  switch (sub) {
    case "list": {
      const query = { ...filters(options), limit: options.string("limit"), order: options.string("order"), after: options.string("after") };
      options.rejectUnknown("runs list");
      const runs = await client.listRuns(query);
      if (json) printJson(runs);
      else printTable(runs as unknown as Record<string, unknown>[], RUN_COLUMNS);
      return;
    }
    case "show": {
      const runId = required(options.words[2], "runs show <run_id>");
      options.rejectUnknown("runs show");
      const [run, usage] = [await client.getRun(runId), await client.runUsage(runId)];
      if (json) printJson({ run, usage });
      else {
        printTable([{ ...run, steps: usage.step_count, tokens: usage.total_tokens }] as unknown as Record<string, unknown>[], [
          ...RUN_COLUMNS,
          "steps",
          "tokens",
        ]);
        if (run.error) process.stdout.write(`error: ${run.error.type}: ${run.error.message}\n`);
      }
      return;
    }
    case "tail": {
      const runId = required(options.words[2], "runs tail <run_id>");
      options.rejectUnknown("runs tail");
      const controller = new AbortController();
      process.once("SIGINT", () => controller.abort());
      const final = await client.followEvents(
        runId,
        (kind, data, seq) => {
          if (json) process.stdout.write(`${JSON.stringify({ kind, seq_id: seq, event: data })}\n`);
          else process.stdout.write(`${String(seq).padStart(5)}  ${kind.padEnd(7)} ${describeEvent(kind, data)}\n`);
        },
        controller.signal,
      );
      if (final !== undefined && !json) process.stdout.write(`run ended: ${final}\n`);
      return;
    }
    case "cancel": {
      const ids = options.words.slice(2);
      const bulk = filters(options);
      const dryRun = options.flag("dry-run");
      options.rejectUnknown("runs cancel");
      if (ids.length > 0) {
        const runs = [];
        for (const id of ids) runs.push(await client.cancelRun(id));
        if (json) printJson(runs);
        else printTable(runs as unknown as Record<string, unknown>[], ["id", "status", "stop_reason", "cancel_requested_at"]);
        return;
      }
      if (Object.values(bulk).every((v) => v === undefined)) throw new UsageError("runs cancel needs run ids, or filters such as --agent-id, --status or --tag");
      const result = await client.bulkCancel({ ...bulk, dry_run: dryRun });
      if (json) printJson(result);
      else process.stdout.write(`${dryRun ? "would cancel" : "cancelled"} ${dryRun ? result.matched : result.changed} of ${result.matched} active runs\n`);
      return;
    }
    case "stats": {
      const query = { ...filters(options), group_by: options.string("group-by"), bucket: options.string("bucket") };
      options.rejectUnknown("runs stats");
      const report = await client.runStats(query);
      if (json) {
        printJson(report);
        return;
      }
      const row = (label: string | null | undefined, s: typeof report.summary) => ({
        group: label ?? "all",
        runs: s.runs,
        completed: s.by_status.completed,
        failed: s.by_status.failed,
        cancelled: s.by_status.cancelled,
        error_rate: s.error_rate,
        p50_ms: s.duration_ns.p50 === null ? null : Math.round(s.duration_ns.p50 / 1e6),
        p99_ms: s.duration_ns.p99 === null ? null : Math.round(s.duration_ns.p99 / 1e6),
        tokens: s.tokens.total,
      });
      const rows = [row("all", report.summary), ...report.groups.map((g) => row([g.bucket, g.group].filter(Boolean).join(" ") || "-", g))];
      printTable(rows, ["group", "runs", "completed", "failed", "cancelled", "error_rate", "p50_ms", "p99_ms", "tokens"]);
      if (report.top_tools.length > 0) process.stdout.write(`top tools: ${report.top_tools.map((t) => `${t.tool} (${t.runs})`).join(", ")}\n`);
      return;
    }
    default:
      throw new UsageError("runs commands: list, show <run_id>, tail <run_id>, cancel <run_id…|filters>, stats");
  }
}

function describeEvent(kind: string, data: Record<string, unknown>): string {
  switch (kind) {
    case "status":
      return `${String(data.status)}${data.stop_reason ? ` (${String(data.stop_reason)})` : ""}`;
    case "step": {
      const step = data.step as Record<string, unknown>;
      return `${String(step.status)} ${String(step.model ?? "")} tokens=${String(step.total_tokens)}`;
    }
    default:
      return `${String(data.message_type ?? "")} ${JSON.stringify(data.content ?? data.tool_call ?? data.reasoning ?? "").slice(0, 100)}`;
  }
}

export function required(value: string | undefined, usage: string): string {
  if (value === undefined) throw new UsageError(`usage: runledger ${usage}`);
  return value;
}
