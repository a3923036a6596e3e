// Package api holds the OpenAI wire format the gateway speaks to its
// callers: chat completions (JSON and streamed chunks), embeddings, models
// and the error envelope. Requests are parsed strictly, the way OpenAI
// does: an unknown top-level argument or an unknown key inside a message is
// a 400 that names it. Responses decode leniently so new upstream fields
// never break a call.
//
// The package has no dependency on the rest of the gateway so providers
// and tests can share it.
package api
