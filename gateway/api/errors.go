package api

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error types and codes OpenAI uses.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAuthentication = "authentication_error"
	TypePermission     = "permission_error"
	TypeRateLimit      = "rate_limit_error"
	TypeServer         = "server_error"
	TypeTimeout        = "timeout_error"

	CodeInvalidAPIKey     = "invalid_api_key"
	CodeModelNotFound     = "model_not_found"
	CodeRateLimitExceeded = "rate_limit_exceeded"
	CodeRequestTooLarge   = "request_too_large"
	CodeUnknownParameter  = "unknown_parameter"
	CodeInsufficientScope = "insufficient_scope"
)

// Error is an OpenAI-shaped error with the HTTP status it is sent with.
type Error struct {
	Status  int     `json:"-"`
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message)
}

// Envelope is the JSON body of an error response.
type Envelope struct {
	Error *Error `json:"error"`
}

// Marshal returns the JSON body of e.
func (e *Error) Marshal() []byte {
	b, err := json.Marshal(Envelope{Error: e})
	if err != nil { // cannot happen: only strings
		return []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
	}
	return b
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// NewError builds an Error; empty param and code become JSON null.
func NewError(status int, typ, code, param, format string, args ...any) *Error {
	return &Error{Status: status, Type: typ, Code: strp(code), Param: strp(param), Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 invalid_request_error.
func BadRequest(param, code, format string, args ...any) *Error {
	return NewError(http.StatusBadRequest, TypeInvalidRequest, code, param, format, args...)
}
