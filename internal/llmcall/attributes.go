package llmcall

// Attribute keys of the canonical shape. The genai processor writes these
// onto every span; FromSpan reads only these.
const (
	// Tenant, on the resource. Stamped from the API key by the collector.
	AttrOrgID     = "observatory.org.id"
	AttrProjectID = "observatory.project.id"
	// AttrEndpoint names the product feature; falls back to service.name.
	AttrEndpoint = "observatory.endpoint"

	AttrServiceName    = "service.name"
	AttrEnvironment    = "deployment.environment.name"
	AttrEnvironmentOld = "deployment.environment"

	AttrOperation          = "gen_ai.operation.name"
	AttrProvider           = "gen_ai.provider.name"
	AttrRequestModel       = "gen_ai.request.model"
	AttrResponseModel      = "gen_ai.response.model"
	AttrConversationID     = "gen_ai.conversation.id"
	AttrSessionID          = "session.id"
	AttrUserID             = "user.id"
	AttrEndUserID          = "enduser.id"
	AttrInputTokens        = "gen_ai.usage.input_tokens"
	AttrOutputTokens       = "gen_ai.usage.output_tokens"
	AttrTotalTokens        = "observatory.usage.total_tokens"
	AttrCacheReadTokens    = "gen_ai.usage.cache_read.input_tokens"
	AttrCacheWriteTokens   = "gen_ai.usage.cache_write.input_tokens"
	AttrReasoningTokens    = "gen_ai.usage.reasoning.output_tokens"
	AttrFinishReasons      = "gen_ai.response.finish_reasons"
	AttrTimeToFirstChunk   = "gen_ai.response.time_to_first_chunk"
	AttrInputMessages      = "gen_ai.input.messages"
	AttrOutputMessages     = "gen_ai.output.messages"
	AttrSystemInstructions = "gen_ai.system_instructions"
	AttrErrorType          = "error.type"
	AttrHTTPStatus         = "http.response.status_code"

	AttrCostInput        = "observatory.cost.input_usd"
	AttrCostOutput       = "observatory.cost.output_usd"
	AttrCostTotal        = "observatory.cost.total_usd"
	AttrCostSource       = "observatory.cost.source"
	AttrUnpriced         = "observatory.cost.unpriced"
	AttrSourceConvention = "observatory.source_convention"
)
