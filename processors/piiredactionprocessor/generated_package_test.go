// Written in the layout mdatagen generates (see doc.go).

package piiredactionprocessor

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
