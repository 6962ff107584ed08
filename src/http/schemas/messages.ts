import { Type } from "typebox";
import { MessageTypeSchema } from "../../core/schemas/messages.js";

/** A LettaMessage: common fields plus the fields of its message_type (validated by the service). */
export const LettaMessage = Type.Object(
  {
    id: Type.String(),
    message_type: MessageTypeSchema,
    date: Type.String(),
    run_id: Type.String(),
    step_id: Type.Union([Type.String(), Type.Null()]),
    seq_id: Type.Integer(),
  },
  { $id: "LettaMessage", additionalProperties: true },
);
