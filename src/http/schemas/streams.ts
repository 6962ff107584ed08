import { Type } from "typebox";
import { LIMITS } from "../../core/validate.js";
import { JsonObject, Nullable, StringEnum } from "./common.js";
import { RunStatusSchema } from "./runs.js";

/** Letta's stream request; agent_id, otid and run_id are accepted for compatibility and ignored. */
export const RunStreamBody = Type.Object(
  {
    starting_after: Type.Optional(Nullable(Type.Integer({ minimum: 0, description: "Replay events after this seq_id, then follow live" }))),
    include_pings: Type.Optional(Nullable(Type.Boolean({ description: "Send a ping message about every 20 s" }))),
    poll_interval: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 60, description: "Seconds between re-reads when no notice arrives" }))),
    batch_size: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1000 }))),
    agent_id: Type.Optional(Nullable(Type.String())),
    otid: Type.Optional(Nullable(Type.String())),
    run_id: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: false },
);

export const RunEventsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: "Resume after this seq_id (or send Last-Event-ID)" })),
    kinds: Type.Optional(Type.Array(StringEnum(["status", "step", "message", "chunk"] as const), { maxItems: 4 })),
  },
  { additionalProperties: false },
);

export const OrganizationEventsQuery = Type.Object(
  {
    agent_id: Type.Optional(Type.Array(Type.String(), { maxItems: LIMITS.pageMax })),
    statuses: Type.Optional(Type.Array(RunStatusSchema, { maxItems: 5 })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: LIMITS.tag }), { maxItems: LIMITS.tags })),
    after: Type.Optional(Type.Integer({ minimum: 0, description: "Resume after this event id (or send Last-Event-ID)" })),
  },
  { additionalProperties: false },
);

export const ChunkAppendBody = Type.Object(
  {
    chunks: Type.Array(Type.Object({ message_type: Type.String() }, { additionalProperties: true }), {
      minItems: 1,
      maxItems: 1000,
      description: "Stream chunks in LettaMessage shape (e.g. partial assistant_message content)",
    }),
  },
  { additionalProperties: false },
);

export const StoredEvent = Type.Object({ seq_id: Type.Integer(), run_id: Type.String(), kind: Type.String(), event: JsonObject });
