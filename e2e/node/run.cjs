'use strict';
// Drives the official `openai` npm client under one real OpenTelemetry GenAI
// instrumentation and exports what it records over OTLP/HTTP (protobuf) to
// `observatory run`. Started by e2e/genai_npm_test.go:
//
//   node run.cjs <otel|openinference|traceloop>
//
// Environment (set by the test):
//   OPENAI_BASE_URL, OPENAI_API_KEY        the fake OpenAI server
//   OTEL_EXPORTER_OTLP_ENDPOINT            http://host:port of observatory's OTLP/HTTP
//   OTEL_EXPORTER_OTLP_HEADERS             x-api-key=<key>
//   OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true
//                                          content capture of @opentelemetry/instrumentation-openai
//
// It makes one chat completion and one streamed chat completion (usage
// requested), each under a root span of its own, and prints
// {"chat": "<trace id>", "stream": "<trace id>", ...} on stdout.

const which = process.argv[2];
const instrumentations = {
  // Content as log records (<= 1.36 events), not on the span.
  otel: () => new (require('@opentelemetry/instrumentation-openai').OpenAIInstrumentation)(),
  // llm.*, input.value / output.value, llm.input_messages.N.*.
  openinference: () => new (require('@arizeai/openinference-instrumentation-openai').OpenAIInstrumentation)(),
  // Current OTel GenAI attributes (gen_ai.input.messages ...).
  traceloop: () => new (require('@traceloop/instrumentation-openai').OpenAIInstrumentation)(),
};
if (!instrumentations[which]) {
  console.error(`usage: node run.cjs <${Object.keys(instrumentations).join('|')}>`);
  process.exit(2);
}

const { trace, diag, DiagConsoleLogger, DiagLogLevel } = require('@opentelemetry/api');
const { logs } = require('@opentelemetry/api-logs');
const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');

diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN);

const resource = resourceFromAttributes({
  'service.name': `npm-${which}`,
  'deployment.environment.name': 'e2e',
});
const tracerProvider = new NodeTracerProvider({
  resource,
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
});
tracerProvider.register();
const loggerProvider = new LoggerProvider({
  resource,
  processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter() })],
});
logs.setGlobalLoggerProvider(loggerProvider);

// The instrumentation patches `openai` when it is loaded: register first.
registerInstrumentations({
  instrumentations: [instrumentations[which]()],
  tracerProvider,
  loggerProvider,
});
const OpenAI = require('openai');

async function main() {
  const client = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });
  const tracer = trace.getTracer('observatory-e2e');
  const out = { instrumentation: which };

  await tracer.startActiveSpan('ask capital', async (root) => {
    out.chat = root.spanContext().traceId;
    const r = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Capital of France?' },
      ],
    });
    out.chatAnswer = r.choices[0].message.content;
    root.end();
  });

  await tracer.startActiveSpan('say hello', async (root) => {
    out.stream = root.spanContext().traceId;
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'Say hello' }],
    });
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    out.streamAnswer = text;
    root.end();
  });

  // Spans first, then the log records: content arrives after its span
  // (the processor holds the span for it).
  await tracerProvider.shutdown();
  await loggerProvider.shutdown();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
