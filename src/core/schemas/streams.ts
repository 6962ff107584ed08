/** Following runs' event streams, and producers' raw stream chunks. */
import { Type } from "typebox";
import { RUN_EVENT_KINDS } from "../model.js";
import { RUN_STATUSES } from "../run-lifecycle.js";
import { LIMITS } from "../validate.js";
import { Nullable, StringEnum } from "./common.js";
import { RunStatusSchema } from "./runs.js";

export const RunEventKindSchema = StringEnum(RUN_EVENT_KINDS);

/** Letta's stream request; agent_id, otid and run_id are accepted for compatibility and ignored. */
export const RunStreamSchema = Type.Object(
  {
    starting_after: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: LIMITS.int64, description: "Replay events after this seq_id, then follow live" }))),
    include_pings: Type.Optional(Nullable(Type.Boolean({ description: "Send a ping message about every 20 s" }))),
    poll_interval: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 60, description: "Seconds between re-reads when no notice arrives" }))),
    batch_size: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 1000 }))),
    agent_id: Type.Optional(Nullable(Type.String())),
    otid: Type.Optional(Nullable(Type.String())),
    run_id: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: false },
);

export const RunEventsSchema = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.int64, description: "Resume after this seq_id (or send Last-Event-ID)" })),
    kinds: Type.Optional(Type.Array(RunEventKindSchema, { maxItems: RUN_EVENT_KINDS.length })),
  },
  { additionalProperties: false },
);

export const OrganizationEventsSchema = Type.Object(
  {
    agent_id: Type.Optional(Type.Array(Type.String(), { maxItems: LIMITS.pageMax })),
    statuses: Type.Optional(Type.Array(RunStatusSchema, { maxItems: RUN_STATUSES.length })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.tag }), { maxItems: LIMITS.tags })),
    after: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.int64, description: "Resume after this event id (or send Last-Event-ID)" })),
  },
  { additionalProperties: false },
);

export const ChunkAppendSchema = Type.Object(
  {
    chunks: Type.Array(Type.Object({ message_type: Type.String() }, { additionalProperties: true }), {
      minItems: 1,
      maxItems: 1000,
      description: "Stream chunks in LettaMessage shape (e.g. partial assistant_message content)",
    }),
  },
  { additionalProperties: false },
);
