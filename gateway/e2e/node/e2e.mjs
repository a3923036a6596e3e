// Drives an LLM Observatory gateway with the official openai npm client
// and prints one JSON line of what it saw. Environment:
//   GATEWAY_URL   base URL including /v1
//   GATEWAY_KEY   a project key with the gateway scope
//   LIMITED_KEY   a key whose requests/min limit is 1
//   TRACEPARENT   a W3C traceparent to send with the traced call
import OpenAI from "openai";

const baseURL = process.env.GATEWAY_URL;
const apiKey = process.env.GATEWAY_KEY;
const out = {};

function errInfo(e) {
  return {
    name: e?.constructor?.name,
    isAPIError: e instanceof OpenAI.APIError,
    isAuth: e instanceof OpenAI.AuthenticationError,
    isNotFound: e instanceof OpenAI.NotFoundError,
    isRateLimit: e instanceof OpenAI.RateLimitError,
    status: e?.status,
    code: e?.code ?? e?.error?.code,
    type: e?.type ?? e?.error?.type,
    retryAfter: e?.headers?.get ? e.headers.get("retry-after") : e?.headers?.["retry-after"],
    requestID: e?.requestID ?? e?.request_id,
  };
}

const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });

// 1. Chat.
const chat = await client.chat.completions
  .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Say hello" }] }, { headers: { "x-request-id": "node-chat-1" } })
  .withResponse();
out.chat = {
  content: chat.data.choices[0].message.content,
  finish: chat.data.choices[0].finish_reason,
  usage: chat.data.usage,
  requestID: chat.response.headers.get("x-request-id"),
};

// 2. Streaming chat with usage.
const stream = await client.chat.completions.create({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Stream please" }],
  stream: true,
  stream_options: { include_usage: true },
});
let text = "";
let usage = null;
let chunks = 0;
for await (const c of stream) {
  chunks++;
  if (c.usage) usage = c.usage;
  for (const ch of c.choices) text += ch.delta?.content ?? "";
}
out.stream = { text, usage, chunks };

// 3. Embeddings, the SDK's default path (base64 on the wire, floats for us).
const emb = await client.embeddings.create({ model: "text-embedding-3-small", input: ["hello", "world"] });
out.embeddings = { count: emb.data.length, dims: emb.data[0].embedding.length, first: emb.data[0].embedding[0], usage: emb.usage };

// 4. A wrong key.
try {
  await new OpenAI({ baseURL, apiKey: "obs_thisisnotavalidkeyatall000000000000", maxRetries: 0 }).chat.completions.create({
    model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }],
  });
  out.wrongKey = { ok: true };
} catch (e) {
  out.wrongKey = errInfo(e);
}

// 5. An unknown model.
try {
  await client.chat.completions.create({ model: "gpt-does-not-exist", messages: [{ role: "user", content: "x" }] });
  out.unknownModel = { ok: true };
} catch (e) {
  out.unknownModel = errInfo(e);
}

// 6. A rate-limited key: the second call in a minute is refused.
const limited = new OpenAI({ baseURL, apiKey: process.env.LIMITED_KEY, maxRetries: 0 });
out.rateLimited = { calls: [] };
for (let i = 0; i < 2; i++) {
  try {
    await limited.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    out.rateLimited.calls.push({ ok: true });
  } catch (e) {
    out.rateLimited.calls.push(errInfo(e));
  }
}

// 7. A call inside the caller's trace.
const traced = await client.chat.completions.create(
  { model: "gpt-4o-mini", messages: [{ role: "user", content: "traced" }] },
  { headers: { traceparent: process.env.TRACEPARENT } },
);
out.traced = { id: traced.id };

console.log(JSON.stringify(out));
