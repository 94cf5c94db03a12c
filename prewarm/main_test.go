package prewarm

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/stemcell-io/stemcell/internal/enginetest"
)

func TestMain(m *testing.M) {
	// enginetest.Main removes the engine tests' image and closes the
	// engine client before goleak looks.
	code := enginetest.Main(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
