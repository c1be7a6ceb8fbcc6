package login_test

import (
	"os"
	"testing"

	"github.com/autho/autho/internal/testskip"
)

// TestMain ends the run with one line saying how many tests skipped for
// want of PostgreSQL, and how to run them.
func TestMain(m *testing.M) { os.Exit(testskip.Main(m)) }
