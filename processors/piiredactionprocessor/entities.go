package piiredactionprocessor

import (
	"strconv"
	"strings"
)

// entityType indexes the entity registry: the built-in types first, then
// custom_entities in configuration order.
type entityType uint8

const (
	entEmail entityType = iota
	entPhone
	entCard
	entIBAN
	entSSN
	entIP
	entSecret
	numBuiltinEntities
)

// maxEntityTypes bounds built-in plus custom types (entityType is a byte).
const maxEntityTypes = 64

var builtinEntityNames = [numBuiltinEntities]string{
	entEmail:  "email",
	entPhone:  "phone",
	entCard:   "credit_card",
	entIBAN:   "iban",
	entSSN:    "us_ssn",
	entIP:     "ip_address",
	entSecret: "secret",
}

// builtinPriority decides overlaps: the finding with the higher priority
// wins (custom types rank just below secrets).
var builtinPriority = [numBuiltinEntities]uint8{
	entSecret: 9,
	entCard:   7,
	entIBAN:   7,
	entSSN:    6,
	entEmail:  5,
	entPhone:  4,
	entIP:     3,
}

const customPriority = 8

func builtinByName(name string) int {
	for i, n := range builtinEntityNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Span and log record attributes written by the processor.
const (
	attrPIIPrefix = "observatory.pii."
	attrPIIMode   = "observatory.pii.mode"
)

// registry describes every entity type of one processor.
type registry struct {
	names    []string // config name: email, credit_card, employee_id
	upper    []string // placeholder stem: EMAIL, CREDIT_CARD, EMPLOYEE_ID
	attrKeys []string // observatory.pii.<name>
	priority []uint8
}

func newRegistry(custom []CustomEntityConfig) *registry {
	r := &registry{}
	add := func(name string, prio uint8) {
		r.names = append(r.names, name)
		r.upper = append(r.upper, strings.ToUpper(name))
		r.attrKeys = append(r.attrKeys, attrPIIPrefix+name)
		r.priority = append(r.priority, prio)
	}
	for i, n := range builtinEntityNames {
		add(n, builtinPriority[i])
	}
	for _, c := range custom {
		add(c.Name, customPriority)
	}
	return r
}

func (r *registry) len() int { return len(r.names) }

// finding is one entity in a string: bytes [start, end) of type typ.
type finding struct {
	start, end int
	typ        entityType
}

// redactedPlaceholder is <TYPE_n>.
func redactedPlaceholder(upper string, n int) string {
	return "<" + upper + "_" + strconv.Itoa(n) + ">"
}
