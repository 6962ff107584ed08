/** Path parameters the routes share. The services check the ids' format (400 when malformed). */
import { Type } from "typebox";

export const RunParams = Type.Object({ run_id: Type.String({ description: "run-<uuid v4>" }) });
export const RunStepParams = Type.Object({ run_id: Type.String({ description: "run-<uuid v4>" }), step_id: Type.String({ description: "step-<uuid v4>" }) });
export const StepParams = Type.Object({ step_id: Type.String({ description: "step-<uuid v4>" }) });
export const AgentParams = Type.Object({ agent_id: Type.String({ description: "agent-<uuid v4>" }) });
