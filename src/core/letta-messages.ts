/**
 * Letta's LettaMessage union, discriminated by message_type. Producers post messages in
 * this shape; the ledger validates the fields each type requires and stores the body as
 * given, adding id, run_id, date and seq_id.
 */
import { isId } from "./ids.js";

export const MESSAGE_TYPES = [
  "system_message",
  "user_message",
  "assistant_message",
  "reasoning_message",
  "hidden_reasoning_message",
  "tool_call_message",
  "tool_return_message",
  "approval_request_message",
  "approval_response_message",
  "summary_message",
  "event_message",
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export type LettaMessage = {
  id: string;
  message_type: MessageType;
  date: string;
  run_id: string;
  step_id: string | null;
  seq_id: number;
  [field: string]: unknown;
};

type Check = (body: Record<string, unknown>, at: string, problems: string[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const stringOrParts = (field: string): Check => (body, at, problems) => {
  const v = body[field];
  if (typeof v !== "string" && !Array.isArray(v)) problems.push(`${at}.${field} is required: a string or an array of content parts`);
};

const requiredString = (field: string): Check => (body, at, problems) => {
  if (typeof body[field] !== "string") problems.push(`${at}.${field} is required and must be a string`);
};

const oneOfValues = (field: string, values: readonly string[]): Check => (body, at, problems) => {
  if (!values.includes(body[field] as string)) problems.push(`${at}.${field} must be one of ${values.join(", ")}`);
};

const toolCallShape: Check = (body, at, problems) => {
  const single = body.tool_call;
  const many = body.tool_calls;
  if (single === undefined && (many === undefined || many === null)) {
    problems.push(`${at} needs tool_call (an object with name and arguments) or tool_calls (an array of them)`);
    return;
  }
  if (single !== undefined && !isObject(single)) problems.push(`${at}.tool_call must be an object`);
  if (many !== undefined && many !== null && !Array.isArray(many) && !isObject(many)) {
    problems.push(`${at}.tool_calls must be an array of tool calls`);
  }
};

const TYPE_CHECKS: { readonly [t in MessageType]: readonly Check[] } = {
  system_message: [requiredString("content")],
  user_message: [stringOrParts("content")],
  assistant_message: [stringOrParts("content")],
  reasoning_message: [requiredString("reasoning")],
  hidden_reasoning_message: [oneOfValues("state", ["redacted", "omitted"])],
  tool_call_message: [toolCallShape],
  tool_return_message: [
    requiredString("tool_return"),
    requiredString("tool_call_id"),
    oneOfValues("status", ["success", "error"]),
  ],
  approval_request_message: [toolCallShape],
  approval_response_message: [],
  summary_message: [requiredString("summary")],
  event_message: [
    requiredString("event_type"),
    (body, at, problems) => {
      if (!isObject(body.event_data)) problems.push(`${at}.event_data is required and must be an object`);
    },
  ],
};

const COMMON_OPTIONAL_STRINGS = ["name", "otid", "sender_id"] as const;

/** The fields the server owns; a producer's values for them are replaced. */
const SERVER_FIELDS = ["run_id", "seq_id"] as const;

export type MessageInput = Record<string, unknown>;

/**
 * Validates one posted message and returns its body without server-owned fields, or
 * pushes human-readable problems (prefixed with `at`) and returns undefined.
 */
export function validateMessage(input: unknown, at: string, problems: string[]): MessageInput | undefined {
  if (!isObject(input)) {
    problems.push(`${at} must be a JSON object with a message_type`);
    return undefined;
  }
  const before = problems.length;
  const type = input.message_type;
  if (typeof type !== "string" || !(MESSAGE_TYPES as readonly string[]).includes(type)) {
    problems.push(`${at}.message_type '${String(type)}' is not one of ${MESSAGE_TYPES.join(", ")}`);
    return undefined;
  }
  for (const check of TYPE_CHECKS[type as MessageType]) check(input, at, problems);
  if (input.id !== undefined && input.id !== null && !isId("message", input.id)) {
    problems.push(`${at}.id '${String(input.id)}' is not a message id ('message-' followed by a lowercase UUID v4); omit it to let the server assign one`);
  }
  if (input.step_id !== undefined && input.step_id !== null && !isId("step", input.step_id)) {
    problems.push(`${at}.step_id '${String(input.step_id)}' is not a step id ('step-' followed by a lowercase UUID v4)`);
  }
  if (input.date !== undefined && input.date !== null && (typeof input.date !== "string" || Number.isNaN(Date.parse(input.date)))) {
    problems.push(`${at}.date must be an ISO 8601 timestamp`);
  }
  if (input.is_err !== undefined && input.is_err !== null && typeof input.is_err !== "boolean") {
    problems.push(`${at}.is_err must be a boolean`);
  }
  for (const field of COMMON_OPTIONAL_STRINGS) {
    const v = input[field];
    if (v !== undefined && v !== null && typeof v !== "string") problems.push(`${at}.${field} must be a string`);
  }
  if (problems.length > before) return undefined;
  const body: MessageInput = { ...input };
  for (const field of SERVER_FIELDS) delete body[field];
  return body;
}

/** Names of the tools a message calls (tool calls and approval requests). */
export function toolNames(message: MessageInput): string[] {
  if (message.message_type !== "tool_call_message" && message.message_type !== "approval_request_message") return [];
  const names: string[] = [];
  const collect = (call: unknown) => {
    if (isObject(call) && typeof call.name === "string" && call.name.length > 0) names.push(call.name);
  };
  collect(message.tool_call);
  if (Array.isArray(message.tool_calls)) message.tool_calls.forEach(collect);
  else collect(message.tool_calls);
  return names;
}
