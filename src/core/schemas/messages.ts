/** Appending LettaMessages and listing them. Each message's type-specific fields are checked in `letta-messages.ts`. */
import { Type } from "typebox";
import { MESSAGE_TYPES } from "../letta-messages.js";
import { LIMITS } from "../validate.js";
import { PageQuery, StringEnum } from "./common.js";

export const MessageTypeSchema = StringEnum(MESSAGE_TYPES);

export const MessageAppendSchema = Type.Object(
  {
    messages: Type.Array(Type.Object({ message_type: MessageTypeSchema }, { additionalProperties: true }), {
      minItems: 1,
      maxItems: LIMITS.messagesPerBatch,
      description: "LettaMessages in order; id, date and seq_id are assigned when absent",
    }),
  },
  { additionalProperties: false },
);

export const MessageListSchema = Type.Object(
  {
    ...PageQuery,
    order_by: Type.Optional(StringEnum(["created_at"] as const)),
    message_types: Type.Optional(Type.Array(MessageTypeSchema, { maxItems: MESSAGE_TYPES.length })),
  },
  { additionalProperties: false },
);
