import { Type } from "typebox";
import { MESSAGE_TYPES } from "../../core/letta-messages.js";
import { LIMITS } from "../../core/validate.js";
import { PageQuery, StringEnum } from "./common.js";

/** A LettaMessage: common fields plus the fields of its message_type (validated by the service). */
export const LettaMessage = Type.Object(
  {
    id: Type.String(),
    message_type: StringEnum(MESSAGE_TYPES),
    date: Type.String(),
    run_id: Type.String(),
    step_id: Type.Union([Type.String(), Type.Null()]),
    seq_id: Type.Integer(),
  },
  { $id: "LettaMessage", additionalProperties: true },
);

export const MessageAppendBody = Type.Object(
  {
    messages: Type.Array(Type.Object({ message_type: StringEnum(MESSAGE_TYPES) }, { additionalProperties: true }), {
      minItems: 1,
      maxItems: LIMITS.messagesPerBatch,
      description: "LettaMessages in order; id, date and seq_id are assigned when absent",
    }),
  },
  { additionalProperties: false },
);

export const MessageListQuery = Type.Object(
  {
    ...PageQuery,
    order_by: Type.Optional(StringEnum(["created_at"] as const)),
    message_types: Type.Optional(Type.Array(StringEnum(MESSAGE_TYPES), { maxItems: MESSAGE_TYPES.length })),
  },
  { additionalProperties: false },
);
