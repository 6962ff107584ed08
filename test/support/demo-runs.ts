/**
 * Realistic runs written through the public HTTP API, as a producer would write them: steps
 * with models, tokens and timings, every kind of message, failures with error details, tags
 * and callback URLs. Used by the dashboard tests and its benchmark.
 */
export interface ApiCaller {
  (method: string, path: string, body?: unknown): Promise<unknown>;
}

export function apiCaller(baseUrl: string, key: string): ApiCaller {
  return async (method, path, body) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return text === "" ? undefined : JSON.parse(text);
  };
}

export const MESSAGE_KINDS = [
  { message_type: "system_message", content: "You are a support agent. Answer briefly." },
  { message_type: "user_message", content: "What's the weather in Lisbon, and should I bring an umbrella?" },
  { message_type: "reasoning_message", reasoning: "The user wants the forecast. I should call get_weather for Lisbon." },
  { message_type: "tool_call_message", tool_call: { name: "get_weather", arguments: '{"city":"Lisbon","units":"metric","days":2}', tool_call_id: "call_1" } },
  { message_type: "tool_return_message", tool_return: '{"today":{"high":19,"rain_mm":4.2},"tomorrow":{"high":21,"rain_mm":0}}', tool_call_id: "call_1", status: "success" },
  { message_type: "approval_request_message", tool_call: { name: "send_email", arguments: '{"to":"ana@example.com","subject":"Forecast"}', tool_call_id: "call_2" } },
  { message_type: "approval_response_message", approve: true, reason: "fine to send" },
  { message_type: "hidden_reasoning_message", state: "redacted" },
  { message_type: "assistant_message", content: "Lisbon: 19 °C with light rain today (4 mm), dry and 21 °C tomorrow. Bring an umbrella today." },
] as const;

export interface DemoRunOptions {
  agentId: string;
  steps?: number;
  /** Messages beyond the nine kinds above (assistant messages, some long). */
  extraMessages?: number;
  end?: "completed" | "failed" | "cancelled" | "running";
  tags?: string[];
  callbackUrl?: string;
  failStep?: number;
}

/** One run from creation to its end, with steps and messages; returns its id. */
export async function writeDemoRun(call: ApiCaller, options: DemoRunOptions): Promise<string> {
  const run = (await call("POST", "/v1/runs", {
    agent_id: options.agentId,
    tags: options.tags ?? ["demo"],
    metadata: { customer: "acme", ticket: 4711 },
    request_config: { model: "gpt-4o", temperature: 0.2, max_steps: 20 },
    ...(options.callbackUrl === undefined ? {} : { callback_url: options.callbackUrl }),
  })) as { id: string };
  await call("PATCH", `/v1/runs/${run.id}`, { status: "running" });
  const stepCount = options.steps ?? 3;
  const stepIds: string[] = [];
  for (let i = 0; i < stepCount; i++) {
    const failed = options.failStep === i;
    const step = (await call("POST", `/v1/runs/${run.id}/steps`, {
      model: i % 3 === 2 ? "claude-sonnet-4" : "gpt-4o",
      provider_name: i % 3 === 2 ? "anthropic" : "openai",
      prompt_tokens: 800 + i * 37,
      completion_tokens: 40 + (i % 7) * 11,
      cached_input_tokens: 512,
      reasoning_tokens: i % 2 === 0 ? 24 : null,
    })) as { id: string };
    stepIds.push(step.id);
    await call("PATCH", `/v1/runs/${run.id}/steps/${step.id}`, {
      status: failed ? "failed" : "success",
      llm_request_ns: 520e6 + (i % 5) * 40e6,
      tool_execution_ns: i % 2 === 0 ? 210e6 : 0,
      step_ns: 850e6,
      ...(failed ? { error_type: "llm_api_error", error_data: { status: 529, message: "overloaded" } } : {}),
    });
  }
  const messages: Record<string, unknown>[] = MESSAGE_KINDS.map((m, i) => ({ ...m, step_id: stepIds[i % Math.max(1, stepIds.length)] }));
  for (let i = 0; i < (options.extraMessages ?? 0); i++) {
    const long = i % 50 === 7;
    messages.push({ message_type: "assistant_message", content: long ? `Message ${i}: ${"a long paragraph of output. ".repeat(80)}` : `Message ${i} of the conversation` });
  }
  for (let i = 0; i < messages.length; i += 1000) await call("POST", `/v1/runs/${run.id}/messages`, { messages: messages.slice(i, i + 1000) });
  if (options.end === "running") return run.id;
  if (options.end === "cancelled") await call("POST", `/v1/runs/${run.id}/cancel`, {});
  else if (options.end === "failed") {
    await call("PATCH", `/v1/runs/${run.id}`, {
      status: "failed",
      stop_reason: "llm_api_error",
      ttft_ns: 410e6,
      error: { type: "llm_api_error", message: "the provider answered 529 (overloaded) three times", details: { provider: "openai", attempts: 3 } },
    });
  } else await call("PATCH", `/v1/runs/${run.id}`, { status: "completed", stop_reason: "end_turn", ttft_ns: 380e6 });
  return run.id;
}
