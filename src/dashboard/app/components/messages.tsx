/**
 * A run's messages, each rendered by its type (Letta's LettaMessage union). A message whose
 * type is unknown, or whose fields are not what its type needs, is shown as its raw JSON:
 * nothing ever renders blank. Long bodies are folded; the list renders only what is on
 * screen and reads the next page as the reader nears the end.
 */
import type { ComponentChildren } from "preact";
import { formatFullTime, formatTime, prettyJson, shortId } from "../format.js";
import type { RunData } from "../run-data.js";
import type { LettaMessage } from "../types.js";
import { Collapsible } from "./collapsible.js";
import { VirtualList } from "./virtual-list.js";

const LABELS: Record<string, string> = {
  system_message: "System",
  user_message: "User",
  assistant_message: "Assistant",
  reasoning_message: "Reasoning",
  hidden_reasoning_message: "Hidden reasoning",
  tool_call_message: "Tool call",
  tool_return_message: "Tool return",
  approval_request_message: "Approval request",
  approval_response_message: "Approval response",
  summary_message: "Summary",
  event_message: "Event",
};

/** Thrown by a renderer when the message lacks what its type needs; the raw JSON is shown instead. */
class Unrenderable extends Error {}

function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    return value
      .map((part) => {
        if (typeof part === "string") return part;
        if (part !== null && typeof part === "object" && typeof (part as { text?: unknown }).text === "string") return (part as { text: string }).text;
        return prettyJson(part);
      })
      .join("\n");
  }
  throw new Unrenderable();
}

function Text({ value, label }: { value: string; label: string }) {
  return (
    <Collapsible lines={value.split("\n").length + Math.floor(value.length / 160)} label={label}>
      <div class="text">{value}</div>
    </Collapsible>
  );
}

function Code({ value, label }: { value: string; label: string }) {
  return (
    <Collapsible lines={value.split("\n").length} label={label}>
      <pre class="json">{value}</pre>
    </Collapsible>
  );
}

interface ToolCall {
  name?: unknown;
  arguments?: unknown;
  tool_call_id?: unknown;
}

function toolCalls(message: LettaMessage): ToolCall[] {
  const many = message.tool_calls;
  const calls: unknown[] = Array.isArray(many) ? [...many] : many !== undefined && many !== null ? [many] : [];
  if (message.tool_call !== undefined && message.tool_call !== null) calls.unshift(message.tool_call);
  if (calls.length === 0 || calls.some((c) => c === null || typeof c !== "object")) throw new Unrenderable();
  return calls as ToolCall[];
}

function Calls({ calls }: { calls: readonly ToolCall[] }) {
  return (
    <>
      {calls.map((call, i) => (
        <div key={i} class="tool-call">
          <div>
            <span class="tool-name">{typeof call.name === "string" ? call.name : "(unnamed tool)"}</span>
            {typeof call.tool_call_id === "string" && <span class="muted mono"> {call.tool_call_id}</span>}
          </div>
          {call.arguments !== undefined && <Code value={prettyJson(call.arguments)} label="arguments" />}
        </div>
      ))}
    </>
  );
}

function body(message: LettaMessage): ComponentChildren {
  switch (message.message_type) {
    case "system_message":
    case "user_message":
    case "assistant_message":
      return <Text value={text(message.content)} label="message" />;
    case "reasoning_message":
      return <Text value={text(message.reasoning)} label="reasoning" />;
    case "hidden_reasoning_message":
      return <p class="muted">Reasoning {String(message.state ?? "hidden")} by the provider.</p>;
    case "tool_call_message":
    case "approval_request_message":
      return <Calls calls={toolCalls(message)} />;
    case "tool_return_message": {
      if (typeof message.tool_return !== "string") throw new Unrenderable();
      const status = String(message.status ?? "");
      return (
        <>
          <div>
            <span class={`badge ${status === "error" ? "status-failed" : "status-completed"}`}>{status || "returned"}</span>
            {typeof message.tool_call_id === "string" && <span class="muted mono"> {message.tool_call_id}</span>}
          </div>
          <Code value={prettyJson(message.tool_return)} label="tool return" />
          {Array.isArray(message.stderr) && message.stderr.length > 0 && <Code value={message.stderr.join("\n")} label="stderr" />}
        </>
      );
    }
    case "approval_response_message": {
      const approve = message.approve;
      return (
        <p>
          {approve === true ? "Approved" : approve === false ? "Denied" : "Answered"}
          {typeof message.reason === "string" && message.reason !== "" ? `: ${message.reason}` : ""}
          {approve === undefined && <Code value={prettyJson(message)} label="message" />}
        </p>
      );
    }
    case "summary_message":
      return <Text value={text(message.summary)} label="summary" />;
    case "event_message":
      return (
        <>
          <div class="tool-name">{String(message.event_type)}</div>
          <Code value={prettyJson(message.event_data)} label="event data" />
        </>
      );
    default:
      throw new Unrenderable();
  }
}

function Message({ message }: { message: LettaMessage }) {
  let rendered: ComponentChildren;
  let raw = false;
  try {
    rendered = body(message);
  } catch {
    raw = true;
    rendered = <Code value={prettyJson(message)} label="message" />;
  }
  const type = typeof message.message_type === "string" ? message.message_type : "unknown";
  return (
    <article class={`message type-${type}${message.is_err === true ? " is-err" : ""}`} aria-label={`${LABELS[type] ?? type} message ${message.seq_id}`}>
      <header>
        <span class="message-type">{LABELS[type] ?? type}</span>
        {raw && <span class="muted"> (shown as raw JSON)</span>}
        <span class="muted"> #{message.seq_id}</span>
        {typeof message.name === "string" && <span class="muted"> · {message.name}</span>}
        {message.step_id !== null && message.step_id !== undefined && <span class="muted mono" title={String(message.step_id)}> · {shortId(String(message.step_id))}</span>}
        <time class="muted" dateTime={message.date} title={formatFullTime(message.date)}>{formatTime(message.date)}</time>
      </header>
      {rendered}
    </article>
  );
}

function Streaming({ chunks }: { chunks: readonly Record<string, unknown>[] }) {
  const textOf = (c: Record<string, unknown>) => (typeof c.content === "string" ? c.content : typeof c.reasoning === "string" ? c.reasoning : "");
  const output = chunks.map(textOf).join("");
  return (
    <div class="streaming" role="log" aria-label="Streaming output">
      <span class="message-type">Streaming…</span> <span class="muted">{chunks.length} chunks</span>
      <div class="text">{output === "" ? prettyJson(chunks.at(-1)) : output}</div>
    </div>
  );
}

export function MessageList({ data }: { data: RunData }) {
  const { messages } = data;
  if (messages.length === 0 && data.chunks.length === 0) {
    return <p class="empty">{data.loadingMessages ? "Loading messages…" : "No messages."}</p>;
  }
  return (
    <div class="messages">
      <p class="muted" role="status">
        {messages.length.toLocaleString("en-US")} message{messages.length === 1 ? "" : "s"}
        {data.messagesComplete ? "" : data.loadingMessages ? " (loading more…)" : " loaded; more load as you scroll"}
      </p>
      <VirtualList
        class="message-list"
        label="Messages"
        items={messages}
        keyOf={(m) => m.id}
        estimate={96}
        onNearEnd={data.messagesComplete ? undefined : data.loadMoreMessages}
        render={(m) => <Message message={m} />}
      />
      {data.chunks.length > 0 && <Streaming chunks={data.chunks} />}
    </div>
  );
}
