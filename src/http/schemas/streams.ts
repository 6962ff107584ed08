import { Type } from "typebox";
import { JsonObject } from "../../core/schemas/common.js";

export const StoredEvent = Type.Object({ seq_id: Type.Integer(), run_id: Type.String(), kind: Type.String(), event: JsonObject });
